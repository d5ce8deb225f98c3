"""The Gun Violence Archive check: each incident's final killed and injured figures against
the casualty facts extracted from one local news report of it.

The data (`../shared/gva`: `incidents.jsonl` and `articles/<doc>.txt`) is read where it
lies and never copied into the project. A report is scored on three questions:

- killed: is the incident's number killed among the report's `killed` counts (asked only of
  incidents with someone killed);
- injured: is its number injured among the report's `injured` or `killed_or_injured` counts,
  or its number shot (killed + injured) among them (asked only of incidents with someone
  injured);
- over-count: does the report carry a `killed` count above the incident's number killed;
- located (asked where a fact states one of its figures): is that fact placed in the
  incident's city (its `location` names the city the archive gives).

An early report may state fewer than the archive's final figures, so no report is
expected to reach 1.0; the rates are compared between versions, on the same reports.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.gold import ROOT
from schemas.api import ExtractRequest
from schemas.facts import Casualties, NewsFacts
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import needs_model
from service.folding import name_key
from service.llm.backend import open_backend
from service.settings import Settings

GVA_DIR = ROOT.parent / "shared" / "gva"
GVA_REPORT = ROOT / "evals" / "reports" / "gva.json"
INJURED_OUTCOMES = ("injured", "killed_or_injured")


class GvaError(Exception):
    """GVA data that cannot be read: the message names the file and what to do."""


class Report(BaseModel):
    """One news report the archive cites: its document id and publication day."""

    doc: str
    dct: str | None = None
    uri: str | None = None


class Incident(BaseModel):
    """One archived incident with its final figures and its reports."""

    id: str
    date: str
    state: str
    city: str
    num_killed: int = Field(ge=0)
    num_injured: int = Field(ge=0)
    docs: list[Report]


class Row(BaseModel):
    """One report scored: None where a question is not asked of it, `error` for a failure."""

    incident: str
    doc: str
    num_killed: int
    num_injured: int
    killed_counts: list[int] = Field(default_factory=list)
    injured_counts: list[int] = Field(default_factory=list)
    killed_hit: bool | None = None
    injured_hit: bool | None = None
    over_count: bool | None = None
    located: bool | None = None  # a matching fact's location names the incident's city
    # what the report's casualty facts say (no evidence: the archive's texts stay there)
    casualties: list[tuple[int, str, str | None]] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def load_incidents(root: Path = GVA_DIR) -> list[Incident]:
    """Every incident in `root/incidents.jsonl`, in file order."""
    path = root / "incidents.jsonl"
    if not path.is_file():
        raise GvaError(f"no {path}: point --gva at the folder holding incidents.jsonl")
    incidents = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                incidents.append(Incident.model_validate_json(line))
            except ValueError as exc:
                raise GvaError(f"{path}:{number}: not an incident: {exc}") from None
    return incidents


def pick_reports(
    incidents: Iterable[Incident], root: Path = GVA_DIR, limit: int = 120, seed: int = 0
) -> list[tuple[Incident, Path]]:
    """One report per incident (its first whose text is here), for `limit` incidents drawn
    at random with a fixed seed, so that two versions are scored on the same reports."""
    chosen = []
    for incident in incidents:
        found = (root / "articles" / f"{r.doc}.txt" for r in incident.docs)
        path = next((p for p in found if p.is_file()), None)
        if path is not None:
            chosen.append((incident, path))
    chosen.sort(key=lambda pair: int(pair[0].id) if pair[0].id.isdigit() else 0)
    return random.Random(seed).sample(chosen, min(limit, len(chosen)))


def _counts(facts: NewsFacts, outcomes: tuple[str, ...]) -> list[int]:
    def values(fact: Casualties) -> list[int]:
        return [fact.count] + ([fact.count_max] if fact.count_max is not None else [])

    return sorted({v for f in facts.casualties if f.outcome in outcomes for v in values(f)})


def _located(incident: Incident, facts: NewsFacts) -> bool | None:
    """Whether a fact that states one of the incident's figures is placed in its city
    (None when no fact states one)."""
    shot = incident.num_killed + incident.num_injured
    wanted = {(incident.num_killed, "killed"), (incident.num_injured, "injured"),
              (shot, "killed_or_injured"), (shot, "injured")}  # fmt: skip
    hits = [f for f in facts.casualties if (f.count, f.outcome) in wanted and f.count]
    if not hits:
        return None
    city = name_key(incident.city)
    return any(f.location and city in name_key(f.location) for f in hits)


def score_report(incident: Incident, doc: str, facts: NewsFacts) -> Row:
    """The questions asked of one report's facts."""
    killed = _counts(facts, ("killed",))
    injured = _counts(facts, INJURED_OUTCOMES)
    shot = incident.num_killed + incident.num_injured
    return Row(
        located=_located(incident, facts),
        casualties=[(f.count, f.outcome, f.location) for f in facts.casualties],
        incident=incident.id, doc=doc, num_killed=incident.num_killed,
        num_injured=incident.num_injured, killed_counts=killed, injured_counts=injured,
        killed_hit=incident.num_killed in killed if incident.num_killed else None,
        injured_hit=(incident.num_injured in injured or shot in injured)
        if incident.num_injured else None,
        over_count=any(k > incident.num_killed for k in killed),
    )  # fmt: skip


def rate(rows: list[Row], question: Callable[[Row], bool | None]) -> dict[str, Any]:
    """How many of the rows a question is asked of answer yes, and the share."""
    asked = [a for a in map(question, rows) if a is not None]
    hits = sum(asked)
    share = round(hits / len(asked), 3) if asked else None
    return {"hits": hits, "asked": len(asked), "rate": share}


def summary(rows: list[Row]) -> dict[str, Any]:
    """The rates over every scored report; failed reports counted apart (and as misses)."""
    return {
        "reports": len(rows),
        "failed": sum(r.error is not None for r in rows),
        "killed": rate(rows, lambda r: r.killed_hit),
        "injured": rate(rows, lambda r: r.injured_hit),
        "over_count": rate(rows, lambda r: r.over_count),
        "located": rate(rows, lambda r: r.located),
        "seconds_per_report": round(sum(r.seconds for r in rows) / len(rows), 2) if rows else None,
    }


def failed_row(incident: Incident, doc: str, error: str) -> Row:
    """A report whose extraction failed: a miss on every question asked of it."""
    row = score_report(incident, doc, NewsFacts())
    row.killed_hit = False if row.killed_hit is not None else None
    row.injured_hit = False if row.injured_hit is not None else None
    row.error = error
    return row


def write_results(rows: list[Row], path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The summary and every row, as JSON at `path`; returns the summary."""
    result = {**meta, **summary(rows)}
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**result, "rows": [r.model_dump() for r in rows]}
    path.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    return result


async def run_gva(
    picked: list[tuple[Incident, Path]],
    settings: Settings,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Each picked report through the real pipeline on one backend; a failure is a row."""
    rows = []
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        pipeline = Pipeline(backend.llm, settings)
        for incident, path in picked:
            started = time.perf_counter()
            try:
                text = path.read_text(encoding="utf-8")
                response = await pipeline.extract(ExtractRequest(text=text))
                row = score_report(incident, path.stem, response.facts)
            except NewsfactsError as exc:
                row = failed_row(incident, path.stem, f"{exc.code}: {exc.message}")
            except Exception as exc:  # a crashing report is a failure row, not a crashed run
                row = failed_row(incident, path.stem, f"{type(exc).__name__}: {exc}")
            row.seconds = round(time.perf_counter() - started, 2)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows
