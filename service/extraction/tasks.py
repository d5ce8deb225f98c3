"""The hybrid strategy's labelling tasks: one tool call per kind of candidate and piece.

A task's tool has one field per candidate (`n1`, `e2`, `s3`, ...) described by the
candidate's words, so the answer lines up with the candidates by construction. Every call
of a piece shares its leading messages (instructions, then the article), so a server that
keeps its evaluated prefix (llama.cpp) reads the article once for all of its tasks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from schemas.labels import AttackItem, NameKind, NumberKind, TalksItem, task_model
from service.candidates.article import Article, Entity

MAX_FIELDS = 32  # candidates per call; more make several calls
CONTEXT_CHARS = 90  # of a candidate's sentence, each side of it
_PARAGRAPH_END = re.compile(r"\n")


@dataclass
class Labels:
    """The answers of every task, by candidate index in the article's lists."""

    numbers: dict[int, NumberKind] = field(default_factory=dict)
    names: dict[int, NameKind] = field(default_factory=dict)
    speakers: dict[int, str] = field(default_factory=dict)
    attacks: dict[int, list[AttackItem]] = field(default_factory=dict)
    talks: dict[int, TalksItem] = field(default_factory=dict)


@dataclass
class Task:
    """One labelling call: its name (the prompt's task), tool model and candidate keys,
    and each candidate's words (shown to the model beside its key)."""

    name: str
    model: type[BaseModel]
    keys: dict[str, int]  # field name -> index of the candidate in its article list
    items: list[tuple[str, str]] = field(default_factory=list)  # (field name, words)

    def apply(self, answer: BaseModel, labels: Labels) -> None:
        """File the answer's value for each candidate under its index."""
        target: dict[int, Any] = getattr(labels, self.name)
        for key, index in self.keys.items():
            value = getattr(answer, key)
            if value is not None:
                target[index] = value


def pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Paragraph-aligned (start, end) ranges of at most about max_chars each."""
    ranges: list[tuple[int, int]] = []
    start = cut = 0
    for m in _PARAGRAPH_END.finditer(text):
        if m.end() - start > max_chars and cut > start:
            ranges.append((start, cut))
            start = cut
        cut = m.end()
    if len(text) - start > max_chars and cut > start:
        ranges.append((start, cut))
        start = cut
    ranges.append((start, len(text)))
    return [r for r in ranges if text[r[0] : r[1]].strip()]


def in_context(article: Article, start: int, end: int) -> str:
    """The candidate in its sentence, marked [[like this]], cut to a window around it."""
    sentence = article.sentence_of(start)
    lo = max(sentence.start_char, start - CONTEXT_CHARS)
    hi = min(max(sentence.end_char, end), end + CONTEXT_CHARS)
    text = article.text
    out = f"{text[lo:start]}[[{text[start:end]}]]{text[end:hi]}"
    return " ".join(out.split())


def doubtful(entity: Entity) -> bool:
    """A name spaCy's small model often gets the kind of wrong: one word, tagged a person
    or an organisation, with no title, no fuller form and no other spelling to back it."""
    if " " in entity.name or entity.label == "locations":
        return False
    if entity.label == "organizations" and entity.name.isupper():
        return False  # acronyms: DW, NATO, UNHCR
    return not entity.role and not entity.aliases


# Each task: its name, the tool's name and docstring, the key prefix, and a function
# giving, per article, the (index, field type, description) of each candidate to label.
Describe = Callable[[Article, int, int], list[tuple[int, Any, str]]]


def _numbers(article: Article, lo: int, hi: int) -> list[tuple[int, Any, str]]:
    return [
        (i, NumberKind, in_context(article, n.start, n.end))
        for i, n in enumerate(article.numbers)
        if lo <= n.start < hi
    ]


def _names(article: Article, lo: int, hi: int) -> list[tuple[int, Any, str]]:
    return [
        (i, NameKind, in_context(article, e.start, e.end))
        for i, e in enumerate(article.entities)
        if lo <= e.start < hi and doubtful(e)
    ]


def _speakers(article: Article, lo: int, hi: int) -> list[tuple[int, Any, str]]:
    return [
        (i, str, in_context(article, q.open_at, q.evidence_end))
        for i, q in enumerate(article.quotes)
        if lo <= q.open_at < hi and not q.speaker
    ]


def _sentences(kind: str, type_: Any) -> Describe:
    def describe(article: Article, lo: int, hi: int) -> list[tuple[int, Any, str]]:
        return [
            (i, type_, " ".join(article.text[e.start : e.end].split()))
            for i, e in enumerate(article.events)
            if e.kind == kind and lo <= e.start < hi
        ]

    return describe


TASKS: tuple[tuple[str, str, str, str, Describe], ...] = (
    ("numbers", "NumberLabels", "What each [[number]] counts.", "n", _numbers),
    ("names", "NameLabels", "What each [[name]] names.", "e", _names),
    ("speakers", "SpeakerLabels", "Who spoke each quotation.", "q", _speakers),
    ("attacks", "AttackLabels", "The attacks each sentence reports (none: []).", "s",
     _sentences("attack", list[AttackItem])),
    ("talks", "TalksLabels", "The talks each sentence reports as held (none: null).", "t",
     _sentences("talks", TalksItem | None)),
)  # fmt: skip


def plan(article: Article, lo: int, hi: int) -> list[Task]:
    """The calls one piece of the article needs: a task per kind with candidates in it."""
    planned: list[Task] = []
    for name, tool, doc, prefix, describe in TASKS:
        items = describe(article, lo, hi)
        for at in range(0, len(items), MAX_FIELDS):
            chunk = items[at : at + MAX_FIELDS]
            keys = {f"{prefix}{j + 1}": index for j, (index, _, _) in enumerate(chunk)}
            fields = {key: (t, words) for key, (_, t, words) in zip(keys, chunk, strict=True)}
            items = [(key, words) for key, (_, words) in fields.items()]
            planned.append(Task(name, task_model(tool, doc, fields), keys, items))
    return planned
