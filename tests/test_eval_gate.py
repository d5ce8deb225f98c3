"""CI gate: replay the gold set from the committed cassettes and hold the baseline.

No model and no network: every LLM answer comes from tests/cassettes/. The scores are
printed at the end of the pytest run.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from evals.baseline import load_baseline
from evals.gold import load_gold
from evals.report import run_json
from evals.runner import Mode, run_gold
from tests.conftest import EVAL_REPORTS, make_settings

BASELINE = load_baseline()


def test_replayed_eval_holds_the_baseline() -> None:
    settings = make_settings(llm_model=BASELINE.model)
    started = time.perf_counter()
    run = asyncio.run(
        run_gold(
            load_gold(),
            settings,
            BASELINE.prompt,
            Mode.REPLAY,
            ungrounded=BASELINE.ungrounded,
            passes=BASELINE.passes,
        )
    )
    report = run_json(run)
    report["replay_wall_s"] = round(time.perf_counter() - started, 2)
    EVAL_REPORTS.append(report)  # printed in the terminal summary
    errors = [case["error"] for case in report["cases"] if case["error"] is not None]
    assert len(errors) <= BASELINE.failed_cases, errors
    floor = BASELINE.micro_f1 - BASELINE.tolerance
    micro = report["summary"]["micro_f1"]
    if micro < floor:
        pytest.fail(
            f"micro-F1 {micro:.4f} fell below the baseline {BASELINE.micro_f1:.4f} "
            f"minus tolerance {BASELINE.tolerance} for {BASELINE.prompt}"
        )
