"""Tie each fact to its span in the submitted text, and check what the span must state.

Alignment tries exact, then normalised (case, whitespace, quotes, dashes), then fuzzy.
Checks, each named on the fact's grounding entry when it fails:
- `evidence_not_found`: the evidence is nowhere in the text, even fuzzily;
- `number_not_in_evidence`: a count, upper bound or figure value the evidence does not state;
- `quote_not_in_article`: a quote whose words are not in the text (exactly or normalised);
- `quote_not_quoted`: a quote whose words stand in the text outside quotation marks;
- `person_not_in_article`: a person whose name (or surname) the text never writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel
from rapidfuzz import fuzz

from schemas.api import DroppedFact, Grounding
from schemas.facts import FACT_LISTS, Casualties, Displacement, Figure, NewsFacts, Person, Quote
from service.folding import normalize, normalize_with_map
from service.numbers import is_stated
from service.quotemarks import inside_quotes

EVIDENCE_NOT_FOUND = "evidence_not_found"
NUMBER_NOT_IN_EVIDENCE = "number_not_in_evidence"
QUOTE_NOT_IN_ARTICLE = "quote_not_in_article"
QUOTE_NOT_QUOTED = "quote_not_quoted"
PERSON_NOT_IN_ARTICLE = "person_not_in_article"
CHECKS = (
    EVIDENCE_NOT_FOUND,
    NUMBER_NOT_IN_EVIDENCE,
    QUOTE_NOT_IN_ARTICLE,
    QUOTE_NOT_QUOTED,
    PERSON_NOT_IN_ARTICLE,
)
CHECK_EXPLANATIONS = {
    EVIDENCE_NOT_FOUND: "its evidence is not in the article",
    NUMBER_NOT_IN_EVIDENCE: "its evidence does not state its number",
    QUOTE_NOT_IN_ARTICLE: "its quote text is not the article's exact words",
    QUOTE_NOT_QUOTED: "its quote text is not inside quotation marks in the article",
    PERSON_NOT_IN_ARTICLE: "the article never names this person",
}

# partial_ratio of 85 tolerates a changed word or two in a sentence-long span, while a
# span that shares only a few words with the text scores far below it.
FUZZY_THRESHOLD = 85.0


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
    found = fuzzy_span(norm_evidence, norm_text)
    if found is None:
        return None, None, "none"
    first, last = found
    return index[first], index[last - 1] + 1, "fuzzy"


# partial_ratio slides the needle over the text, comparing it at every offset: its cost
# grows with the needle's length squared (5,000 characters against a 100,000-character
# article: 0.7 s, and snapping the window to words took a minute). A longer span is found
# by its two ends, each this long, then the whole compared once.
LONG_SPAN = 600
SPAN_END = 200


def fuzzy_span(needle: str, haystack: str) -> tuple[int, int] | None:
    """The span of `haystack` that states `needle` with small differences, or None; its
    cost is bounded by the text's length times a constant."""
    if len(needle) <= LONG_SPAN:
        alignment = fuzz.partial_ratio_alignment(needle, haystack)
        if alignment is None or alignment.score < FUZZY_THRESHOLD:
            return None
        return _best_word_window(needle, haystack, alignment.dest_start, alignment.dest_end)
    head = fuzzy_span(needle[:SPAN_END], haystack)
    if head is None:
        return None
    # The tail lies about one needle's length after the head (a fifth more or less).
    lo = head[0] + (len(needle) * 4) // 5 - SPAN_END
    hi = head[0] + (len(needle) * 6) // 5
    tail = fuzzy_span(needle[-SPAN_END:], haystack[max(lo, head[0]) : hi])
    if tail is None:
        return None
    span = head[0], max(lo, head[0]) + tail[1]
    if fuzz.ratio(needle, haystack[span[0] : span[1]]) < FUZZY_THRESHOLD:
        return None
    return span


_WORD = re.compile(r"\S+")


