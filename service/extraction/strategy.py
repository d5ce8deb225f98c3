"""What a strategy is: an object with a name, a default prompt, the request options it
honours, whether it asks a model (and warms it up first), and `run(job)`, the facts of one
article with what its model calls cost. The three (`nlp`, `hybrid`, `llm`) are registered
by name in `strategies.STRATEGIES`; the pipeline keeps admission, the deadline, grounding
and `meta`. What differs between strategies is asked of the strategy, never decided by
its name elsewhere."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from spacy.language import Language

from schemas.api import ExtractRequest, RecallPasses, Strategy, UngroundedPolicy
from schemas.facts import NewsFacts
from service.errors import InvalidInput
from service.extraction.limits import Allowance
from service.llm.protocol import LLMResult, StructuredLLM
from service.prompts import PromptTemplate
from service.settings import Settings


@dataclass
class Job:
    """One article's extraction as a strategy sees it: the request, its prompt, the options
    that apply, its allowance, and the shared parts (the model, spaCy, the global cap)."""

    request: ExtractRequest
    prompt: PromptTemplate | None
    policy: UngroundedPolicy
    passes: RecallPasses
    allowance: Allowance
    llm: StructuredLLM
    nlp: Language
    settings: Settings
    calls: asyncio.Semaphore  # model calls of every request in flight


# A request option at a value that changes what a strategy does, and what it does.
OPTIONS: dict[tuple[str, str], str] = {
    ("ungrounded", "reask"): "re-asks the model about facts that fail grounding",
    ("recall_passes", "lists"): "asks once per group of fact lists",
}


class ExtractionStrategy(ABC):
    """A way of extracting an article's facts."""

    name: ClassVar[Strategy]
    uses_prompt: ClassVar[bool] = True
    uses_model: ClassVar[bool] = True  # False: a service on it starts no model (`NoLLM`)
    warms_up: ClassVar[bool] = False  # True: `warm_up` asks the model something at start-up
    prompt_kind: ClassVar[str] = ""  # what a prompt it owns is called ("a hybrid" prompt)
    prompts: ClassVar[str] = ""  # which prompts it takes ("hybrid_* prompts")
    honours: ClassVar[frozenset[tuple[str, str]]] = frozenset()  # of OPTIONS
    steps: ClassVar[tuple[str, ...]] = ()  # the finder components it runs (`pipes.FINDERS`)

    @abstractmethod
    def default_prompt(self, settings: Settings) -> str | None:
        """The prompt a request that names none gets."""

    def owns(self, prompt_ref: str) -> bool:
        """Whether a prompt is written for this strategy."""
        return False

    def run_prompt(self, settings: Settings) -> str:
        """What an eval run of this strategy is named by: its default prompt, or the
        strategy's name when it takes none."""
        return self.default_prompt(settings) or self.name

    def model_name(self, settings: Settings) -> str:
        """The model an eval run of this strategy is named by: the LLM's, or spaCy's when
        it asks no LLM."""
        return settings.llm_model if self.uses_model else settings.spacy_model

    def nlp_model(self, settings: Settings) -> str | None:
        """The spaCy model it parses with (for `meta`); None when it runs no finder."""
        return settings.spacy_model if self.steps else None

    async def warm_up(self, llm: StructuredLLM, settings: Settings) -> None:
        """Nothing to warm up (see `warms_up`)."""
        return None

    @abstractmethod
    def calls_at_once(self, settings: Settings) -> int:
        """How many of one article's model calls may be in flight together (for `meta`)."""

    @abstractmethod
    async def run(self, job: Job) -> LLMResult[NewsFacts]:
        """The article's facts, with what its model calls cost."""

    def refuse_unhonoured(self, request: ExtractRequest) -> None:
        """422 naming this strategy when the request asks for what it does not do."""
        if request.prompt is not None and not self.uses_prompt:
            raise InvalidInput(f"the {self.name} strategy uses no prompt; leave out `prompt`")
        for (option, value), does in OPTIONS.items():
            if getattr(request, option) == value and (option, value) not in self.honours:
                raise InvalidInput(
                    f"{option}={value} {does}, which the {self.name} strategy does not do; "
                    f"leave it out, or choose the llm strategy"
                )

    def applied(self, option: str, value: str, no_op: str) -> str:
        """The value of a configured option as this strategy applies it (`no_op` when it
        does not do what the value asks)."""
        return value if (option, value) in self.honours or (option, value) not in OPTIONS else no_op
