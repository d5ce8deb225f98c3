"""What a strategy is: an object with a name, a default prompt, the request options it
honours, and `run(job)`, the facts of one article with what its model calls cost. The
three (`nlp`, `hybrid`, `llm`) are registered by name in `strategies.STRATEGIES`; the
pipeline keeps admission, the deadline, grounding and `meta`."""

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
    honours: ClassVar[frozenset[tuple[str, str]]] = frozenset()  # of OPTIONS
    steps: ClassVar[tuple[str, ...]] = ()  # the finder components it runs (`pipes.FINDERS`)

    @abstractmethod
    def default_prompt(self, settings: Settings) -> str | None:
        """The prompt a request that names none gets."""

    def owns(self, prompt_ref: str) -> bool:
        """Whether a prompt is written for this strategy."""
        return False

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
