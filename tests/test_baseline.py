"""The baseline file: what a run report turns into, and what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evals.baseline import Baseline, baseline_from_report, load_baseline, save_baseline


def _report(micro: float, errors: list[str | None]) -> dict[str, Any]:
    return {
        "prompt": "news_facts@v9",
        "model": "m",
        "summary": {"micro_f1": micro, "field_f1": micro / 2},
        "cases": [{"error": e} for e in errors],
    }


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
    baseline = baseline_from_report({**_report(0.3, [None]), **fields})
    assert (baseline.passes, baseline.ungrounded) == (passes, ungrounded)
