"""Request, response and error models of the HTTP API."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.facts import NewsFacts

MatchLevel = Literal["exact", "normalized", "fuzzy", "none"]
UngroundedPolicy = Literal["flag", "drop", "reask"]
RecallPasses = Literal["none", "lists"]
Strategy = Literal["nlp", "llm", "hybrid"]
MAX_TITLE_CHARS = 1000
MAX_URL_CHARS = 2048
MAX_BATCH_ARTICLES = 256  # the schema's ceiling; NEWSFACTS_MAX_BATCH_ITEMS sets the limit
PROMPT_REF = r"^[a-z][a-z0-9_]{0,63}@v[0-9]{1,4}$"
# Whitespace as Python's str.isspace() has it, spelled out: a JSON Schema `\S` is read by
# ECMAScript rules, which count the separators \x1c-\x1f as text (a fuzzer found it).
NOT_SPACE = (
    r"[^\t\n\v\f\r\x1c-\x1f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f"
    r"\u205f\u3000]"
)
_NOT_SPACE = re.compile(NOT_SPACE)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def no_lone_surrogates(value: str | None) -> str | None:
    """The value, unless it holds a lone UTF-16 surrogate (JSON's "\\ud800" with no pair),
    which is no character: it cannot be encoded, hashed or shown."""
    found = _SURROGATE.search(value) if value else None
    if found:
        raise ValueError(
            f"holds a lone UTF-16 surrogate (U+{ord(found.group()):04X}) at offset "
            f"{found.start()}; send valid Unicode"
        )
    return value


class ExtractRequest(BaseModel):
    """Body of `POST /extract`."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        description="The article body (plain text), with at least one non-space character.",
        json_schema_extra={"minLength": 1, "pattern": NOT_SPACE},
    )
    title: str | None = Field(
        default=None, max_length=MAX_TITLE_CHARS, description="The article's headline, if separate."
    )
    url: str | None = Field(
        default=None, max_length=MAX_URL_CHARS, description="Where the article was published."
    )
    prompt: str | None = Field(
        default=None,
        pattern=PROMPT_REF,
        description="Prompt to use as 'name@version'; the service default when omitted.",
        examples=["news_facts@v1"],
    )
    ungrounded: UngroundedPolicy | None = Field(
        default=None,
        description="Facts failing a grounding check: 'flag' keeps them with their failed "
        "checks, 'drop' removes them, 'reask' asks the model once more with the failures as "
        "feedback. The service default (NEWSFACTS_UNGROUNDED) when omitted.",
    )
    recall_passes: RecallPasses | None = Field(
        default=None,
        description="'lists' asks the model once per group of fact lists (entities, events, "
        "quotes) and merges the answers: more facts found, more tokens spent. The service "
        "default (NEWSFACTS_RECALL_PASSES) when omitted. Applies to the 'llm' strategy.",
    )
    strategy: Strategy | None = Field(
        default=None,
        description="'nlp': spaCy alone (names and quotes, no model); 'llm': one structured "
        "call fills every list; 'hybrid': spaCy finds the candidate spans and the LLM labels "
        "them. The service default (NEWSFACTS_STRATEGY) when omitted.",
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not _NOT_SPACE.search(value):
            raise ValueError("text is empty or only whitespace")
        return value

    _valid_unicode = field_validator("text", "title", "url")(no_lone_surrogates)


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

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class CallsAtOnce(BaseModel):
    """The caps on model calls in flight at once."""

    article: int = Field(
        description="This article's calls (NEWSFACTS_ARTICLE_LLM_CALLS on the hybrid "
        "strategy, NEWSFACTS_CHUNK_CONCURRENCY pieces on the llm strategy)."
    )
    every_request: int = Field(description="Every request's calls together (NEWSFACTS_LLM_CALLS).")


class Meta(BaseModel):
    """How a response was produced."""

    model: str = Field(description="The LLM that answered ('none' for the nlp strategy).")
    prompt: str | None = Field(
        description="Prompt used, as 'name@version' (null for the nlp strategy)."
    )
    prompt_sha256: str | None
    strategy: Strategy = Field(default="llm", description="How the facts were extracted.")
    nlp_model: str | None = Field(
        default=None, description="The spaCy pipeline that found the candidates, if any."
    )
    schema_version: str
    usage: Usage
    attempts: int = Field(description="LLM calls made: first try, transport retries, re-asks.")
    ungrounded: UngroundedPolicy = Field(default="flag", description="Grounding policy applied.")
    recall_passes: RecallPasses = Field(default="none", description="Recall passes applied.")
    latency_ms: float
    calls_at_once: CallsAtOnce | None = Field(
        default=None, description="The caps on model calls in flight that applied."
    )
    capped: list[str] = Field(
        default_factory=list,
        description="What the request's caps cut (candidates per article, model calls and "
        "tokens per request), each naming its setting; empty when nothing was cut.",
    )


class DroppedFact(BaseModel):
    """A fact the `drop` policy removed: where it was, why, and the fact itself."""

    path: str = Field(description="The fact's address before dropping, e.g. 'figures[3]'.")
    checks: list[str] = Field(description="The grounding checks it failed.")
    fact: dict[str, Any] = Field(description="The fact as the model gave it.")


class ExtractResponse(BaseModel):
    """Body of a successful `POST /extract`."""

    article_id: str
    facts: NewsFacts
    grounding: list[Grounding]
    dropped: list[DroppedFact] = Field(
        default_factory=list, description="Facts removed by the 'drop' policy, with why."
    )
    meta: Meta


class ErrorDetail(BaseModel):
    """What went wrong, in words a client can act on."""

    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The one error shape every failure uses."""

    error: ErrorDetail


class BatchItemResult(BaseModel):
    """One article of a batch: its result, or the error it would have had from `/extract`."""

    status: int = Field(description="The status `/extract` would have answered: 200 or an error.")
    result: ExtractResponse | None = Field(default=None, description="Set when status is 200.")
    error: ErrorDetail | None = Field(default=None, description="Set when status is not 200.")
    usage: Usage = Field(
        default_factory=Usage, description="Tokens this article spent, failed attempts included."
    )
    latency_ms: float = 0.0


class BatchRequest(BaseModel):
    """Body of `POST /extract/batch`: up to NEWSFACTS_MAX_BATCH_ITEMS `/extract` bodies."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ExtractRequest] = Field(
        description="The articles, each an `/extract` body.",
        min_length=1,
        max_length=MAX_BATCH_ARTICLES,
    )


class BatchResponse(BaseModel):
    """Body of a `POST /extract/batch` that was admitted: one entry per article, in order."""

    results: list[BatchItemResult]
    usage: Usage = Field(description="Tokens over every article.")
    failed: int = Field(description="Articles whose status is not 200.")
