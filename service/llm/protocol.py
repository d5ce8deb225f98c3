"""The small interface the pipeline needs from an LLM, so any client (or a fake) fits."""

from __future__ import annotations

from collections.abc import Sequence
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
        self,
        messages: list[dict[str, str]],
        response_model: type[T],
        offered: Sequence[type[BaseModel]] = (),
    ) -> LLMResult[T]:
        """Return `response_model` parsed from the model's answer, or raise an LLMError.

        `offered`: every tool to show the model, the answer's own among them, in a fixed
        order; calls for different answers then send one prompt prefix, which a server that
        keeps its evaluated prefix (llama.cpp) does not evaluate again.
        """
        ...

    async def ping(self) -> bool:
        """True when the backend answers."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...
