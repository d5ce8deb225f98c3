"""The small interface the pipeline needs from an LLM, so any client (or a fake) fits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

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
        budget: int | None = None,
    ) -> LLMResult[T]:
        """Return `response_model` parsed from the model's answer, or raise an LLMError.

        `offered`: every tool to show the model, the answer's own among them, in a fixed
        order; calls for different answers then send one prompt prefix, which a server that
        keeps its evaluated prefix (llama.cpp) does not evaluate again. `budget`: tokens
        this call's attempts may spend (what the request has left); no further attempt
        starts past it.
        """
        ...

    async def ping(self) -> bool:
        """True when the backend answers."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...


@dataclass(frozen=True)
class BatchStatus:
    """Where a provider's batch stands."""

    id: str
    status: str  # validating, in_progress, finalizing, completed, failed, expired, cancelled
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None


class BatchProvider(Protocol):
    """A provider's batch engine: submit request lines, see how the batch stands, download."""

    async def submit(self, lines: list[dict[str, Any]], tag: str) -> str:
        """Upload the lines as a JSONL file and create a batch over it, named `tag` in its
        metadata; its id."""
        ...

    async def find(self, tag: str) -> str | None:
        """The id of a batch submitted under `tag`, if the provider holds one."""
        ...

    async def status(self, batch_id: str) -> BatchStatus:
        """The batch as it stands now."""
        ...

    async def download(self, file_id: str) -> str:
        """A result file's text (JSONL)."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...
