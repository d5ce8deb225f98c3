"""Who gave a figure, where and when, read from the parse (news text of other events)."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.nlp import parse
from service.extraction.strategies import HYBRID_STEPS


def _number(nlp: Any, text: str, words: str) -> Any:
    article = parse(text, nlp, HYBRID_STEPS)
    return next(n for n in article.numbers if text[n.start : n.end] == words)


@pytest.mark.parametrize(
    ("text", "words", "reported_by", "location", "period"),
    [
        ("At least 40 people were killed in Khartoum over the past week, the health ministry "
         "said.", "40", "health ministry", "Khartoum", "over the past week"),
        ("According to the Red Crescent, 12 people died in Derna.", "12", "Red Crescent",
         "Derna", None),
        ("Police said 9 miners were trapped in Zacatecas on Tuesday.", "9", "Police",
         "Zacatecas", None),
        ("A report by the UN agency in Geneva, Switzerland said 300 families fled.", "300",
         "UN agency", None, None),
        ("Some 2,000 houses were destroyed.", "2,000", None, None, None),
        # the person a description names is the source
        ("A spokeswoman for the Red Crescent, Amina Saleh, said 12 people drowned.", "12",
         "Amina Saleh", None, None),
        # the time of the figure's clause, not of the reporting ("said on Monday")
        ("Officials said on Monday that 2,300 migrants drowned in 2016 alone.", "2,300",
         "Officials", None, "in 2016"),
        # a span of time no date names
        ("At least 300 people have died in the fighting so far, the ministry said.", "300",
         "ministry", None, "in the fighting so far"),
        ("Some 1,200 homes have burned since the fires began.", "1,200", None, None,
         "since the fires began"),
    ],
    ids=["said-after", "according-to", "subject-before", "body-before-place", "no-source",
         "person-in-description", "clause-time", "so-far", "since-phrase"],
)  # fmt: skip
def test_source_place_and_time(
    nlp: Any, text: str, words: str, reported_by: str | None, location: str | None,
    period: str | None,
) -> None:  # fmt: skip
    number = _number(nlp, text, words)
    assert (number.reported_by, number.location, number.period) == (
        reported_by, location, period,
    )  # fmt: skip


def test_side_from_nationality(nlp: Any) -> None:
    number = _number(nlp, "Seven Ethiopian soldiers were wounded.", "Seven")
    assert number.side == "Ethiopia"


def test_destination(nlp: Any) -> None:
    number = _number(nlp, "About 5,000 people fled to Chad last month.", "5,000")
    assert number.destination == "Chad"
