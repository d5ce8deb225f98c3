"""The `llm` strategy: the article in pieces, each extracted whole in one structured call
(or one per recall pass), the facts merged; a piece whose facts fail grounding may be
re-asked once with what failed."""

from __future__ import annotations

import asyncio

from schemas.api import Grounding, Usage
from schemas.facts import NewsFacts
from service.extraction.chunking import merge_facts, split_text
from service.extraction.grounding import CHECK_EXPLANATIONS, ground, iter_facts
from service.extraction.limits import all_or_none
from service.extraction.strategy import ExtractionStrategy, Job
from service.extraction.threads import off_loop
from service.llm.protocol import LLMResult
from service.prompts import fenced, load_prompt
from service.settings import Settings

HYBRID_PROMPT_PREFIX = "hybrid_"
# The `lists` recall passes: one LLM call per group, each group's lists kept from its call.
PASS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("people", "organizations", "locations"),
    ("negotiations", "casualties", "displacement", "attacks", "figures"),
    ("quotes",),
)


def summed(value: NewsFacts, results: list[LLMResult[NewsFacts]]) -> LLMResult[NewsFacts]:
    """`value` with the usage and attempts of every call that went into it."""
    usage = sum((r.usage for r in results), Usage())
    return LLMResult(value=value, usage=usage, attempts=sum(r.attempts for r in results))


def nothing() -> LLMResult[NewsFacts]:
    """No facts, no cost: what a call a cap refused adds."""
    return LLMResult(value=NewsFacts(), usage=Usage(), attempts=0)


class LlmStrategy(ExtractionStrategy):
    """One structured call per piece of the article."""

    name = "llm"
    prompt_kind = "an llm"
    prompts = "the others"
    honours = frozenset({("ungrounded", "reask"), ("recall_passes", "lists")})

    def default_prompt(self, settings: Settings) -> str:
        """NEWSFACTS_DEFAULT_PROMPT."""
        return settings.default_prompt

    def owns(self, prompt_ref: str) -> bool:
        """Every prompt that is not a hybrid one."""
        return not prompt_ref.startswith(HYBRID_PROMPT_PREFIX)

    def calls_at_once(self, settings: Settings) -> int:
        """NEWSFACTS_CHUNK_CONCURRENCY: pieces extracted at once."""
        return settings.chunk_concurrency

    async def run(self, job: Job) -> LLMResult[NewsFacts]:
        """The article in pieces, each extracted whole, the facts merged."""
        lanes = asyncio.Semaphore(job.settings.chunk_concurrency)

        async def one(piece: str) -> LLMResult[NewsFacts]:
            async with lanes:
                return await self._piece(job, piece)

        pieces = split_text(job.request.text, job.settings.chunk_chars)
        results = await all_or_none([one(piece) for piece in pieces])
        return summed(merge_facts([r.value for r in results]), list(results))

    async def _piece(self, job: Job, text: str) -> LLMResult[NewsFacts]:
        """The calls for one piece (one, or one per recall pass), and the re-ask the policy
        may add."""
        assert job.prompt is not None
        messages = job.prompt.render(text=fenced(text), title=fenced(job.request.title)).messages
        first = await self._ask(job, messages)
        if job.policy != "reask":
            return first  # the merged facts are grounded once, against the whole text
        grounding = await off_loop(lambda _: ground(first.value, text))  # seconds, fuzzily
        if not any(entry.checks for entry in grounding):
            return first
        feedback = _feedback(job, first.value, grounding)
        again = await _call(job, [*messages, *feedback])
        return first if again is None else summed(again.value, [first, again])

    async def _ask(self, job: Job, messages: list[dict[str, str]]) -> LLMResult[NewsFacts]:
        """One call for every list, or (recall passes) one call per group of lists, merged.

        The passes run one after another with the same leading messages, so a server that
        keeps its evaluated prefix (llama.cpp) reads the article once. A call a cap
        refused adds nothing.
        """
        if job.passes == "none":
            return await _call(job, messages) or nothing()
        recall = load_prompt(job.settings.recall_prompt, blocks=("user",))
        answers = []
        for group in PASS_GROUPS:
            [note] = recall.render(lists=group).messages
            answers.append(await _call(job, [*messages, note]) or nothing())
        value = NewsFacts.model_validate(
            {name: getattr(p.value, name) for group, p in zip(PASS_GROUPS, answers, strict=True)
             for name in group}
        )  # fmt: skip
        return summed(value, answers)


async def _call(job: Job, messages: list[dict[str, str]]) -> LLMResult[NewsFacts] | None:
    """One extraction call within the request's allowance and the calls' global cap; None
    when a cap refused it."""
    async with job.calls:
        return await job.allowance.call(job.llm, messages, NewsFacts)


def _feedback(job: Job, facts: NewsFacts, grounding: list[Grounding]) -> list[dict[str, str]]:
    """The model's first answer and a message naming each failed fact and check."""
    by_path = dict(iter_facts(facts))
    failures = [
        {"path": e.path, "checks": e.checks, "fact": by_path[e.path].model_dump_json()}
        for e in grounding
        if e.checks
    ]
    feedback = load_prompt(job.settings.feedback_prompt, blocks=("user",))
    [message] = feedback.render(failures=failures, explanations=CHECK_EXPLANATIONS).messages
    return [{"role": "assistant", "content": facts.model_dump_json()}, message]
