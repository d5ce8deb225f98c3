"""CI gate: replay the gold set from the committed cassettes and hold the baseline.

No model and no network: every LLM answer comes from tests/cassettes/. The scores are
printed at the end of the pytest run.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from evals.gold import ROOT, load_gold
from evals.report import run_json
from evals.runner import Mode, run_gold
from tests.conftest import EVAL_REPORTS, make_settings

BASELINE: dict[str, Any] = json.loads((ROOT / "evals" / "baseline.json").read_text())


def test_baseline_file_states_its_terms() -> None:
    assert {"prompt", "model", "micro_f1", "tolerance"} <= set(BASELINE)
    assert 0 <= BASELINE["tolerance"] <= 0.05


def test_replayed_eval_holds_the_baseline() -> None:
    settings = make_settings(llm_model=BASELINE["model"])
    started = time.perf_counter()
    run = asyncio.run(run_gold(load_gold(), settings, BASELINE["prompt"], Mode.REPLAY))
    report = run_json(run)
    report["replay_wall_s"] = round(time.perf_counter() - started, 2)
    EVAL_REPORTS.append(report)  # printed in the terminal summary
    assert all(case["error"] is None for case in report["cases"]), [
        case["error"] for case in report["cases"]
    ]
    floor = BASELINE["micro_f1"] - BASELINE["tolerance"]
    micro = report["summary"]["micro_f1"]
    if micro < floor:
        pytest.fail(
            f"micro-F1 {micro:.4f} fell below the baseline {BASELINE['micro_f1']:.4f} "
            f"minus tolerance {BASELINE['tolerance']} for {BASELINE['prompt']}"
        )
