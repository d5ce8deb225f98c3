"""Align each fact's evidence to character offsets in the submitted text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from pydantic import BaseModel
from rapidfuzz import fuzz

from schemas.api import Grounding
from schemas.facts import FACT_LISTS, NewsFacts

# partial_ratio of 85 tolerates a changed word or two in a sentence-long span, while a
# span that shares only a few words with the text scores far below it.
FUZZY_THRESHOLD = 85.0

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Casefold, unify quotes/dashes and collapse whitespace; map each output char to input."""
    out: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char.translate(_TRANSLATE)).casefold()
        if folded.isspace() or not folded:
            if previous_space or not folded:
                continue
            folded = " "
            previous_space = True
        else:
            previous_space = False
        for piece in folded:
            out.append(piece)
            index.append(i)
    return "".join(out), index


def normalize(text: str) -> str:
    """The normalised form used for matching, without the offset map."""
    return _SPACE.sub(" ", normalize_with_map(text)[0]).strip()


def align(evidence: str, text: str) -> tuple[int | None, int | None, str]:
    """Find evidence in text: exact, then normalised, then fuzzy; returns (start, end, match)."""
    if not evidence.strip():
        return None, None, "none"
    start = text.find(evidence)
    if start >= 0:
        return start, start + len(evidence), "exact"
    norm_text, index = normalize_with_map(text)
    norm_evidence = normalize(evidence)
    pos = norm_text.find(norm_evidence)
    if pos >= 0 and norm_evidence:
        return index[pos], index[pos + len(norm_evidence) - 1] + 1, "normalized"
    alignment = fuzz.partial_ratio_alignment(norm_evidence, norm_text)
    if alignment is None or alignment.score < FUZZY_THRESHOLD:
        return None, None, "none"
    first, last = _best_word_window(
        norm_evidence, norm_text, alignment.dest_start, alignment.dest_end
    )
    return index[first], index[last - 1] + 1, "fuzzy"


_WORD = re.compile(r"\S+")


def _best_word_window(needle: str, haystack: str, start: int, end: int) -> tuple[int, int]:
    """Snap a fuzzy window to whole words, letting each edge move by a fifth of its length.

    partial_ratio's window is exactly as long as the needle, so when the text has an extra
    or a missing word the window cuts a word in half; the best-scoring whole-word span
    around it is the evidence as the article states it.
    """
    slack = max(8, len(needle) // 5)
    lo, hi = max(0, start - slack), min(len(haystack), end + slack)
    words = [m.span() for m in _WORD.finditer(haystack, lo, hi)]
    starts = [a for a, _ in words if abs(a - start) <= slack] or [start]
    word_ends = {b for _, b in words} | {a + len(haystack[a:b].rstrip(",.;:!?")) for a, b in words}
    ends = [b for b in word_ends if abs(b - end) <= slack] or [end]
    return max(
        ((a, b) for a in starts for b in ends if b > a),
        key=lambda span: fuzz.ratio(needle, haystack[span[0] : span[1]]),
        default=(start, end),
    )


def iter_facts(facts: NewsFacts) -> Iterator[tuple[str, BaseModel]]:
    """Every fact with its path, e.g. ('casualties[0]', Casualties(...))."""
    for list_name in FACT_LISTS:
        for i, fact in enumerate(getattr(facts, list_name)):
            yield f"{list_name}[{i}]", fact


def ground(facts: NewsFacts, text: str) -> list[Grounding]:
    """One grounding entry per fact, in the order of the fact lists."""
    entries = []
    for path, fact in iter_facts(facts):
        start, end, match = align(fact.evidence, text)  # type: ignore[attr-defined]
        entries.append(Grounding(path=path, start=start, end=end, match=match))  # type: ignore[arg-type]
    return entries
