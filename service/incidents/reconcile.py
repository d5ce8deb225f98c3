"""A group of mentions made one incident: its figures reconciled, its conflicts named.

The rule for `best`, per measure (as ACLED and UCDP revise: each source's latest word):

1. an article gives each measure once (the figure it states first); each source (the
   outlet, else who gave the figure, else the article) counts once, by its latest report
   (publication day, then the larger figure of that day);
2. `best` is the highest of those latest figures: a toll is revised upward as victims die
   and bodies are found, and a smaller latest figure is an older count;
3. `low` and `high` are the lowest and highest figure any report gives (a range's bound
   included).

Sources disagree (a `conflict`) when two of their reports differ beyond rounding (more than
10 % and more than 1) and time does not explain it: reported on the same day, or the later
one lower (220 dead said by one source on the 12th, 180 by another on the 21st), whatever
either said since. A source revising its own figure is no conflict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence

from schemas.incidents import (
    Conflict,
    DateRange,
    FigureReport,
    Incident,
    IncidentKind,
    Measure,
    Series,
    SeriesPoint,
)
from service.incidents.mentions import Mention, Report, SeriesReport, most_named, stated_at

BEST_RULE = "highest of each source's latest report"
LESS_THE_DEAD = f"{BEST_RULE}, less those since killed (as the article with the best killed says)"
_EPOCH = dt.date(1, 1, 1)


def _source(report: FigureReport) -> str:
    return report.outlet or report.reported_by or report.article


def _disagree(a: int, b: int) -> bool:
    return abs(a - b) > max(1, 0.1 * max(a, b))


def reconcile(reports: list[FigureReport]) -> tuple[Measure, list[str]]:
    """The measure over every report, and the sources in conflict over it."""
    latest: dict[str, FigureReport] = {}
    for report in sorted(reports, key=lambda r: (r.published or _EPOCH, r.value)):
        latest[_source(report)] = report
    best = max(r.value for r in latest.values())
    low = min(r.value for r in reports)
    high = max(max(r.value, r.value_max or 0) for r in reports)
    conflicting: set[str] = set()
    ordered = sorted(reports, key=lambda r: r.published or _EPOCH)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if _source(a) == _source(b) or not _disagree(a.value, b.value):
                continue  # a source revising its own figure is no dispute
            days = ((b.published or _EPOCH) - (a.published or _EPOCH)).days
            # lower later: a dispute even when that source's count caught up since (the
            # minister's 150,000 dead against the government's 112,405 a week later)
            if days == 0 or b.value < a.value:
                conflicting |= {_source(a), _source(b)}
    measure = Measure(low=low, best=best, high=high, rule=BEST_RULE, reports=reports)
    return measure, sorted(conflicting)


def incident_id(mentions: Sequence[Mention]) -> str:
    """A stable id: from the group's first mention, so adding reports keeps it."""
    first = min(m.id for m in mentions)
    return "inc-" + hashlib.sha1(first.encode()).hexdigest()[:12]


def _dates(mentions: Sequence[Mention]) -> DateRange:
    dated = [m.date for m in mentions if m.date and m.date.start]
    stated = [d for d in dated if not d.guessed] or dated
    if not stated:
        return DateRange()
    return DateRange(
        start=min(d.start for d in stated if d.start),
        end=max(d.end or d.start for d in stated if d.start),
    )


def _first_per_article(mentions: Sequence[Mention]) -> list[tuple[Mention, Report]]:
    """Each article's report of each measure once: the one it states first. An article's
    later mentions grouped into the same incident (a day recalled, a second count) are the
    same event told again, not another source."""
    first: dict[tuple[str, str], tuple[Mention, Report]] = {}
    for m in mentions:
        for r in m.reports:
            key = (m.article, r.measure)
            if key not in first or stated_at(r) < stated_at(first[key][1]):
                first[key] = (m, r)
    return list(first.values())


