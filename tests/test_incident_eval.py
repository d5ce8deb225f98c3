"""The incident datasets replayed from their cassettes through extraction, a real store and
both groupings: no article fails, and no gated figure falls below the committed baseline
(the CI gate of incidents, as `newsfacts eval incidents` runs it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from evals.gva import GVA_DIR
from evals.incident_eval import assignments, fallen, run_incident_eval
from evals.incident_sets import INCIDENT_SETS_DIR
from evals.runner import Mode
from schemas.incidents import FigureReport, Incident, Measure
from service.settings import Settings

SETS = ["gva_incidents", "war_incidents"]


@pytest.mark.parametrize("name", SETS)
def test_an_incident_dataset_replays_at_or_above_its_baseline(name: str) -> None:
    folder = INCIDENT_SETS_DIR / name
    if name == "gva_incidents" and not (GVA_DIR / "incidents.jsonl").is_file():
        pytest.fail(f"{GVA_DIR} is missing: the GVA reports are read from ../shared/gva")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # as recorded: the defaults
    report = asyncio.run(run_incident_eval(folder, settings, Mode.REPLAY))
    assert report.failed == []
    assert fallen(report, folder) == []


def test_every_incident_dataset_here_is_gated() -> None:
    here = sorted(p.parent.name for p in Path(INCIDENT_SETS_DIR).glob("*/incidents.yaml"))
    assert here == sorted(SETS)


def _incident(name: str, *reports: tuple[str, int]) -> Incident:
    """An incident holding killed figures stated by (article, offset)."""
    figures = [FigureReport(value=1, article=a, evidence="1", start=at) for a, at in reports]
    measure = Measure(low=1, best=1, high=1, rule="", reports=figures)
    return Incident(id=name, kind="casualties", articles=sorted({a for a, _ in reports}),
                    figures={"killed": measure})  # fmt: skip


@pytest.mark.parametrize(
    ("incidents", "expected"),
    [
        # the event an article recalls (more figures, told later) is not its own
        ([_incident("recalled", ("a", 900), ("a", 950), ("b", 10)), _incident("own", ("a", 5))],
         {"a": "own", "b": "recalled"}),
        # an article in one incident only is that incident's
        ([_incident("one", ("a", 40))], {"a": "one"}),
    ],
)  # fmt: skip
def test_an_articles_incident_holds_the_figure_it_states_first(
    incidents: list[Incident], expected: dict[str, str]
) -> None:
    assert assignments(incidents) == expected
