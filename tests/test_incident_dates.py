"""Dates as written resolved against the publication day: events, running totals, guesses."""

from __future__ import annotations

import datetime as dt

import pytest

from service.incidents.dates import resolve_date

THU = dt.date(2016, 7, 28)  # a Thursday


@pytest.mark.parametrize(
    ("texts", "own", "start", "end", "running", "guessed"),
    [
        (["early Sunday"], "", dt.date(2016, 7, 24), dt.date(2016, 7, 24), False, False),
        (["on Thursday night"], "", THU, THU, False, False),  # the publication day itself
        (["last night"], "", dt.date(2016, 7, 27), dt.date(2016, 7, 27), False, False),
        (["on April 9"], "", dt.date(2016, 4, 9), dt.date(2016, 4, 9), False, False),
        (["on 3 March 2015"], "", dt.date(2015, 3, 3), dt.date(2015, 3, 3), False, False),
        ([None, "On Tuesday."], "", dt.date(2016, 7, 26), dt.date(2016, 7, 26), False, False),
        (["since 24 February"], "since 24 February", dt.date(2016, 2, 24), THU, True, False),
        (["so far this year"], "so far this year", dt.date(2016, 1, 1), THU, True, False),
        (["in the past week"], "in the past week", dt.date(2016, 7, 22), THU, True, False),
        (["in the past 24 hours"], "in the past 24 hours", THU, THU, True, False),
        (["no date words here"], "", THU, THU, False, True),  # the publication day stands in
        # a weekday with its date is one phrase: the date decides
        (["on Monday, July 4"], "", dt.date(2016, 7, 4), dt.date(2016, 7, 4), False, False),
    ],
)  # fmt: skip
def test_a_date_as_written_resolves_against_the_publication_day(
    texts: list[str | None], own: str, start: dt.date, end: dt.date, running: bool, guessed: bool
) -> None:
    found = resolve_date(texts, THU, own)
    assert found is not None
    assert (found.start, found.end, found.running_total, found.guessed) == (
        start,
        end,
        running,
        guessed,
    )


def test_without_a_publication_day_only_a_full_date_resolves() -> None:
    assert resolve_date(["on Tuesday"], None) is None
    found = resolve_date(["on March 3, 2015"], None)
    assert found is not None and found.start == dt.date(2015, 3, 3)
