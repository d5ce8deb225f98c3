"""The article as the hybrid model reads it: candidates marked in place, split in pieces.

[N1] before a number, [S1] before an event sentence, [Q1] before a quotation with no
speaker; doubtful names are listed after the article as [E1]. Marks are numbered over
the whole article, so the answers of several pieces address one set of candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.candidates.article import Article, Entity, EventCandidate, QuoteCandidate

_PARAGRAPH_END = re.compile(r"\n")


@dataclass
class Marked:
    """One piece of the article with its marks, and what each mark stands for."""

    text: str
    names: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Marks:
    """Every mark of an article, by kind and number."""

    numbers: dict[int, int] = field(default_factory=dict)  # mark -> index in article.numbers
    sentences: dict[int, list[EventCandidate]] = field(default_factory=dict)
    quotes: dict[int, QuoteCandidate] = field(default_factory=dict)
    names: dict[int, Entity] = field(default_factory=dict)
    pieces: list[Marked] = field(default_factory=list)


def doubtful(entity: Entity) -> bool:
    """A name spaCy's small model often gets the kind of wrong: one word, tagged a person
    or an organisation, with no title, no fuller form and no other spelling to back it."""
    if " " in entity.name or entity.label == "locations":
        return False
    if entity.label == "organizations" and entity.name.isupper():
        return False  # acronyms: DW, NATO, UNHCR
    return not entity.role and not entity.aliases


def _pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Paragraph-aligned (start, end) ranges of at most about max_chars each."""
    ranges: list[tuple[int, int]] = []
    start = 0
    cut = 0
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


def mark(article: Article, max_chars: int) -> Marks:
    """Number every candidate the model should label and render the marked pieces."""
    marks = Marks()
    inserts: list[tuple[int, int, str]] = []  # offset, order, mark text
    by_sentence: dict[tuple[int, int], int] = {}
    for event in article.events:
        key = (event.start, event.end)
        if key not in by_sentence:
            by_sentence[key] = len(by_sentence) + 1
            inserts.append((event.start, 0, f"[S{by_sentence[key]}] "))
        marks.sentences.setdefault(by_sentence[key], []).append(event)
    for i, quote in enumerate(q for q in article.quotes if not q.speaker):
        marks.quotes[i + 1] = quote
        inserts.append((quote.open_at, 1, f"[Q{i + 1}] "))
    for i, number in enumerate(article.numbers):
        marks.numbers[i + 1] = i
        inserts.append((number.start, 2, f"[N{i + 1}] "))
    named = [e for e in article.entities if doubtful(e)]
    for i, entity in enumerate(named):
        marks.names[i + 1] = entity
    inserts.sort()
    for start, end in _pieces(article.text, max_chars):
        out: list[str] = []
        at = start
        for offset, _, label in (x for x in inserts if start <= x[0] < end):
            out.append(article.text[at:offset])
            out.append(label)
            at = offset
        out.append(article.text[at:end])
        names = [(n, e.name) for n, e in marks.names.items() if start <= e.start < end]
        marks.pieces.append(Marked(text="".join(out).strip(), names=names))
    return marks
