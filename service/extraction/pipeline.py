"""The extraction pipeline: admit, render the prompt, ask the LLM, ground the facts."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from schemas.api import (
    CallsAtOnce,
    DroppedFact,
    ExtractRequest,
    ExtractResponse,
    Grounding,
    Meta,
    RecallPasses,
    Strategy,
    Usage,
)
from schemas.facts import SCHEMA_NAME, SCHEMA_VERSION, NewsFacts
from service.candidates.nlp import load_pipeline
from service.candidates.places import gazetteer
from service.errors import (
    DeadlineExceeded,
    InvalidInput,
    LLMError,
    Saturated,
    TextTooLong,
    UnknownPrompt,
)
from service.extraction.chunking import merge_facts, split_text
from service.extraction.grounding import CHECK_EXPLANATIONS, drop_ungrounded, ground, iter_facts
from service.extraction.limits import Allowance, Lanes, all_or_none
from service.extraction.strategies import extract_hybrid, extract_nlp, warm_up_hybrid
from service.llm.protocol import LLMResult, StructuredLLM
from service.prompts import PromptTemplate, fenced, load_prompt
from service.settings import Settings

log = logging.getLogger(__name__)

HYBRID_PROMPT_PREFIX = "hybrid_"
# The `lists` recall passes: one LLM call per group, each group's lists kept from its call.
PASS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("people", "organizations", "locations"),
    ("negotiations", "casualties", "displacement", "attacks", "figures"),
    ("quotes",),
)


def summed(value: NewsFacts, results: list[LLMResult[NewsFacts]]) -> LLMResult[NewsFacts]:
    """`value` billed with the tokens and calls of every result that went into it."""
    return LLMResult(
        value=value,
        usage=sum((r.usage for r in results), Usage()),
        attempts=sum(r.attempts for r in results),
    )


def nothing() -> LLMResult[NewsFacts]:
    """No facts, at no cost: what a call a cap refused contributes."""
    return LLMResult(value=NewsFacts(), usage=Usage(), attempts=0)


def article_id(text: str) -> str:
    """A stable id for an article: the first 16 hex digits of its text's sha256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def prompt_strategy(ref: str) -> Strategy:
    """The strategy a prompt is written for: `hybrid_*` prompts label candidates, the others
    extract every list in one call."""
    return "hybrid" if ref.startswith(HYBRID_PROMPT_PREFIX) else "llm"


