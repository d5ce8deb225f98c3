"""Long articles in pieces: split on paragraph (then sentence) boundaries with overlap, and
merge the facts of the pieces so a fact seen in two overlapping pieces is returned once."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from schemas.facts import FACT_LISTS, NewsFacts, Quote
from service.folding import normalize

_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_SENTENCES = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])")


def _units(text: str, max_chars: int) -> list[str]:
    """Paragraphs, each cut into sentences (then hard slices) when longer than max_chars."""
    units: list[str] = []
    for paragraph in (p.strip() for p in _PARAGRAPHS.split(text)):
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            units.append(paragraph)
            continue
        for sentence in _SENTENCES.split(paragraph):
            units.extend(sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars))
    return units


def split_text(text: str, max_chars: int) -> list[str]:
    """Pieces of at most ~max_chars, each starting with the last paragraph of the one before.

    A text that fits is one piece, unchanged. The overlap keeps a fact whose evidence spans
    a boundary whole in at least one piece.
    """
    if len(text) <= max_chars:
        return [text]
    pieces: list[list[str]] = [[]]
    size = 0
    for unit in _units(text, max_chars):
        if pieces[-1] and size + len(unit) > max_chars:
            overlap = pieces[-1][-1]
            pieces.append([overlap] if len(overlap) + len(unit) <= max_chars else [])
            size = sum(len(u) for u in pieces[-1])
        pieces[-1].append(unit)
        size += len(unit) + 2
    return ["\n\n".join(piece) for piece in pieces]


def _key(list_name: str, fact: BaseModel) -> Any:
    """What makes two facts of a list the same fact."""
    if list_name in ("people", "organizations", "locations"):
        return normalize(fact.name)  # type: ignore[attr-defined]
    if isinstance(fact, Quote):
        return normalize(fact.text)
    data = fact.model_dump(exclude={"evidence"})
    return normalize(fact.evidence), tuple(sorted(map(str, data.items())))  # type: ignore[attr-defined]


def merge_facts(parts: list[NewsFacts]) -> NewsFacts:
    """One NewsFacts from several: per list, the first of each same fact, in order."""
    merged: dict[str, list[BaseModel]] = {name: [] for name in FACT_LISTS}
    for name in FACT_LISTS:
        seen: set[Any] = set()
        for part in parts:
            for fact in getattr(part, name):
                key = _key(name, fact)
                if key not in seen:
                    seen.add(key)
                    merged[name].append(fact)
    return NewsFacts.model_validate(merged)
