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
        # VOA writes scaled numbers with a hyphen
        ("the 25-thousand Americans in Lebanon", [25_000]),
        ("almost all of the 18-hundred residents", [1800]),
        ("no numbers here", []),
        # a fact sheet's footnote mark, its superscript lost
        ("Estimated Deaths 230,0001 GoH", [230_000]),
        ("1,000,0002 people", [1_000_000]),
        ("in 2021, 12,000 people", [2021, 12_000]),
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


@pytest.mark.parametrize(
    ("value", "text", "stated"),
    [
        (1, "A man was killed", True),
        (3, "a man and his two children were shot dead", True),
        (2, "a double homicide", True),
        (3, "Third person dies", True),  # an ordinal numbers the dead
        (2, "2nd body found", True),
        (1, "a 13-year-old boy", True),
        (2, "A man was killed", False),
        (1, "Officials said the road was closed", False),
        # a range's low end takes the high end's scale
        (3000, "as many as 3-4,000 people", True),
        (5_000_000, "between 5 and 6 million people", True),
        (3, "as many as 3-4,000 people", True),
        # not across a list, nor where the low end is already of its own size
        (3000, "3 killed, 4,000 fled", False),
        (21000, "from 21 to 36 districts", False),
    ],
)
def test_counts_a_reader_makes_and_range_ends_are_stated(
    value: float, text: str, stated: bool
) -> None:
    assert is_stated(value, text) is stated