class Pipeline:
    """Turns one article into grounded facts; bounded in concurrency, queue and time."""

    def __init__(self, llm: StructuredLLM, settings: Settings) -> None:
        self.llm = llm
        self.settings = settings
        self.nlp = load_pipeline(settings.spacy_model)  # once per process (cached)
        gazetteer(settings.cache_dir)  # the places' index too, not in the first request
        self._slots = asyncio.Semaphore(settings.max_inflight)
        self._calls = asyncio.Semaphore(settings.llm_calls)  # every request's, together
        self._waiting = 0
        self._running = 0

    @property
    def load(self) -> dict[str, int | bool]:
        """What a load balancer's readiness check needs: extractions running and waiting,
        the limits, and whether a new request would be refused (saturated)."""
        return {
            "running": self._running,
            "waiting": self._waiting,
            "max_inflight": self.settings.max_inflight,
            "max_queue": self.settings.max_queue,
            "saturated": self._full(),
        }

    def _full(self) -> bool:
        """Every slot busy and the wait queue full: a new request is refused."""
        return self._slots.locked() and self._waiting >= self.settings.max_queue

    async def warm_up(self) -> float | None:
        """Have the model server evaluate the hybrid prompt's shared prefix now, not in the
        first request; the seconds it took, or None when it failed (logged, not raised:
        the first request then pays for it)."""
        started = time.perf_counter()
        try:
            async with self._admitted():
                await warm_up_hybrid(self.llm, load_prompt(self.settings.hybrid_prompt))
        except LLMError as exc:
            log.warning(
                "warm-up call failed; the first request pays for it", extra={"error": str(exc)}
            )
            return None
        return time.perf_counter() - started

    @asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        """Hold one LLM slot; refuse at once when the wait queue is full."""
        if self._full():
            raise Saturated(
                f"{self.settings.max_inflight} extractions running and "
                f"{self._waiting} waiting; retry later",
                retry_after=5,
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._slots.release()

    def check(self, request: ExtractRequest) -> tuple[Strategy, PromptTemplate | None]:
        """Refuse what no LLM call can fix (text over the limit, unknown prompt, a prompt
        of another strategy); the strategy and its prompt."""
        if len(request.text) > self.settings.max_text_chars:
            raise TextTooLong(
                f"text has {len(request.text)} characters; the limit is "
                f"{self.settings.max_text_chars} (NEWSFACTS_MAX_TEXT_CHARS)"
            )
        # A prompt names its strategy when the request does not ("news_facts@v2": llm).
        implied = prompt_strategy(request.prompt) if request.prompt else None
        strategy = request.strategy or implied or self.settings.strategy
        if strategy == "nlp":
            if request.prompt is not None:
                raise InvalidInput("the nlp strategy uses no prompt; leave out `prompt`")
            return strategy, None
        hybrid = strategy == "hybrid"
        default = self.settings.hybrid_prompt if hybrid else self.settings.default_prompt
        # An empty string names no prompt that exists: refused, not read as "the default".
        ref = default if request.prompt is None else request.prompt
        prompt = load_prompt(ref)
        if prompt_strategy(ref) != strategy:
            kind = "a hybrid" if hybrid else "an llm"
            raise UnknownPrompt(
                f"prompt {ref!r} is not {kind} prompt: the hybrid strategy takes "
                f"{HYBRID_PROMPT_PREFIX}* prompts, the llm strategy the others"
            )
        return strategy, prompt

    async def extract(self, request: ExtractRequest) -> ExtractResponse:
        """Extract, ground and describe the facts of one article, within the request's
        deadline and caps."""
        strategy, prompt = self.check(request)
        policy = request.ungrounded or self.settings.ungrounded
        passes = request.recall_passes or self.settings.recall_passes
        allowance = Allowance.of(self.settings)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.request_timeout_s), self._admitted():
                total = await self._facts(request, strategy, prompt, policy, passes, allowance)
                # Grounding searches the text (fuzzy matching on a long article takes
                # seconds): off the event loop, and inside the deadline.
                grounded = await asyncio.to_thread(self._grounded, total.value, request.text,
                                                   policy)  # fmt: skip
        except TimeoutError:
            raise DeadlineExceeded(
                f"no answer within the {self.settings.request_timeout_s:g} s request deadline "
                "(NEWSFACTS_REQUEST_TIMEOUT_S)"
            ) from None
        facts, grounding, dropped = grounded
        latency_ms = (time.perf_counter() - started) * 1000
        return ExtractResponse(
            article_id=article_id(request.text),
            facts=facts,
            grounding=grounding,
            dropped=dropped,
            meta=Meta(
                model=self.llm.model_name if prompt is not None else "none",
                prompt=prompt.ref if prompt is not None else None,
                prompt_sha256=prompt.sha256 if prompt is not None else None,
                schema_version=f"{SCHEMA_NAME}@{SCHEMA_VERSION}",
                strategy=strategy,
                nlp_model=self.settings.spacy_model if strategy != "llm" else None,
                usage=total.usage,
                attempts=total.attempts,
                latency_ms=round(latency_ms, 1),
                ungrounded=policy,
                recall_passes=passes,
                capped=allowance.capped,
                calls_at_once=CallsAtOnce(
                    article=self.settings.article_llm_calls
                    if strategy == "hybrid"
                    else self.settings.chunk_concurrency,
                    every_request=self.settings.llm_calls,
                ),
            ),
        )

    async def _facts(
        self,
        request: ExtractRequest,
        strategy: Strategy,
        prompt: PromptTemplate | None,
        policy: str,
        passes: RecallPasses,
        allowance: Allowance,
    ) -> LLMResult[NewsFacts]:
        """The facts the strategy finds, with what its model calls cost."""
        if prompt is None:  # nlp: no model call
            facts = await extract_nlp(request.text, self.nlp, allowance)
            return LLMResult(value=facts, usage=Usage(), attempts=0)
        if strategy == "hybrid":
            lanes = Lanes(asyncio.Semaphore(self.settings.article_llm_calls), self._calls)
            return await extract_hybrid(
                request.text, self.nlp, self.llm, prompt, self.settings.chunk_chars, allowance,
                lanes,
            )  # fmt: skip
        return await self._extract_llm(request, prompt, policy, passes, allowance)

    @staticmethod
    def _grounded(
        facts: NewsFacts, text: str, policy: str
    ) -> tuple[NewsFacts, list[Grounding], list[DroppedFact]]:
        """The facts located in the text; the ungrounded ones dropped when the policy says."""
        grounding = ground(facts, text)
        if policy == "drop":
            return drop_ungrounded(facts, grounding)
        return facts, grounding, []

    async def _call(
        self, messages: list[dict[str, str]], allowance: Allowance
    ) -> LLMResult[NewsFacts] | None:
        """One extraction call within the request's allowance and the calls' global cap;
        None when a cap refused it."""
        async with self._calls:
            return await allowance.call(self.llm, messages, NewsFacts)

    async def _extract_llm(
        self,
        request: ExtractRequest,
        prompt: PromptTemplate,
        policy: str,
        passes: RecallPasses,
        allowance: Allowance,
    ) -> LLMResult[NewsFacts]:
        """The llm strategy: the article in pieces, each extracted whole, the facts merged."""
        lanes = asyncio.Semaphore(self.settings.chunk_concurrency)

        async def one(piece: str) -> LLMResult[NewsFacts]:
            async with lanes:
                return await self._extract_piece(
                    prompt, piece, request.title, policy, passes, allowance
                )

        pieces = split_text(request.text, self.settings.chunk_chars)
        results = await all_or_none([one(piece) for piece in pieces])
        return summed(merge_facts([r.value for r in results]), list(results))

    async def _extract_piece(
        self,
        prompt: PromptTemplate,
        text: str,
        title: str | None,
        policy: str,
        passes: RecallPasses,
        allowance: Allowance,
    ) -> LLMResult[NewsFacts]:
        """The LLM calls for one piece of the article (one, or one per recall pass), and the
        re-ask the policy may add."""
        messages = prompt.render(text=fenced(text), title=fenced(title)).messages
        first = await self._ask(messages, passes, allowance)
        if policy != "reask":
            return first  # the merged facts are grounded once, against the whole text
        grounding = ground(first.value, text)
        if not any(entry.checks for entry in grounding):
            return first
        again = await self._call([*messages, *self._feedback(first.value, grounding)], allowance)
        return first if again is None else summed(again.value, [first, again])

    async def _ask(
        self, messages: list[dict[str, str]], passes: RecallPasses, allowance: Allowance
    ) -> LLMResult[NewsFacts]:
        """One call for every list, or (recall passes) one call per group of lists, merged.

        The passes run one after another with the same leading messages, so a server that
        keeps its evaluated prefix (llama.cpp) reads the article once. A call a cap
        refused adds nothing.
        """
        if passes == "none":
            return await self._call(messages, allowance) or nothing()
        recall = load_prompt(self.settings.recall_prompt, blocks=("user",))
        answers = []
        for group in PASS_GROUPS:
            [note] = recall.render(lists=group).messages
            answers.append(await self._call([*messages, note], allowance) or nothing())
        value = NewsFacts.model_validate(
            {name: getattr(p.value, name) for group, p in zip(PASS_GROUPS, answers, strict=True)
             for name in group}
        )  # fmt: skip
        return summed(value, answers)

    def _feedback(self, facts: NewsFacts, grounding: list[Grounding]) -> list[dict[str, str]]:
        """The model's first answer and a message naming each failed fact and check."""
        by_path = dict(iter_facts(facts))
        failures = [
            {"path": e.path, "checks": e.checks, "fact": by_path[e.path].model_dump_json()}
            for e in grounding
            if e.checks
        ]
        feedback = load_prompt(self.settings.feedback_prompt, blocks=("user",))
        [message] = feedback.render(failures=failures, explanations=CHECK_EXPLANATIONS).messages
        return [{"role": "assistant", "content": facts.model_dump_json()}, message]
