"""The incidents page: each incident's reports side by side by source and date, conflicts
marked, a timeline of each place's figures (running totals as a line, incidents as points),
and every figure linked to its evidence in the article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.incidents import Incident, Series
from service.api.html_view import templates
from service.store.store import Store, all_incidents
from service.store.tables import ArticleRow

CONTEXT_CHARS = 160
WIDTH, HEIGHT, PAD = 640, 170, 34


def evidence_anchor(article: str, start: int | None, end: int | None) -> str:
    """The page-local id of one evidence span."""
    return f"ev-{article}-{start if start is not None else 'x'}-{end if end is not None else 'x'}"


@dataclass
class Timeline:
    """One place's figures over time, laid out as SVG coordinates."""

    place: str
    measure: str
    line: str = ""  # the running totals' polyline points
    points: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)


def _rows(incident: Incident) -> list[dict[str, Any]]:
    """One row per (source, article): its published day and each measure's report."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    conflicted = {(c.measure, s) for c in incident.conflicts for s in c.sources}
    for measure, m in incident.figures.items():
        for r in m.reports:
            source = r.outlet or r.reported_by or r.article
            row = rows.setdefault(
                (source, r.article),
                {
                    "source": source,
                    "article": r.article,
                    "published": r.published,
                    "reported_by": set(),
                    "cells": {},
                },
            )
            if r.reported_by:
                row["reported_by"].add(r.reported_by)
            row["cells"][measure] = {
                "value": r.value if r.value_max is None else f"{r.value}-{r.value_max}",
                "anchor": evidence_anchor(r.article, r.start, r.end),
                "evidence": r.evidence,
                "conflict": (measure, source) in conflicted,
            }
    return sorted(rows.values(), key=lambda x: (x["published"] or dt.date.min, x["source"]))


def _scale(days: Sequence[dt.date], values: Sequence[int]) -> tuple[Any, Any]:
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    top = max(max(values), 1)

    def x(day: dt.date) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * (day - first).days / span, 1)

    def y(value: int) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top, 1)

    return x, y


def timelines(incidents: Sequence[Incident], series: Sequence[Series]) -> list[Timeline]:
    """Per place and measure: incidents' best figures as points, running totals as a line."""
    found: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for incident in incidents:
        if incident.place is None or incident.date.start is None:
            continue
        for measure, m in incident.figures.items():
            key = (incident.place.name, measure)
            found.setdefault(key, {"points": [], "totals": []})["points"].append(
                (incident.date.start, m.best, incident.id)
            )
    for s in series:
        key = (s.place.name if s.place else "unplaced", s.measure)
        for p in s.points:
            if p.date is not None:
                found.setdefault(key, {"points": [], "totals": []})["totals"].append(
                    (p.date, p.value, evidence_anchor(p.article, p.start, p.end))
                )
    out = []
    for (place, measure), parts in sorted(found.items()):
        every = parts["points"] + parts["totals"]
        x, y = _scale([d for d, _, _ in every], [v for _, v, _ in every])
        totals = sorted(parts["totals"])
        out.append(
            Timeline(
                place=place,
                measure=measure,
                line=" ".join(f"{x(d)},{y(v)}" for d, v, _ in totals),
                points=[
                    {"x": x(d), "y": y(v), "label": f"{d}: {v}", "href": f"#inc-{i}"}
                    for d, v, i in parts["points"]
                ],
                totals=[
                    {"x": x(d), "y": y(v), "label": f"{d}: {v}", "href": f"#{a}"}
                    for d, v, a in totals
                ],
                ticks=[
                    {"x": x(d), "label": d.isoformat()} for d in sorted({d for d, _, _ in every})
                ][:8],
            )
        )
    return out


def _evidence(
    articles: dict[str, ArticleRow], incidents: Sequence[Incident], series: Sequence[Series]
) -> list[dict[str, Any]]:
    """Each cited span with the text around it, grouped by article."""
    cited: dict[str, dict[str, tuple[int | None, int | None, str]]] = {}
    spans = [
        (r.article, r.start, r.end, r.evidence)
        for i in incidents
        for m in i.figures.values()
        for r in m.reports
    ]
    spans += [(p.article, p.start, p.end, p.evidence) for s in series for p in s.points]
    for article, start, end, evidence in spans:
        cited.setdefault(article, {})[evidence_anchor(article, start, end)] = (start, end, evidence)
    out = []
    for article_id, anchors in sorted(cited.items()):
        row = articles.get(article_id)
        text = row.text if row else ""
        items = []
        for anchor, (start, end, evidence) in sorted(anchors.items(), key=lambda kv: kv[1][0] or 0):
            ok = start is not None and end is not None and text[start:end] == evidence
            before = text[max(0, start - CONTEXT_CHARS) : start] if ok and start is not None else ""
            after = text[end : end + CONTEXT_CHARS] if ok and end is not None else ""
            items.append({"anchor": anchor, "before": before, "span": evidence, "after": after})
        out.append(
            {
                "id": article_id,
                "title": row.title if row else None,
                "outlet": row.outlet if row else None,
                "published": row.published if row else None,
                "url": row.url if row else None,
                "items": items,
            }
        )
    return out


def render_incidents(
    incidents: Sequence[Incident], series: Sequence[Series], articles: dict[str, ArticleRow]
) -> str:
    """The whole page, self-contained (no script, no external file)."""
    views = [{"incident": i, "rows": _rows(i), "measures": sorted(i.figures)} for i in incidents]
    return templates.get_template("incidents.html.j2").render(
        incidents=views,
        timelines=timelines(incidents, series),
        series=series,
        evidence=_evidence(articles, incidents, series),
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def store_page(store: Store) -> str:
    """The page of every incident and series in the store, with the articles they cite."""
    incidents, series = all_incidents(store), store.series()
    cited = [a for i in incidents for a in i.articles] + [
        p.article for s in series for p in s.points
    ]
    return render_incidents(incidents, series, store.articles(cited))
