"""The baseline file: what a run report turns into, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from evals.baseline import Baseline, baseline_from_report, load_baseline, save_baseline
from evals.run_report import CaseReport, RunReport
from tests.test_run_report import make_report


def _report(micro: float, errors: list[str | None], field_f1: float | None = -1) -> RunReport:
    report = make_report(
        prompt="news_facts@v9",
        cases=[CaseReport(article_id=f"a{i}", error=e, meta=None, scores=[], lists={})
               for i, e in enumerate(errors)],
    )  # fmt: skip
    summary = report.summary.model_copy(
        update={"micro_f1": micro, "field_f1": micro / 2 if field_f1 == -1 else field_f1}
    )
    return report.model_copy(update={"summary": summary})


@pytest.mark.parametrize(
    ("micro", "errors", "failed"),
    [(0.41234, [None, None], 0), (0.2, [None, "llm_invalid_output: cut off"], 1), (0.0, [], 0)],
)
def test_baseline_from_report_counts_failures(
    micro: float, errors: list[str | None], failed: int
) -> None:
    baseline = baseline_from_report(_report(micro, errors), tolerance=0.02)
    assert baseline.micro_f1 == round(micro, 4)
    assert baseline.field_f1 == round(micro / 2, 4)
    assert baseline.failed_cases == failed
    assert baseline.tolerance == 0.02


def test_baseline_round_trips(tmp_path: Path) -> None:
    path = save_baseline(
        Baseline(prompt="p@v1", model="m", micro_f1=0.3, field_f1=0.2), tmp_path / "b.json"
    )
    assert load_baseline(path) == Baseline(prompt="p@v1", model="m", micro_f1=0.3, field_f1=0.2)


@pytest.mark.parametrize(
    "fields",
    [
        {"micro_f1": 1.5, "field_f1": 0.2},
        {"micro_f1": 0.3, "field_f1": 0.2, "tolerance": 0.2},
        {"micro_f1": -0.1, "field_f1": 0.2},
        {"micro_f1": 0.3, "field_f1": 1.2},
        {"micro_f1": 0.3},
    ],
)
def test_baseline_refuses_out_of_range_terms(fields: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Baseline(prompt="p@v1", model="m", **fields)


def test_committed_baseline_is_valid() -> None:
    from evals.cassettes import CASSETTES_DIR
    from service.extraction.strategies import prompt_strategy

    baseline = load_baseline()
    assert prompt_strategy(baseline.prompt) == baseline.strategy
    assert (CASSETTES_DIR / baseline.prompt).is_dir()


@pytest.mark.parametrize(
    ("fields", "passes", "ungrounded"),
    [({}, "none", "flag"), ({"passes": "lists", "ungrounded": "drop"}, "lists", "drop")],
    ids=["defaults", "recorded-with-passes-and-drop"],
)
def test_baseline_keeps_how_the_run_was_made(
    fields: dict[str, str], passes: str, ungrounded: str
) -> None:
    baseline = baseline_from_report(_report(0.3, [None]).model_copy(update=fields))
    assert (baseline.passes, baseline.ungrounded) == (passes, ungrounded)


def test_a_run_scored_before_field_f1_sets_no_baseline() -> None:
    with pytest.raises(ValueError, match="no field F1"):
        baseline_from_report(_report(0.3, [None], field_f1=None))
