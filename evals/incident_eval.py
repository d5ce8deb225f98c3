"""The incident eval: a dataset's articles extracted (from cassettes in CI), added to a real
store in publication order, and the incidents scored against gold, beside the baseline
(the same place on the same day is the same incident) from the same run's mentions."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from evals.datasets import shown
from evals.gva import GVA_DIR
from evals.incident_extract import Extracted, extract_all
from evals.incident_scoring import MethodScores, Prf, Rate, score_method
from evals.incident_sets import IncidentSet, load_incident_set
from evals.runner import Mode
from schemas.incidents import Incident
from service.incidents.grouping import group, same_place_same_day
from service.incidents.identity import with_outlet
from service.incidents.reconcile import BEST_RULE, build_incident
from service.settings import Settings
from service.store.store import Store, all_incidents

BASELINE_NAME = "incidents_baseline.json"


class IncidentRunReport(BaseModel):
    """One run of an incident dataset: how it ran and what it scored, ours and baseline."""

    dataset: str
    sample: str
    mode: str
    model: str
    articles: int
    failed: list[str]
    extraction_s: float
    store_s: float
    best_rule: str
    ours: MethodScores
    baseline: MethodScores


def assignments(incidents: Sequence[Incident]) -> dict[str, str]:
    """Each article's incident: the one holding the figure it states first (its headline
    and lede tell its own event; an event it recalls comes later), else the first that
    holds it."""
    first: dict[str, tuple[int, str]] = {}
    for incident in incidents:
        starts: dict[str, int] = {a: 1 << 30 for a in incident.articles}
        for measure in incident.figures.values():
            for report in measure.reports:
                at = report.start if report.start is not None else 1 << 29
                starts[report.article] = min(starts.get(report.article, 1 << 30), at)
        for article, at in starts.items():
            if article not in first or at < first[article][0]:
                first[article] = (at, incident.id)
    return {a: i for a, (_, i) in first.items()}


def _score(dataset: IncidentSet, incidents: Sequence[Incident]) -> MethodScores:
    assigned = assignments(incidents)
    series = [a for s in dataset.gold.series for a in s.articles]
    return score_method(dataset.gold, incidents, assigned, [a in assigned for a in series])


def _in_order(extracted: list[Extracted]) -> list[Extracted]:
    return sorted(extracted, key=lambda e: (e.article.published or dt.date.min).isoformat())


async def run_incident_eval(
    folder: Path,
    settings: Settings,
    mode: Mode,
    gva_dir: Path = GVA_DIR,
    on_article: Callable[[Extracted], None] | None = None,
) -> IncidentRunReport:
    """The dataset in `folder` through extraction, the store and both groupings."""
    dataset = load_incident_set(folder)
    articles = dataset.articles(gva_dir)
    option = f" --dataset {shown(folder)}"
    extracted = await extract_all(
        articles, settings, mode, dataset.cassettes_dir, option, on_article
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/eval.db")
        started = time.perf_counter()
        for e in _in_order(extracted):
            if e.response is not None:
                store.add(with_outlet(e.article), e.response)
        store_s = time.perf_counter() - started
        ours = all_incidents(store)
        baseline = [build_incident(c) for c in group(store.mentions(), same_place_same_day)]
        store.close()
    model = next((e.response.meta.model for e in extracted if e.response), settings.llm_model)
    return IncidentRunReport(
        dataset=dataset.gold.name,
        sample=dataset.gold.sample,
        mode=str(mode),
        model=model,
        articles=len(extracted),
        failed=[f"{e.article.id}: {e.error}" for e in extracted if e.error],
        extraction_s=round(sum(e.seconds for e in extracted), 1),
        store_s=round(store_s, 2),
        best_rule=BEST_RULE,
        ours=_score(dataset, ours),
        baseline=_score(dataset, baseline),
    )


GATED = ("b3", "killed_exact", "injured_exact", "conflicts_found", "series_kept_apart")


def gated_scores(scores: MethodScores) -> dict[str, float | None]:
    """The figures the CI gate holds a dataset to."""
    return {"b3": scores.b3.f1, "killed_exact": scores.killed_exact.rate,
            "injured_exact": scores.injured_exact.rate,
            "conflicts_found": scores.conflicts_found.rate,
            "series_kept_apart": scores.series_kept_apart.rate}  # fmt: skip


def baseline_path(folder: Path) -> Path:
    """Where a dataset's incident baseline lives."""
    return folder / BASELINE_NAME


def fallen(report: IncidentRunReport, folder: Path) -> list[str]:
    """The gated figures below the dataset's committed baseline (empty when none fell)."""
    path = baseline_path(folder)
    if not path.is_file():
        return [f"no baseline at {shown(path)}: record one with --record --set-baseline"]
    held = json.loads(path.read_text(encoding="utf-8"))
    now = gated_scores(report.ours)
    return [f"{k}: {now[k]} < {held[k]}" for k in GATED
            if held.get(k) is not None and (now[k] is None or now[k] < held[k] - 1e-9)]  # fmt: skip


def write_baseline(report: IncidentRunReport, folder: Path) -> Path:
    """The run's gated figures as the dataset's baseline."""
    path = baseline_path(folder)
    path.write_text(json.dumps(gated_scores(report.ours), indent=1) + "\n", encoding="utf-8")
    return path


def _cell(value: object) -> str:
    if isinstance(value, Rate):
        return f"{value.rate} ({value.hits}/{value.asked})" if value.asked else "-"
    if isinstance(value, Prf):
        return f"{value.f1} (P {value.p} / R {value.r})"
    return str(value)


def print_incident_report(report: IncidentRunReport) -> None:
    """The run's scores, ours beside the baseline's, as a table."""
    table = Table("", "ours", "same place, same day", title=f"{report.dataset}: {report.sample}")
    for name in ("b3", "muc", "ceaf_e", "conll_f1", "killed_exact", "killed_within_10",
                 "injured_exact", "injured_within_10", "conflicts_found", "predicted_conflicts",
                 "series_kept_apart", "incidents"):  # fmt: skip
        table.add_row(
            name, _cell(getattr(report.ours, name)), _cell(getattr(report.baseline, name))
        )
    Console(width=160).print(table)
    print(
        f"{report.articles} articles ({len(report.failed)} failed); extraction "
        f"{report.extraction_s} s, store {report.store_s} s; best: {report.best_rule}"
    )
