"""The strategies, registered by name (`STRATEGIES`): `nlp` and `hybrid` here, with the
finder steps each runs and the hybrid's calls, and `llm` in `llm_strategy.py`.

`nlp` is spaCy alone (names and quotes, no model). `hybrid` adds numbers, attack targets
and talks sentences, and asks the LLM to label each candidate in a small call of its own
(`tasks.plan`); the facts are then built from the candidates (`labelled.build_facts`).
"""

from __future__ import annotations

import asyncio
import threading

from pydantic import BaseModel
from spacy.language import Language

from schemas.api import Strategy, Usage
from schemas.facts import NewsFacts
from schemas.labels import NumberAnswer
from service.candidates.article import Article
from service.candidates.nlp import parse
from service.candidates.pipes import FINDERS
from service.extraction.assemble import entity_facts
from service.extraction.labelled import build_facts
from service.extraction.limits import Allowance, Lanes, all_or_none
from service.extraction.llm_strategy import HYBRID_PROMPT_PREFIX, LlmStrategy
from service.extraction.strategy import ExtractionStrategy, Job
from service.extraction.tasks import TOOLS, Labels, Task, plan
from service.extraction.threads import off_loop
from service.llm.protocol import LLMResult, StructuredLLM
from service.prompts import PromptTemplate, fenced, load_prompt
from service.settings import Settings

NLP_STEPS = ("newsfacts_names", "newsfacts_places", "newsfacts_organizations", "newsfacts_quotes")
HYBRID_STEPS = FINDERS  # every finder and filler


async def extract_nlp(text: str, nlp: Language, allowance: Allowance) -> NewsFacts:
    """spaCy alone: people, organisations, places, and quotes whose speaker the text names."""

    def facts(stop: threading.Event) -> NewsFacts:
        article = parse(text, nlp, NLP_STEPS, stop)
        allowance.cap_candidates(article)
        return entity_facts(article)

    return await off_loop(facts)


WARM_UP_ITEM = "[[3]] people were hurt."


async def warm_up_hybrid(llm: StructuredLLM, prompt: PromptTemplate) -> LLMResult[BaseModel]:
    """One small labelling call, so that the server has evaluated the prefix every call
    shares (instructions and tools) before the first article arrives."""
    rendered = prompt.render(text="", task="numbers", item=WARM_UP_ITEM)
    return await llm.extract(rendered.messages, NumberAnswer, TOOLS)


async def extract_hybrid(
    text: str,
    nlp: Language,
    llm: StructuredLLM,
    prompt: PromptTemplate,
    allowance: Allowance,
    lanes: Lanes,
) -> LLMResult[NewsFacts]:
    """spaCy finds the candidates; the LLM labels them, one call per candidate, each
    call carrying its candidate in its sentence (the prompt gets `task` and `item`; the
    article itself is not sent, so no article is too long to split).

    The calls run side by side as far as the lanes allow, started in the article's order
    and their answers filed in that order, so the facts do not depend on which answer came
    first. A candidate the allowance has no call left for keeps no label: it becomes what
    its words alone make of it, as when the model answers null.
    """

    def parsed_and_planned(stop: threading.Event) -> tuple[Article, list[Task]]:
        article = parse(text, nlp, HYBRID_STEPS, stop)
        allowance.cap_candidates(article)
        return article, list(plan(article))  # a long article's plan takes a while

    article, planned = await off_loop(parsed_and_planned)

    async def ask(task: Task) -> LLMResult[BaseModel] | None:
        async with lanes.held():
            rendered = prompt.render(text="", task=task.name, item=fenced(task.item))
            return await allowance.call(llm, rendered.messages, task.model, TOOLS)

    answers = await all_or_none([ask(task) for task in planned])
    labels = Labels()
    usage, attempts = Usage(), 0
    for task, result in zip(planned, answers, strict=True):
        if result is not None:
            usage, attempts = usage + result.usage, attempts + result.attempts
            task.apply(result.value, labels)
    facts = await off_loop(lambda _: build_facts(article, labels))  # seconds on a long one
    return LLMResult(value=facts, usage=usage, attempts=attempts)


class NlpStrategy(ExtractionStrategy):
    """spaCy alone: no prompt, no model call."""

    name = "nlp"
    uses_prompt = False
    uses_model = False
    steps = NLP_STEPS

    def default_prompt(self, settings: Settings) -> None:
        """None: no model is asked."""
        return None

    def calls_at_once(self, settings: Settings) -> int:
        """NEWSFACTS_CHUNK_CONCURRENCY (as reported before strategies were objects)."""
        return settings.chunk_concurrency

    async def run(self, job: Job) -> LLMResult[NewsFacts]:
        """People, organisations, places and quotes from the parse and the finders."""
        facts = await extract_nlp(job.request.text, job.nlp, job.allowance)
        return LLMResult(value=facts, usage=Usage(), attempts=0)


class HybridStrategy(ExtractionStrategy):
    """spaCy finds the candidates; the model labels each in a small call."""

    name = "hybrid"
    warms_up = True
    prompt_kind = "a hybrid"
    prompts = f"{HYBRID_PROMPT_PREFIX}* prompts"
    steps = HYBRID_STEPS

    def default_prompt(self, settings: Settings) -> str:
        """NEWSFACTS_HYBRID_PROMPT."""
        return settings.hybrid_prompt

    def owns(self, prompt_ref: str) -> bool:
        """The `hybrid_*` prompts."""
        return prompt_ref.startswith(HYBRID_PROMPT_PREFIX)

    def calls_at_once(self, settings: Settings) -> int:
        """NEWSFACTS_ARTICLE_LLM_CALLS."""
        return settings.article_llm_calls

    async def warm_up(self, llm: StructuredLLM, settings: Settings) -> None:
        """One small labelling call with NEWSFACTS_HYBRID_PROMPT (`warm_up_hybrid`)."""
        await warm_up_hybrid(llm, load_prompt(settings.hybrid_prompt))

    async def run(self, job: Job) -> LLMResult[NewsFacts]:
        """The candidates labelled side by side, as far as the lanes allow."""
        assert job.prompt is not None
        lanes = Lanes(asyncio.Semaphore(job.settings.article_llm_calls), job.calls)
        return await extract_hybrid(
            job.request.text, job.nlp, job.llm, job.prompt, job.allowance, lanes,
        )  # fmt: skip


STRATEGIES: dict[str, ExtractionStrategy] = {
    s.name: s for s in (NlpStrategy(), HybridStrategy(), LlmStrategy())
}


def needs_model(settings: Settings) -> bool:
    """Whether the configured strategy (NEWSFACTS_STRATEGY) asks a model: what
    `open_backend` is told."""
    return STRATEGIES[settings.strategy].uses_model


def prompt_owners() -> str:
    """Which prompts each strategy that takes one takes, for a message ("the hybrid
    strategy takes hybrid_* prompts, the llm strategy the others")."""
    first, *rest = [s for s in STRATEGIES.values() if s.uses_prompt]
    return f"the {first.name} strategy takes {first.prompts}" + "".join(
        f", the {s.name} strategy {s.prompts}" for s in rest
    )


def prompt_strategy(ref: str) -> Strategy:
    """The strategy a prompt is written for (`hybrid_*` prompts label candidates, the
    others extract every list in one call)."""
    return next(s.name for s in STRATEGIES.values() if s.owns(ref))
