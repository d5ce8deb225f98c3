"""Reports of one measure reconciled: low / best / high by the written rule, and conflicts."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.incidents import FigureReport
from service.incidents.mentions import Mention, Report
from service.incidents.reconcile import build_incident, reconcile

D = dt.date(2020, 8, 5)


def r(value: int, outlet: str, days: int = 0, value_max: int | None = None) -> FigureReport:
    """A report of `value` by `outlet`, `days` after D."""
    return FigureReport(value=value, value_max=value_max, outlet=outlet,
                        published=D + dt.timedelta(days=days), article=f"{outlet}-{days}",
                        evidence=str(value))  # fmt: skip


@pytest.mark.parametrize(
    ("reports", "low", "best", "high", "conflicting"),
    [
        # one source revising upward: its latest word, no conflict
        ([r(17, "a"), r(95, "a", 1)], 17, 95, 95, []),
        # two sources, a later higher toll: time explains it
        ([r(100, "a"), r(135, "b", 2)], 100, 135, 135, []),
        # the same day, beyond rounding: a conflict
        ([r(15, "a"), r(30, "b")], 15, 30, 30, ["a", "b"]),
        # within rounding (10 %): no conflict
        ([r(100, "a"), r(105, "b")], 100, 105, 105, []),
        # a later, lower figure from another source: time does not explain it
        ([r(220, "a"), r(180, "b", 9)], 180, 220, 220, ["a", "b"]),
        # ... even where the first source later came down to the second's figure
        ([r(220, "a", 7), r(180, "b", 16), r(180, "a", 42)], 180, 180, 220, ["a", "b"]),
        # a source lower a week later stays in dispute after its count caught up
        ([r(150, "a"), r(112, "b", 9), r(230, "b", 30)], 112, 230, 230, ["a", "b"]),
        # a source coming down on its own figure is revising it, no dispute
        ([r(220, "a"), r(180, "a", 9)], 180, 180, 220, []),
        # a range's upper bound is the high
        ([r(10, "a", 0, 15)], 10, 10, 15, []),
    ],
)  # fmt: skip
def test_reports_reconcile_by_the_rule(
    reports: list[FigureReport], low: int, best: int, high: int, conflicting: list[str]
) -> None:
    measure, sources = reconcile(reports)
    assert (measure.low, measure.best, measure.high) == (low, best, high)
    assert sources == conflicting
    assert measure.rule and len(measure.reports) == len(reports)


def test_an_article_gives_each_measure_once_the_figure_it_states_first() -> None:
    first = Mention(
        id="a#0",
        article="a",
        family="violence",
        kind="casualties",
        published=D,
        reports=[Report(measure="killed", value=3, evidence="3", start=10)],
    )
    later = first.model_copy(
        update={
            "id": "a#1",
            "reports": [
                Report(measure="killed", value=80, evidence="80", start=400),
                Report(measure="injured", value=2, evidence="2", start=420),
            ],
        }
    )
    incident = build_incident([later, first])
    assert [r.value for r in incident.figures["killed"].reports] == [3]
    assert [r.value for r in incident.figures["injured"].reports] == [2]


def _told(article: str, days: int, **figures: int) -> Mention:
    """One article's mention `days` after D with `figures` (measure=value), in that order."""
    reports = [
        Report(measure=m, value=v, evidence=str(v), start=10 * n)
        for n, (m, v) in enumerate(figures.items())
    ]
    day = D + dt.timedelta(days=days)
    return Mention(id=f"{article}#0", article=article, family="violence", kind="casualties",
                   published=day, outlet=article, reports=reports)  # fmt: skip


@pytest.mark.parametrize(
    ("mentions", "best_injured"),
    [
        # "Four hurt" on Sunday; "one dead, three injured" on Tuesday: one of the four died
        ([_told("a", 0, injured=4), _told("b", 2, killed=1, injured=3)], 3),
        # ... said as the shot: "seven shot"; "one killed, six wounded"
        ([_told("a", 0, killed_or_injured=7, injured=7), _told("b", 1, killed=1, injured=6)], 6),
        # the article with the best killed gives no shot figure: nothing to take away
        ([_told("a", 0, injured=4), _told("b", 2, killed=1)], 4),
        # another article says more were shot than the one with the killed: no telling
        ([_told("a", 0, killed_or_injured=9, injured=9), _told("b", 2, killed=1, injured=3)], 9),
        # "2 killed, 2 shot": the two shot are the others, not all who were shot
        ([_told("a", 0, killed=2, killed_or_injured=2, injured=2)], 2),
        # its "one was shot" counts fewer than its own injured: no shot figure, its sum is
        ([_told("a", 0, injured=5), _told("b", 1, killed=1, injured=4, killed_or_injured=1)], 4),
    ],
)
def test_the_wounded_who_died_are_no_longer_injured(
    mentions: list[Mention], best_injured: int
) -> None:
    incident = build_incident(mentions)
    injured = incident.figures["injured"]
    assert injured.best == best_injured
    assert injured.low <= injured.best <= injured.high
    assert ("less those since killed" in injured.rule) == (best_injured < max(
        r.value for r in injured.reports))  # fmt: skip
