"""Numbers as news text writes them: "1,252", "3.2 million", "25-thousand", "six,000",
"Twenty-two"."""

from __future__ import annotations

import math
import re

from text_to_num import alpha2digit

SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
# A match starts only where a run of digits starts, and the run is taken whole (possessive):
# tried at every digit of "1,1,1,…", the pattern was quadratic (a 100k run took 4 minutes).
_SCALED = re.compile(
    r"(?<![\d,.])(\d[\d,]*+(?:\.\d+)?)(?:\s*|-)(hundred|thousand|million|billion|trillion)\b",
    re.I,
)
_NUMBER = re.compile(r"\d[\d,]*+(?:\.\d+)?")
RELATIVE_TOLERANCE = 0.005
# "3-4,000", "5 to 6 million": a numeral, a range word, a numeral with its scale.
_RANGE = re.compile(
    r"(\d[\d,.]*)\s*(?:-|\u2013|to|and|or)\s*(\d[\d,.]*(?:\s*(?:thousand|million|billion))?)",
    re.I,
)
_ONE = re.compile(r"\b(?:a|an|another)\b", re.I)
MULTIPLES = {"double": 2, "triple": 3, "quadruple": 4}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}  # fmt: skip
_ORDINAL_DIGITS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)")
_WORD = re.compile(r"\w+")
# No quantity news reports reaches 10^15; a longer run of digits is not a count (and past
# 308 digits it parses to infinity, which no int holds).
LARGEST = 1e15


# A grouped number whose last group runs past three digits carries a footnote mark that
# lost its superscript: a fact sheet's "230,0001" is 230,000 and note 1.
_FOOTNOTED = re.compile(r"^(\d{1,3}(?:,\d{3})*,\d{3})\d{1,2}$")


def _parse(token: str) -> float:
    footnoted = _FOOTNOTED.match(token)
    return float((footnoted.group(1) if footnoted else token).replace(",", ""))


def finite(value: float) -> bool:
    """True for a number a float can hold: not inf or nan, and no int past float's range (a
    model that copies 400 digits into a count gives one)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def plausible(value: float) -> bool:
    """True for a finite value below LARGEST: one a news text can state as a quantity."""
    return finite(value) and abs(value) < LARGEST


def numbers_in(text: str) -> list[float]:
    """Every number stated in text, normalised to a plain value."""
    found: list[float] = []

    def scaled(match: re.Match[str]) -> str:
        found.append(_parse(match.group(1)) * SCALES[match.group(2).lower()])
        return " "

    rest = _SCALED.sub(scaled, text)
    # Paraphrase artefacts like "six,000": spell the word out as a digit before parsing.
    rest = alpha2digit(rest, "en", threshold=0)
    rest = _SCALED.sub(scaled, rest)
    found.extend(_parse(m.group(0).rstrip(",.")) for m in _NUMBER.finditer(rest))
    return [value for value in found if plausible(value)]


def range_low(low: float, high: float) -> float:
    """A range's low end written without the high end's thousands or millions: "3-4,000"
    is 3,000 to 4,000, "5 to 6 million" 5 million to 6 million; "21 to 36" is as written."""
    for scale in (1e9, 1e6, 1e3):
        if low < 1000 and high % scale == 0 and high / 10 < low * scale < high:
            return low * scale
    return low


def _range_lows(text: str) -> list[float]:
    """The low ends of the ranges text states, scaled like their high ends (`range_low`)."""
    lows = []
    for match in _RANGE.finditer(text):
        low, high = numbers_in(match.group(1)), numbers_in(match.group(2))
        if low and high and high[0] > low[0]:
            lows.append(range_low(low[0], high[0]))
    return lows


def same_number(a: float, b: float, tolerance: float = RELATIVE_TOLERANCE) -> bool:
    """True when a and b agree within a relative tolerance (±0.5 % by default); never for
    an infinite or nan value (inf is within any tolerance of everything, times inf)."""
    if not (finite(a) and finite(b)):
        return False
    return abs(a - b) <= tolerance * max(abs(a), abs(b)) or a == b


def ordinal_value(word: str) -> int | None:
    """The number an ordinal word gives ("third": 3, "2nd": 2), None for any other word."""
    word = word.lower().rstrip(".")
    digits = _ORDINAL_DIGITS.fullmatch(word)
    return ORDINALS.get(word) or (int(digits.group(1)) if digits else None)


def reader_counts(text: str) -> set[float]:
    """Counts a reader makes from words without a numeral: one for "a man", and each "a"
    joined to the numbers beside it ("a man and his two children": 3); 2 for a "double"
    killing, 3 for a "triple"; 3 for "a third person has died"."""
    found = {float(n) for word, n in MULTIPLES.items() if re.search(rf"\b{word}\b", text, re.I)}
    found |= {float(n) for w in _WORD.findall(text) if (n := ordinal_value(w))}
    ones = len(_ONE.findall(text))
    if ones:
        found |= {1.0, ones + sum(numbers_in(text))}
    return found


def is_stated(value: float, text: str) -> bool:
    """True when value is one of the numbers text states, or a count its words make
    (`reader_counts`): never one no news text states (an infinite value, or one past
    LARGEST), which is refused as unsupported."""
    if not plausible(value):
        return False
    stated = [*numbers_in(text), *_range_lows(text)]
    return any(same_number(value, n) for n in stated) or value in reader_counts(text)
