"""Mentions grouped into incidents: what links two reports and what keeps them apart."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.incidents import FactDate
from service.incidents.grouping import group, linked, same_place_same_day
from service.incidents.mentions import Mention, Report
from service.incidents.places import resolve_place

DAY = dt.date(2016, 7, 24)
STORY = "Two killed, four wounded in a shooting at a block party on the South Side"
HOUSTON = "Police in Houston say two men died after gunfire outside a nightclub downtown"
OTHER = "Fire crews battle a warehouse blaze near the river; no one was hurt"


def mention(
    article: str,
    place: str | None = "Chicago",
    days: int = 0,
    text: str = STORY,
    killed: int | None = 2,
    guessed: bool = False,
    injured: int | None = None,
    **kw: Any,
) -> Mention:
    """A violent-event mention of one article."""
    day = DAY + dt.timedelta(days=days)
    figures = {"killed": killed, "injured": injured}
    reports = [Report(measure=k, value=v, evidence=str(v)) for k, v in figures.items() if v]
    return Mention(id=f"{article}#0", article=article, family="violence", kind="casualties",
                   place=resolve_place(place, "US", "IL") if place else None,
                   date=FactDate(start=day, end=day, guessed=guessed), published=day,
                   reports=reports, text=text, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (mention("a"), mention("b"), True),  # same place, day and story
        (mention("a"), mention("b", days=1), True),  # reported the next day
        (mention("a"), mention("b", days=3, text=HOUSTON), False),  # outside the window
        (mention("a"), mention("b", days=3), True),  # a follow-up: same place, same story
        (mention("a"), mention("b", days=20), False),  # too late even for a follow-up
        (mention("a"), mention("b", place=None), True),  # one unplaced, same story
        (mention("a"), mention("b", place="Houston, Texas", text=HOUSTON), False),  # elsewhere
        (mention("a"), mention("b", text=OTHER, killed=None), False),  # same day, other story
        (mention("a", text=OTHER, killed=None, place=None), mention("b", place=None), False),
        (mention("a"), mention("a"), False),  # one article is never two reports of one event
        # days later, in other words: the same town, figures and names make the follow-up
        (mention("a", killed=1, injured=8, names=["Darnell Jones"]),
         mention("b", days=3, text=OTHER, killed=1, injured=8, names=["Darnell Jones"]), True),
        (mention("a", killed=1, injured=8),
         mention("b", days=3, text=OTHER, killed=1, injured=8), False),  # no name in common
        # months later (a trial, an anniversary): the same town and the same figures, and a
        # name in common unless four or more were killed ("1 killed, 3 hurt" recurs)
        (mention("a", killed=1, injured=8, names=["Darnell Jones"]),
         mention("b", days=120, killed=1, injured=8, names=["Darnell Jones"]), True),
        (mention("a", killed=1, injured=8), mention("b", days=120, killed=1, injured=8), False),
        (mention("a", killed=6), mention("b", days=100, killed=6), True),  # 4+ killed
        (mention("a", killed=1, injured=8), mention("b", days=120, killed=1, injured=7), False),
        (mention("a", killed=None, injured=5), mention("b", days=120, killed=None, injured=5),
         False),  # injuries alone: too common in a city
        (mention("a", killed=1, injured=8), mention("b", days=400, killed=1, injured=8), False),
        (mention("a", "Illinois", killed=1, injured=8),
         mention("b", "Illinois", days=120, killed=1, injured=8), False),  # a state: too wide
    ],
)  # fmt: skip
def test_two_mentions_link_when_window_place_and_text_agree(
    a: Mention, b: Mention, expected: bool
) -> None:
    cosine = 1.0 if a.text == b.text else 0.0
    assert linked(a, b, cosine) is expected


def test_incidents_are_connected_components() -> None:
    found = group(
        [mention("a"), mention("b", days=1), mention("c", place="Houston, Texas", text=HOUSTON)]
    )
    assert sorted(sorted(m.article for m in c) for c in found) == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    ("b", "expected"),
    [(mention("b"), True), (mention("b", days=1), False), (mention("b", place="Englewood"), False)],
)
def test_the_baseline_links_only_the_same_place_on_the_same_day(b: Mention, expected: bool) -> None:
    assert same_place_same_day(mention("a"), b, 0.0) is expected


def test_settled_mentions_stay_together_and_a_new_one_merges_what_it_links() -> None:
    houston = mention("b", place="Houston, Texas", text=HOUSTON)
    found = group([mention("a"), houston, mention("c", days=1)], settled=["x", "x", None])
    assert [sorted(m.article for m in c) for c in found] == [["a", "b", "c"]]


def test_two_settled_incidents_are_not_compared_again() -> None:
    found = group([mention("a"), mention("b")], settled=["x", "y"])
    assert sorted(sorted(m.article for m in c) for c in found) == [["a"], ["b"]]


QUAKE = "A 7.8 magnitude earthquake struck Nepal on Saturday, flattening homes and temples"
QUAKE_LATER = "Aid reaches districts cut off since the quake; the death toll passes 7,000"
FLOODS = "Monsoon floods swept through the district, cutting roads and bridges"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # one earthquake in one country: its reports name different towns, weeks apart
        (mention("a", "Kathmandu", text=QUAKE, killed=1450),
         mention("b", "Pokhara", days=12, text=QUAKE_LATER, killed=7000), True),
        (mention("a", "Kathmandu", text=QUAKE), mention("b", "Nepal", days=25, text=QUAKE_LATER),
         True),
        # too late, another country, or another hazard
        (mention("a", "Kathmandu", text=QUAKE), mention("b", "Pokhara", days=40, text=QUAKE_LATER),
         False),
        (mention("a", "Kathmandu", text=QUAKE), mention("b", "Islamabad", days=2, text=QUAKE),
         False),
        (mention("a", "Kathmandu", text=QUAKE), mention("b", "Pokhara", days=12, text=FLOODS),
         False),
        # shootings are no hazard: two cities apart stay apart
        (mention("a", "Chicago"), mention("b", "Peoria", days=5), False),
    ],
)  # fmt: skip
def test_one_disaster_in_one_country_is_one_incident(
    a: Mention, b: Mention, expected: bool
) -> None:
    assert linked(a, b, 0.1) is expected
