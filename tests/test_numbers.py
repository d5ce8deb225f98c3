"""Numbers as written in the seeds, including paraphrase artefacts."""

from __future__ import annotations

import pytest

from service.numbers import is_stated, numbers_in, same_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Twenty-two civilians were killed", [22]),
        ("5,000 to six,000 Russian troops", [5000, 6000]),
        ("the estimate of three,000 simply days", [3000]),
        ("some 3.2 million civilians", [3_200_000]),
        ("$100 billion in injury", [100_000_000_000]),
        ("780 people killed and 1,252 injured.", [780, 1252]),
        ("More than 1 million refugees", [1_000_000]),
        ("killed three individuals", [3]),
        ("no numbers here", []),
    ],
)
def test_numbers_in(text: str, expected: list[float]) -> None:
    assert numbers_in(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(1000, 1004, True), (1000, 1006, False), (0, 0, True), (3.2e6, 3_200_000, True)],
)
def test_same_number_within_half_a_percent(a: float, b: float, same: bool) -> None:
    assert same_number(a, b) is same


def test_is_stated() -> None:
    assert is_stated(6000, "5,000 to six,000 Russian troops")
    assert not is_stated(7000, "5,000 to six,000 Russian troops")
