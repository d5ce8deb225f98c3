"""Numbers as news text writes them: "1,252", "3.2 million", "six,000", "Twenty-two"."""

from __future__ import annotations

import re

from text_to_num import alpha2digit

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALED = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion|trillion)\b", re.I)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
RELATIVE_TOLERANCE = 0.005


def _parse(token: str) -> float:
    return float(token.replace(",", ""))


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
    return found


def same_number(a: float, b: float, tolerance: float = RELATIVE_TOLERANCE) -> bool:
    """True when a and b agree within a relative tolerance (±0.5 % by default)."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b)) or a == b


def is_stated(value: float, text: str) -> bool:
    """True when value is one of the numbers text states."""
    return any(same_number(value, n) for n in numbers_in(text))
