"""CI gate: replay the gold set from the committed cassettes and hold the baseline.

No model and no network: every LLM answer comes from tests/cassettes/. The scores are
printed at the end of the pytest run.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from evals.baseline import load_baseline
from evals.gold import joined_case, load_gold
from evals.report import RUNS_DIR, run_json
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


JOINED_RUN = RUNS_DIR / f"{BASELINE.prompt}+drop--{BASELINE.model}--joined.json"


def test_joined_seeds_replay_to_their_recorded_scores() -> None:
    """The seeds as one long article (split into overlapping pieces, merged, offsets into the
    whole) replays from its cassette to the scores it was recorded with."""
    recorded = json.loads(JOINED_RUN.read_text(encoding="utf-8"))
    run = asyncio.run(
        run_gold(
            [joined_case(load_gold())],
            make_settings(llm_model=BASELINE.model),
            BASELINE.prompt,
            Mode.REPLAY,
            ungrounded="drop",
        )
    )
    report = run_json(run)
    [case] = report["cases"]
    assert case["error"] is None
    assert report["summary"]["per_list"] == recorded["summary"]["per_list"]
    assert report["summary"]["micro_f1"] == recorded["summary"]["micro_f1"]
    assert sum(c["fn"] + c["tp"] for c in report["summary"]["per_list"].values()) == 192
