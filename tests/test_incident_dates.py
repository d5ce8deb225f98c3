"""Dates as written resolved against the publication day: events, running totals, guesses."""

from __future__ import annotations

import datetime as dt

import pytest

from service.incidents.dates import resolve_date

THU = dt.date(2016, 7, 28)  # a Thursday


@pytest.mark.parametrize(
    ("own", "sentence", "start", "end", "running", "guessed"),
    [
        ("early Sunday", None, dt.date(2016, 7, 24), dt.date(2016, 7, 24), False, False),
        ("on Thursday night", None, THU, THU, False, False),  # the publication day itself
        ("last night", None, dt.date(2016, 7, 27), dt.date(2016, 7, 27), False, False),
        ("on April 9", None, dt.date(2016, 4, 9), dt.date(2016, 4, 9), False, False),
        ("on 3 March 2015", None, dt.date(2015, 3, 3), dt.date(2015, 3, 3), False, False),
        (None, "On Tuesday.", dt.date(2016, 7, 26), dt.date(2016, 7, 26), False, False),
        ("since 24 February", None, dt.date(2016, 2, 24), THU, True, False),
        # "from" after a verb of cause names the event, not a total's start
        (None, "180 Deaths Resulting From July 4 Explosions", dt.date(2016, 7, 4),
         dt.date(2016, 7, 4), False, False),
        # ... nor does "from" before the day that owns the event
        (None, "Most of the casualties from Sunday's earthquake are in the city.",
         dt.date(2016, 7, 24), dt.date(2016, 7, 24), False, False),
        # ... while "since" before it still starts one
        (None, "Some 200 have died of cholera since Sunday's earthquake.", dt.date(2016, 7, 24),
         THU, True, False),
        ("so far this year", None, dt.date(2016, 1, 1), THU, True, False),
        ("in the past week", None, dt.date(2016, 7, 22), THU, True, False),
        ("in the past 24 hours", None, THU, THU, True, False),
        ("no date words here", None, THU, THU, False, True),  # the publication day stands in
        # a weekday with its date is one phrase: the date decides
        ("on Monday, July 4", None, dt.date(2016, 7, 4), dt.date(2016, 7, 4), False, False),
        # a sentence stating a range of days makes a running total, whatever the fact says
        (None, "From 24 February until 3 March, the Office recorded 331 killed.",
         dt.date(2016, 2, 24), THU, True, False),
        # ... and so does one totalling a year or a month
        (None, "It was the 40th homicide this year.", dt.date(2016, 1, 1), THU, True, False),
        (None, "At least 80 people were killed in the city in June alone.", None, THU, True,
         False),
        # ... or one rounding up several events
        (None, "At least 13 people were shot, one fatally, in separate incidents.", None, THU,
         True, False),
        (None, "13 struck by gunfire in a weekend of violence", None, THU, True, False),
        (None, "Five men are dead after a series of overnight shootings.",
         THU - dt.timedelta(days=1), THU, True, False),
        (None, "Four people were killed and seven injured in shootings across the city.", None,
         THU, True, False),
        (None, "Five men are dead after a series of overnight shooting's.",
         THU - dt.timedelta(days=1), THU, True, False),
        (None, "Police: 8 Dead, 27 Wounded In Weekend Shootings Across Chicago", None, THU,
         True, False),
        # one shooting "across the street" is no round-up
        (None, "Four people were shot from across the street.", THU, THU, False, True),
    ],
)  # fmt: skip
def test_a_date_as_written_resolves_against_the_publication_day(
    own: str | None, sentence: str | None, start: dt.date | None, end: dt.date, running: bool,
    guessed: bool,
) -> None:  # fmt: skip
    found = resolve_date(THU, own, sentence)
    assert found is not None
    assert (found.start, found.end, found.running_total, found.guessed) == (
        start,
        end,
        running,
        guessed,
    )


def test_running_words_in_the_lede_make_no_running_total_of_a_fact() -> None:
    found = resolve_date(THU, sentence="Two were shot on Sunday.", lede="So far this year, 380.")
    assert found is not None and not found.running_total and found.start == dt.date(2016, 7, 24)


@pytest.mark.parametrize(
    ("lede", "running"),
    [
        ("From 24 February until 3 March, the Office recorded 1,058 civilian casualties.", True),
        ("Since 24 February, the Office has recorded 1,058 civilian casualties.", True),
        ("Police have so far named one of the victims.", False),  # no range of days
        ("Two were shot on Sunday.", False),
    ],
)
def test_a_lede_totalling_a_range_of_days_makes_its_undated_parts_running_totals(
    lede: str, running: bool
) -> None:
    found = resolve_date(THU, sentence="In Donetsk region: 471 casualties (86 killed).", lede=lede)
    assert found is not None and found.running_total is running


def test_without_a_publication_day_only_a_full_date_resolves() -> None:
    assert resolve_date(None, "on Tuesday") is None
    found = resolve_date(None, "on March 3, 2015")
    assert found is not None and found.start == dt.date(2015, 3, 3)
