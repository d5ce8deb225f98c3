"""Where a text puts words inside quotation marks, read from the marks alone (no parse).

Curly double quotes pair with each other; straight double quotes alternate within a
paragraph; single quotes (curly or straight) count at the top level only, opening before
a word and closing after one, so apostrophes ("Putin's", "officials' ") are not read as
quotes. A quote left open at its paragraph's end runs to that end: news style leaves a
quote that goes on into the next paragraph unclosed, and one stray mark must not swallow
the rest of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PARAGRAPH = re.compile(r"[^\n]+")
MAX_SINGLE_QUOTE_CHARS = 300


@dataclass(frozen=True)
class Quoted:
    """One quotation: the opening mark's offset, the words' span, the closing mark's."""

    open_at: int
    start: int
    end: int
    close_at: int | None


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _single_opens(text: str, i: int) -> bool:
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "(\u2014\u2013-:") and after.isalnum()


def _single_closes(text: str, i: int) -> bool:
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not before.isspace() and not after.isalnum()


def _paragraph(text: str, lo: int, hi: int) -> list[Quoted]:
    found: list[Quoted] = []
    opened: int | None = None
    mark = ""
    i = lo
    while i < hi:
        c = text[i]
        if opened is None:
            if c in '\u201c"' or (c in "\u2018'" and _single_opens(text, i)):
                opened, mark = i, c
        elif (mark == "\u201c" and c == "\u201d") or (mark == '"' and c == '"'):
            found.append(Quoted(opened, *_trimmed(text, opened + 1, i), i))
            opened = None
        elif mark == "\u201c" and c == "\u201c":
            # A new opening before the old one closed: the old one ends here.
            found.append(Quoted(opened, *_trimmed(text, opened + 1, i), None))
            opened = i
        elif mark in "\u2018'" and c in "\u2019'" and _single_closes(text, i):
            found.append(Quoted(opened, *_trimmed(text, opened + 1, i), i))
            opened = None
        elif mark in "\u2018'" and i - opened > MAX_SINGLE_QUOTE_CHARS:
            i = opened + 1  # not a quotation after all: read on after the mark
            opened = None
            continue
        i += 1
    if opened is not None:
        if mark in "\u2018'":
            return found + _paragraph(text, opened + 1, hi)
        found.append(Quoted(opened, *_trimmed(text, opened + 1, hi), None))
    return found


@lru_cache(maxsize=16)  # an article is read once, not once per quote checked
def quoted_spans(text: str) -> tuple[Quoted, ...]:
    """Every quotation in the text, in order; empty ones left out."""
    found: list[Quoted] = []
    for paragraph in _PARAGRAPH.finditer(text):
        found.extend(q for q in _paragraph(text, *paragraph.span()) if q.end > q.start)
    return tuple(found)


def inside_quotes(text: str, start: int, end: int) -> bool:
    """True when text[start:end] lies within one quotation (its marks included)."""
    return any(
        q.open_at <= start and end <= (q.end if q.close_at is None else q.close_at + 1)
        for q in quoted_spans(text)
    )
