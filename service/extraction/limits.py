"""What one request may spend: candidates per article, model calls and tokens per request.

Every cap that cuts says what it cut, and the response carries that in `meta.capped`, so a
client can tell a short answer from a cut one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from schemas.api import Usage
from service.candidates.article import CANDIDATE_LISTS, Article
from service.llm.protocol import LLMResult, StructuredLLM
from service.settings import Settings

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass
class Allowance:
    """One request's caps, what it has spent against them, and what they cut."""

    max_candidates: int
    max_calls: int
    max_tokens: int
    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    refused: dict[str, int] = field(default_factory=dict)
    cut: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, settings: Settings) -> Allowance:
        """The caps the settings give one request."""
        return cls(
            max_candidates=settings.max_candidates,
            max_calls=settings.max_llm_calls,
            max_tokens=settings.token_budget,
        )

    @property
    def tokens_left(self) -> int:
        """Tokens the request may still spend (at least 1: a call's own cap needs one)."""
        return max(1, self.max_tokens - self.usage.total)

    def take_call(self) -> bool:
        """Reserve one model call; False (and the refusal counted) when a cap is reached."""
        if self.calls >= self.max_calls:
            reason = f"NEWSFACTS_MAX_LLM_CALLS={self.max_calls}"
        elif self.usage.total >= self.max_tokens:
            reason = f"NEWSFACTS_TOKEN_BUDGET={self.max_tokens}"
        else:
            self.calls += 1
            return True
        self.refused[reason] = self.refused.get(reason, 0) + 1
        return False

    async def call(
        self,
        llm: StructuredLLM,
        messages: list[dict[str, str]],
        response_model: type[M],
        offered: Sequence[type[BaseModel]] = (),
    ) -> LLMResult[M] | None:
        """One model call within the caps (reserved before, spent after, with what is left
        of the token budget as its own); None when a cap refused it."""
        if not self.take_call():
            return None
        result = await llm.extract(messages, response_model, offered, budget=self.tokens_left)
        self.spend(result)
        return result

    def spend(self, result: LLMResult[object]) -> None:
        """Count a finished call: its tokens, and its retries and re-asks beyond the one
        call reserved."""
        self.usage += result.usage
        self.calls += max(0, result.attempts - 1)

    def cap_candidates(self, article: Article) -> None:
        """Keep the first `max_candidates` of each finder's list, in reading order."""
        for name in CANDIDATE_LISTS:
            found: list[object] = getattr(article, name)
            if len(found) > self.max_candidates:
                self.cut.append(
                    f"{name}: {len(found)} candidates found, the first {self.max_candidates} "
                    "kept (NEWSFACTS_MAX_CANDIDATES)"
                )
                article.keep_first(name, self.max_candidates)

    @property
    def capped(self) -> list[str]:
        """What the caps cut, in words, for `meta.capped`."""
        calls = [
            f"{count} model calls not made: {reason} reached"
            for reason, count in self.refused.items()
        ]
        return [*self.cut, *calls]


@dataclass
class Lanes:
    """How many model calls may be in flight at once: this article's, and every
    request's together (shared by the pipeline)."""

    article: asyncio.Semaphore
    everyone: asyncio.Semaphore

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold a lane of both for one call (waiting in arrival order)."""
        async with self.article, self.everyone:
            yield


async def all_or_none(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Every call's result, run side by side; when one fails, the others are cancelled
    (asyncio.gather would leave them running for an answer nobody reads)."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
