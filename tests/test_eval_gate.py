"""CI gate: replay the gold set from the committed cassettes and hold the baseline.

No model and no network: every LLM answer comes from tests/cassettes/. The scores are
printed at the end of the pytest run.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from evals.baseline import load_baseline, save_baseline
from evals.datasets import SEEDS, Dataset, gated_datasets
from evals.gate import replay_gate
from evals.gold import GoldCase, joined_case, load_gold
from evals.report import RUNS_DIR, run_report
from evals.run_report import RunReport
from evals.runner import Mode, run_gold
from schemas.api import RecallPasses
from tests.conftest import EVAL_REPORTS, make_settings

BASELINE = load_baseline()


LLM_PROMPT = "news_facts@v2"  # the llm strategy's measured variants below


@pytest.mark.parametrize("dataset", gated_datasets(), ids=lambda d: d.name)
def test_replayed_eval_holds_the_baseline(dataset: Dataset) -> None:
    """Each gated dataset (the seeds, and any under evals/datasets/ with a baseline) replays
    from its own cassettes to at least its own baseline."""
    result = asyncio.run(replay_gate(dataset, make_settings()))
    EVAL_REPORTS.append(result)  # its report is printed in the terminal summary
    if not result.passed:
        pytest.fail("; ".join(result.failures))


def _recorded(name: str) -> RunReport:
    return RunReport.load(RUNS_DIR / f"{name}.json")


@pytest.mark.parametrize(
    ("cases", "passes", "run_name", "gold_facts"),
    [
        # The seeds as one long article: split into overlapping pieces, merged, offsets
        # into the whole.
        (lambda: [joined_case(load_gold())], "none", "{prompt}+drop--{model}--joined", 192),
        # Recall passes (one call per group of lists), measured on seeds 000 and 004.
        (
            lambda: [c for c in load_gold() if c.article_id[:3] in ("000", "004")],
            "lists",
            "{prompt}+lists+drop--{model}--000+004",
            85,
        ),
    ],
    ids=["joined", "recall-passes"],
)
def test_measured_variants_replay_to_their_recorded_scores(
    cases: Callable[[], list[GoldCase]], passes: RecallPasses, run_name: str, gold_facts: int
) -> None:
    """Each variant the README reports replays from its cassettes to the scores it was
    recorded with: a change to what it sends shows up as a stale cassette."""
    recorded = _recorded(run_name.format(prompt=LLM_PROMPT, model=BASELINE.model))
    run = asyncio.run(
        run_gold(
            cases(),
            make_settings(llm_model=BASELINE.model, strategy="llm"),
            LLM_PROMPT,
            Mode.REPLAY,
            ungrounded="drop",
            passes=passes,
        )
    )
    report = run_report(run)
    assert [case.error for case in report.cases] == [None] * len(report.cases)
    assert report.summary.per_list == recorded.summary.per_list
    assert report.summary.micro_f1 == recorded.summary.micro_f1
    assert sum(c.fn + c.tp for c in report.summary.per_list.values()) == gold_facts


@pytest.mark.parametrize(
    ("raised", "failing"),
    [("micro_f1", "micro-F1"), ("field_f1", "field F1")],
)
def test_the_gate_holds_fact_and_field_f1_each(tmp_path: Path, raised: str, failing: str) -> None:
    """A baseline above what the replay reaches in either headline fails the gate, saying
    which."""
    baseline = BASELINE.model_copy(update={raised: 1.0})
    path = save_baseline(baseline, tmp_path / "baseline.json")
    result = asyncio.run(
        replay_gate(dataclasses.replace(SEEDS, baseline_path=path), make_settings())
    )
    assert not result.passed
    assert len(result.failures) == 1 and result.failures[0].startswith(failing)
