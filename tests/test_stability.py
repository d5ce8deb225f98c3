"""Stability over repeated runs: per-fact extraction shares and the spread of micro-F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.bench.fake_llm import FakeLLM, tool_call
from evals.gold import load_gold
from evals.report import run_report
from evals.run_report import RunReport
from evals.runner import EvalRun, Mode
from evals.scoring import CaseOutcome
from evals.stability import stability
from schemas.facts import NewsFacts
from service.extraction.chunking import split_text
from tests.conftest import FACTS_004, make_settings
from tests.test_cli import run_cli

CASE = next(c for c in load_gold() if c.article_id.startswith("004"))


def _report(predicted: NewsFacts) -> RunReport:
    run = EvalRun(prompt="p@v1", model="m", mode=Mode.LIVE)
    run.outcomes = [CaseOutcome.build(CASE, predicted)]
    return run_report(run)


@pytest.mark.parametrize(
    ("runs", "mean", "always", "never"),
    [
        (["gold", "gold"], 1.0, "all", 0),
        (["empty", "empty"], 0.0, 0, "all"),
        (["gold", "empty"], 0.5, 0, 0),
    ],
    ids=["stable-perfect", "stable-empty", "half"],
)
def test_shares_and_spread(runs: list[str], mean: float, always: object, never: object) -> None:
    facts = {"gold": CASE.facts, "empty": NewsFacts()}
    result = stability([_report(facts[r]) for r in runs])
    n_gold = sum(len(getattr(CASE.facts, name)) for name in NewsFacts.model_fields)
    assert len(result["facts"]) == n_gold
    assert result["micro_f1"]["mean"] == mean
    assert result["always"] == (n_gold if always == "all" else always)
    assert result["never"] == (n_gold if never == "all" else never)
    if runs == ["gold", "empty"]:
        assert result["sometimes"] == n_gold
        assert {row["extracted"] for row in result["facts"]} == {0.5}
        assert result["micro_f1"]["min"] == 0.0 and result["micro_f1"]["max"] == 1.0
        assert result["micro_f1"]["stdev"] > 0.7


def test_eval_samples_runs_live_and_reports(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = tool_call(FACTS_004)
    result = run_cli(fake_llm, "eval", "--samples", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "2 runs of news_facts@v2" in result.stdout and "stdev 0.000" in result.stdout
    pieces = sum(len(split_text(case.text, make_settings().chunk_chars)) for case in load_gold())
    assert len(fake_llm.requests) == 2 * pieces
    [path] = tmp_path.glob("*--samples2.json")
    report = json.loads(path.read_text())
    assert report["samples"] == 2 and len(report["micro_f1"]["values"]) == 2
    # Every sample through one client (one backend): a fresh embedded model server per
    # sample would start from the same sampling seed and answer the same each time.
    assert len(set(fake_llm.peers)) == 1


def test_eval_samples_refuses_to_record(fake_llm: FakeLLM) -> None:
    result = run_cli(fake_llm, "eval", "--samples", "2", "--record")
    assert result.returncode == 2 and "--samples runs live" in result.stderr
