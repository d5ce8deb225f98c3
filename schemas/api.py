"""Request, response and error models of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.facts import NewsFacts

MatchLevel = Literal["exact", "normalized", "fuzzy", "none"]


class ExtractRequest(BaseModel):
    """Body of `POST /extract`."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The article body (plain text).")
    title: str | None = Field(default=None, description="The article's headline, if separate.")
    url: str | None = Field(default=None, description="Where the article was published.")
    prompt: str | None = Field(
        default=None,
        description="Prompt to use as 'name@version'; the service default when omitted.",
        examples=["news_facts@v1"],
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty or only whitespace")
        return value


class Grounding(BaseModel):
    """Where one fact's evidence sits in the submitted text (code-point offsets)."""

    path: str = Field(description="The fact's address, e.g. 'casualties[0]'.")
    start: int | None = Field(description="Start offset of the evidence span, or null.")
    end: int | None = Field(description="End offset (exclusive), so text[start:end] is the span.")
    match: MatchLevel = Field(description="How the evidence was found in the text.")
    checks: list[str] = Field(default_factory=list, description="Failed grounding checks.")


class Usage(BaseModel):
    """Tokens spent, summed over every attempt (retries and re-asks included)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class Meta(BaseModel):
    """How a response was produced."""

    model: str
    prompt: str = Field(description="Prompt used, as 'name@version'.")
    prompt_sha256: str
    schema_version: str
    usage: Usage
    attempts: int = Field(description="LLM calls made: first try, transport retries, re-asks.")
    latency_ms: float


class ExtractResponse(BaseModel):
    """Body of a successful `POST /extract`."""

    article_id: str
    facts: NewsFacts
    grounding: list[Grounding]
    meta: Meta


class ErrorDetail(BaseModel):
    """What went wrong, in words a client can act on."""

    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The one error shape every failure uses."""

    error: ErrorDetail
