"""The small interface the pipeline needs from an LLM, so any client (or a fake) fits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from schemas.api import Usage

T = TypeVar("T", bound=BaseModel)


@dataclass
class LLMResult(Generic[T]):
    """A validated structured answer and what it cost."""

    value: T
    usage: Usage
    attempts: int


class StructuredLLM(Protocol):
    """Something that turns chat messages into a validated Pydantic object."""

    model_name: str

    async def extract(
        self, messages: list[dict[str, str]], response_model: type[T]
    ) -> LLMResult[T]:
        """Return `response_model` parsed from the model's answer, or raise an LLMError."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...
