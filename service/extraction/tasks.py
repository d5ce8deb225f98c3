"""The hybrid strategy's labelling tasks: one small tool call per candidate.

Every call on an article opens with the same messages (instructions, then the article),
and every call of a task adds the same tool and task instruction before the candidate
itself, so a server that keeps its evaluated prefix (llama.cpp) evaluates little more
than the candidate's own line each time. A small model labels one candidate at a time
far better than a list of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from schemas.labels import (
    NameAnswer,
    NameKind,
    NumberAnswer,
    NumberKind,
    SpeakerAnswer,
    TalksAnswer,
    TalksItem,
)
from service.candidates.article import Article, Entity, QuoteCandidate
from service.candidates.quantities import words_decide

CONTEXT_CHARS = 100  # of a candidate's sentence, each side of it
# Every call offers all four tools, in this order (see StructuredLLM.extract's `offered`).
# The order matters to the 1.5B: with TalksAnswer last it answered null to every talks
# sentence of seed 004; first, as v2's single tool did.
TOOLS: tuple[type[BaseModel], ...] = (TalksAnswer, SpeakerAnswer, NameAnswer, NumberAnswer)


@dataclass
class Labels:
    """The answers of every task, by candidate index in the article's lists."""

    numbers: dict[int, NumberKind] = field(default_factory=dict)
    names: dict[int, NameKind] = field(default_factory=dict)
    speakers: dict[int, str] = field(default_factory=dict)
    talks: dict[int, TalksItem] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """One labelling call: the task (the prompt's section), the candidate's words, its
    index in its article list, and the tool that answers."""

    name: str
    item: str
    index: int
    model: type[BaseModel]
    answer: Callable[[Any], Any]  # the answer's value to file

    def apply(self, value: BaseModel, labels: Labels) -> None:
        """File the answer under the candidate's index (nothing for a null answer)."""
        answer = self.answer(value)
        if answer is not None:
            getattr(labels, self.name)[self.index] = answer


def in_context(article: Article, start: int, end: int, before: int = 0) -> str:
    """The candidate in its sentence, marked [[like this]], cut to a window around it;
    with `before`, that many whole sentences before it too."""
    sentence = article.sentence_of(start)
    lo = max(sentence.start_char, start - CONTEXT_CHARS)
    hi = min(max(sentence.end_char, end), end + CONTEXT_CHARS)
    first = sentence
    for _ in range(before):
        if first.start == 0:
            break
        first = article.doc[first.start - 1].sent
        lo = first.start_char
    text = article.text
    return " ".join(f"{text[lo:start]}[[{text[start:end]}]]{text[end:hi]}".split())


def doubtful(entity: Entity) -> bool:
    """A name spaCy's small model often gets the kind of wrong: one word, tagged a person
    or an organisation, with no title, no fuller form and no other spelling to back it."""
    if " " in entity.name or entity.label == "locations":
        return False
    if entity.label == "organizations" and (entity.name.isupper() or entity.kind == "other"):
        return False  # acronyms (DW, NATO, UNHCR); a group named before "militants"
    return not entity.role and not entity.aliases


def names_speaker(article: Article, quote: QuoteCandidate) -> bool:
    """Whether the quote's sentence names a person or organisation outside the quote."""
    sentence = article.sentence_of(quote.open_at)
    inside = (quote.open_at, quote.close_at if quote.close_at is not None else quote.end)
    return any(
        sentence.start_char <= s < sentence.end_char and not inside[0] <= s <= inside[1]
        for e in article.entities
        if e.label in ("people", "organizations")
        for s, _ in e.mentions
    )


def plan(article: Article) -> Iterator[Task]:
    """The calls the article needs, task by task (so each task's calls follow one
    another and share their prefix)."""
    for i, n in enumerate(article.numbers):
        if words_decide(n) is not None:
            continue  # its own words say what it counts, whatever the model would answer
        item = in_context(article, n.start, n.end)
        yield Task("numbers", item, i, NumberAnswer, lambda a: a.label)
    for i, e in enumerate(article.entities):
        if doubtful(e):
            item = in_context(article, e.start, e.end)
            yield Task("names", item, i, NameAnswer, lambda a: a.kind)
    for i, q in enumerate(article.quotes):
        if not q.speaker:
            # a quote whose sentence names nobody was often said by whoever the sentence
            # before names ("X said. “…”")
            before = 0 if names_speaker(article, q) else 1
            item = in_context(article, q.open_at, q.evidence_end, before=before)
            yield Task("speakers", item, i, SpeakerAnswer, lambda a: a.speaker)
    for i, e in enumerate(article.events):
        item = " ".join(article.text[e.start : e.end].split())
        if e.sides_before:
            # "They held four days of talks": who "they" are, the sentence before says
            item = in_context(article, e.start, e.end, before=1)
        yield Task("talks", item, i, TalksAnswer, lambda a: a.talks)
