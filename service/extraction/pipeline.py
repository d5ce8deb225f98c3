"""The extraction pipeline: admit, render the prompt, ask the LLM, ground the facts."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from schemas.api import (
    CallsAtOnce,
    DroppedFact,
    ExtractRequest,
    ExtractResponse,
    Grounding,
    Meta,
)
from schemas.facts import SCHEMA_NAME, SCHEMA_VERSION, NewsFacts
from service.candidates.nlp import check_steps, load_pipeline
from service.candidates.places import gazetteer
from service.errors import (
    DeadlineExceeded,
    LLMError,
    TextTooLong,
    UnknownPrompt,
)
from service.extraction.admission import LOCAL, Admission, Requester
from service.extraction.grounding import drop_ungrounded, ground
from service.extraction.limits import Allowance
from service.extraction.strategies import STRATEGIES, prompt_owners, prompt_strategy
from service.extraction.strategy import ExtractionStrategy, Job
from service.extraction.threads import off_loop
from service.llm.protocol import StructuredLLM
from service.prompts import PromptTemplate, load_prompt
from service.settings import Settings

log = logging.getLogger(__name__)


def article_id(text: str) -> str:
    """A stable id for an article: the first 16 hex digits of its text's sha256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Pipeline:
    """Turns one article into grounded facts; bounded in concurrency, queue and time."""

    def __init__(self, llm: StructuredLLM, settings: Settings) -> None:
        self.llm = llm
        self.settings = settings
        self.nlp = load_pipeline(settings.spacy_model)  # once per process (cached)
        for strategy in STRATEGIES.values():
            check_steps(self.nlp, strategy.steps)
        gazetteer(settings.cache_dir)  # the places' index too, not in the first request
        self.admission = Admission(settings.max_inflight, settings.max_queue,
                                   settings.client_share)  # fmt: skip
        self._calls = asyncio.Semaphore(settings.llm_calls)  # every request's, together

    @property
    def load(self) -> dict[str, int | bool]:
        """What a load balancer's readiness check needs: extractions running and waiting,
        the limits, and whether a new request would be refused (saturated)."""
        return {
            "running": self.admission.busy,
            "waiting": self.admission.waiting,
            "max_inflight": self.settings.max_inflight,
            "max_queue": self.settings.max_queue,
            "saturated": self.admission.saturated,
        }

    async def warm_up(self) -> float | None:
        """Have the model server evaluate what the configured strategy's calls share (the
        hybrid prompt's prefix) now, not in the first request; the seconds it took, or None
        when the strategy has nothing to warm up or it failed (logged, not raised: the
        first request then pays for it)."""
        strategy = STRATEGIES[self.settings.strategy]
        if not strategy.warms_up:
            return None
        started = time.perf_counter()
        try:
            async with self.admission.slot(LOCAL):
                await strategy.warm_up(self.llm, self.settings)
        except LLMError as exc:
            log.warning(
                "warm-up call failed; the first request pays for it", extra={"error": str(exc)}
            )
            return None
        return time.perf_counter() - started

    def check(self, request: ExtractRequest) -> tuple[ExtractionStrategy, PromptTemplate | None]:
        """Refuse what no LLM call can fix (text over the limit, unknown prompt, a prompt
        of another strategy, an option the strategy does not honour); the strategy and
        its prompt."""
        if len(request.text) > self.settings.max_text_chars:
            raise TextTooLong(
                f"text has {len(request.text)} characters; the limit is "
                f"{self.settings.max_text_chars} (NEWSFACTS_MAX_TEXT_CHARS)"
            )
        # A prompt names its strategy when the request does not ("news_facts@v2": llm).
        implied = prompt_strategy(request.prompt) if request.prompt else None
        strategy = STRATEGIES[request.strategy or implied or self.settings.strategy]
        strategy.refuse_unhonoured(request)
        if not strategy.uses_prompt:
            return strategy, None
        # An empty string names no prompt that exists: refused, not read as "the default".
        ref = strategy.default_prompt(self.settings) if request.prompt is None else request.prompt
        prompt = load_prompt(ref)
        if not strategy.owns(ref):
            raise UnknownPrompt(
                f"prompt {ref!r} is not {strategy.prompt_kind} prompt: {prompt_owners()}"
            )
        return strategy, prompt

    async def extract(self, request: ExtractRequest, who: Requester = LOCAL) -> ExtractResponse:
        """Extract, ground and describe the facts of one article, within the request's
        deadline and caps, admitted fairly among `who`'s peers."""
        strategy, prompt = self.check(request)
        settings = self.settings
        policy = request.ungrounded or strategy.applied("ungrounded", settings.ungrounded, "flag")
        passes = request.recall_passes or strategy.applied(
            "recall_passes", settings.recall_passes, "none"
        )
        allowance = Allowance.of(settings)
        job = Job(request, prompt, policy, passes, allowance, self.llm, self.nlp, settings,
                  self._calls)  # fmt: skip
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.request_timeout_s), self.admission.slot(who):
                total = await strategy.run(job)
                # Grounding searches the text (fuzzy matching on a long article takes
                # seconds): off the event loop, and inside the deadline.
                grounded = await off_loop(lambda _: self._grounded(total.value, request.text,
                                                                  policy))  # fmt: skip
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
                strategy=strategy.name,
                nlp_model=strategy.nlp_model(self.settings),
                usage=total.usage,
                attempts=total.attempts,
                latency_ms=round(latency_ms, 1),
                ungrounded=policy,
                recall_passes=passes,
                capped=allowance.capped,
                calls_at_once=CallsAtOnce(
                    article=strategy.calls_at_once(self.settings),
                    every_request=self.settings.llm_calls,
                ),
            ),
        )

    @staticmethod
    def _grounded(
        facts: NewsFacts, text: str, policy: str
    ) -> tuple[NewsFacts, list[Grounding], list[DroppedFact]]:
        """The facts located in the text; the ungrounded ones dropped when the policy says."""
        grounding = ground(facts, text)
        if policy == "drop":
            return drop_ungrounded(facts, grounding)
        return facts, grounding, []