def _shot_total(reports: Sequence[Report]) -> int | None:
    """The number one article says were shot: its killed-or-injured figure when that counts
    at least its killed and its injured together (not "one was shot" of four, nor the "2
    shot" of "2 killed, 2 shot"), else its killed and injured together when it gives both."""
    by = {r.measure: r.value for r in reports}
    shot, killed, injured = (by.get(m) for m in ("killed_or_injured", "killed", "injured"))
    if shot is not None and shot >= (killed or 0) + (injured or 0):
        return shot
    if killed is not None and injured is not None:
        return killed + injured
    return None


def _less_the_dead(figures: dict[str, Measure], firsts: list[tuple[Mention, Report]]) -> None:
    """The wounded who died since are no longer injured: when an article that gives the best
    killed figure also says how many were shot, and no article says more were shot, `best`
    injured is at most its shot less its killed ("Four hurt" on Sunday, "one dead and three
    injured" on Tuesday: three injured)."""
    injured, killed = figures.get("injured"), figures.get("killed")
    if injured is None or killed is None:
        return
    per_article: dict[str, list[Report]] = {}
    for m, r in firsts:
        per_article.setdefault(m.article, []).append(r)
    totals = {a: t for a, rs in per_article.items() if (t := _shot_total(rs)) is not None}
    knowing = [
        totals[a]
        for a, rs in per_article.items()
        if a in totals and any(r.measure == "killed" and r.value == killed.best for r in rs)
    ]
    if not knowing or max(knowing) < max(totals.values()):
        return
    left = max(knowing) - killed.best
    if 0 <= left < injured.best:
        injured.best, injured.low = left, min(injured.low, left)
        injured.rule = LESS_THE_DEAD


def build_incident(mentions: Sequence[Mention], known_id: str | None = None) -> Incident:
    """The incident a group of mentions reports (under `known_id` when it already had one)."""
    kinds = Counter(m.kind for m in mentions)
    kind: IncidentKind = "attack" if kinds["attack"] else kinds.most_common(1)[0][0]
    by_measure: dict[str, list[FigureReport]] = {}
    firsts = _first_per_article(mentions)
    for m, r in firsts:
        by_measure.setdefault(r.measure, []).append(
            FigureReport(
                value=r.value,
                value_max=r.value_max,
                reported_by=r.reported_by,
                outlet=m.outlet,
                published=m.published,
                article=m.article,
                evidence=r.evidence,
                start=r.start,
                end=r.end,
            )
        )
    figures, conflicts = {}, []
    for name, reports in sorted(by_measure.items()):
        figures[name], sources = reconcile(reports)
        if sources:
            values = sorted({r.value for r in reports if _source(r) in sources})
            conflicts.append(Conflict(measure=name, sources=sources, values=values))
    _less_the_dead(figures, firsts)
    return Incident(
        id=known_id or incident_id(mentions),
        kind=kind,
        place=most_named([m.place for m in mentions if m.place is not None]),
        date=_dates(mentions),
        articles=sorted({m.article for m in mentions}),
        figures=figures,
        conflicts=conflicts,
    )


def series_key(point: SeriesReport) -> str:
    """The series a running total belongs to: its measure and place."""
    where = point.place.gazetteer_id or point.place.name if point.place else "-"
    return "ser-" + hashlib.sha1(f"{point.measure}|{where}".encode()).hexdigest()[:12]


def build_series(points: Sequence[SeriesReport]) -> list[Series]:
    """Running totals grouped by measure and place, each in date order."""
    grouped: dict[str, list[SeriesReport]] = {}
    for point in points:
        grouped.setdefault(series_key(point), []).append(point)
    out = []
    for key, members in grouped.items():
        rows = [
            SeriesPoint(
                date=p.date.end,
                since=p.date.start,
                value=p.report.value,
                value_max=p.report.value_max,
                reported_by=p.report.reported_by,
                outlet=p.outlet,
                article=p.article,
                evidence=p.report.evidence,
                start=p.report.start,
                end=p.report.end,
            )
            for p in members
        ]
        rows.sort(key=lambda r: (r.date or _EPOCH, r.value))
        out.append(Series(id=key, measure=members[0].measure, place=members[0].place, points=rows))
    return out