def _best_word_window(needle: str, haystack: str, start: int, end: int) -> tuple[int, int]:
    """Snap a fuzzy window to whole words, letting each edge move by a fifth of its length.

    partial_ratio's window is exactly as long as the needle, so when the text has an extra
    or a missing word the window cuts a word in half; the best-scoring whole-word span
    around it is the evidence as the article states it.
    """
    slack = min(max(8, len(needle) // 5), 60)  # at most a few words: the cost is slack²
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


def stated_numbers(fact: BaseModel) -> list[float]:
    """The numbers a fact claims its evidence states."""
    if isinstance(fact, Casualties | Displacement):
        return [fact.count] + ([fact.count_max] if fact.count_max is not None else [])
    if isinstance(fact, Figure):
        return [fact.value]
    return []


def _names_person(name: str, text: str) -> bool:
    norm_text = normalize(text)
    words = [w for w in normalize(name).split() if len(w) > 1]
    # The article may name someone in full once and by surname after: the surname suffices.
    return bool(words) and (" ".join(words) in norm_text or words[-1] in norm_text)


def _counted_there(fact: BaseModel, text: str) -> bool:
    """Whether the fact's number is a count the parse made of the people its span names
    (`Fact.counted`), and that span still holds its evidence."""
    at = getattr(fact, "span", None)
    held = at is not None and text[at[0] : at[1]] == fact.evidence  # type: ignore[attr-defined]
    return bool(getattr(fact, "counted", False) and held)


def failed_checks(fact: BaseModel, span: str | None, text: str) -> list[str]:
    """The checks a fact fails, given its evidence's span in text (None when not found)."""
    failed = []
    if span is None:
        failed.append(EVIDENCE_NOT_FOUND)
    # An aligned span is the article's own words; unaligned, hold the model to what it cited.
    evidence = span if span is not None else fact.evidence  # type: ignore[attr-defined]
    unstated = [v for v in stated_numbers(fact) if not is_stated(v, evidence)]
    if unstated and not _counted_there(fact, text):
        failed.append(NUMBER_NOT_IN_EVIDENCE)
    if isinstance(fact, Quote):
        start, end, match = align(fact.text, text)
        if match not in ("exact", "normalized"):
            failed.append(QUOTE_NOT_IN_ARTICLE)
        elif not inside_quotes(text, start or 0, end or 0):
            failed.append(QUOTE_NOT_QUOTED)
    if isinstance(fact, Person) and not _names_person(fact.name, text):
        failed.append(PERSON_NOT_IN_ARTICLE)
    return failed


def located(fact: BaseModel, text: str) -> tuple[int | None, int | None, str]:
    """Where a fact's evidence is: the span it was built from when it still holds the
    evidence (no search), else wherever `align` finds it (a model's fact)."""
    span = getattr(fact, "span", None)
    if span is not None and text[span[0] : span[1]] == fact.evidence:  # type: ignore[attr-defined]
        return span[0], span[1], "exact"
    return align(fact.evidence, text)  # type: ignore[attr-defined]


def ground(facts: NewsFacts, text: str) -> list[Grounding]:
    """One grounding entry per fact, in the order of the fact lists, with its failed checks."""
    entries = []
    for path, fact in iter_facts(facts):
        start, end, match = located(fact, text)
        span = text[start:end] if start is not None and end is not None else None
        entries.append(
            Grounding(
                path=path,
                start=start,
                end=end,
                match=match,  # type: ignore[arg-type]
                checks=failed_checks(fact, span, text),
            )
        )
    return entries


def drop_ungrounded(
    facts: NewsFacts, grounding: list[Grounding]
) -> tuple[NewsFacts, list[Grounding], list[DroppedFact]]:
    """Remove every fact that failed a check; the survivors keep their grounding entries,
    at their new paths."""
    kept: dict[str, list[BaseModel]] = {name: [] for name in FACT_LISTS}
    kept_grounding = []
    dropped = []
    for (path, fact), entry in zip(iter_facts(facts), grounding, strict=True):
        if entry.checks:
            dropped.append(DroppedFact(path=path, checks=entry.checks, fact=fact.model_dump()))
            continue
        list_name = path.partition("[")[0]
        new_path = f"{list_name}[{len(kept[list_name])}]"
        kept[list_name].append(fact)
        kept_grounding.append(entry.model_copy(update={"path": new_path}))
    return NewsFacts.model_validate(kept), kept_grounding, dropped
