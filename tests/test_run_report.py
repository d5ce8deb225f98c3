"""The typed run report: a fresh report dumps to the JSON the harness always wrote, and
every committed run (old ones included) loads and dumps back to what is on disk."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evals.datasets import SEEDS
from evals.gold import GOLD_DIR, load_case
from evals.report import fact_label, fields_of_list, run_report
from evals.run_report import CountsReport, RunReport, Summary, TokensReport
from evals.runner import EvalRun, Mode
from evals.scoring import CaseOutcome, Counts, evaluate_case, summarize
from schemas.api import CallsAtOnce, Meta, UngroundedPolicy, Usage
from schemas.facts import FACT_LISTS, NewsFacts

ROOT = Path(__file__).resolve().parent.parent
CASE = load_case(GOLD_DIR / "004_8b1c8c72e30bd7ca.yaml")
COMMITTED_RUNS = sorted(
    [*(ROOT / "evals" / "runs").glob("*.json"), *ROOT.glob("evals/datasets/*/runs/*.json")]
)
# Keys that runs scored by older versions of the harness wrote and the report no longer has.
LEGACY_KEYS = {"attributes"}


def make_report(**fields: Any) -> RunReport:
    """A report of no cases with the given top-level fields (for readers' tests)."""
    summary = Summary(
        micro=CountsReport.of(Counts()), micro_f1=0.5, macro_f1=0.4, per_list={},
        grounding_rate=None, unsupported_number_rate=None, schema_valid_rate=None,
        tokens=TokensReport(prompt=100, completion=20), latency_ms=2500.0,
    )  # fmt: skip
    base = {"prompt": "p@v1", "model": "m", "mode": "record", "created": "2026-01-01T00:00:00",
            "wall_s": 1.0, "summary": summary, "cases": []}  # fmt: skip
    return RunReport.model_validate({**base, **fields})


def _legacy_rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _legacy_case_json(o: CaseOutcome) -> dict[str, Any]:
    """The case as `run_json` built it before the report was typed (kept as the oracle)."""
    gold, pred = o.case.facts, o.predicted
    lists: dict[str, Any] = {}
    for name, m in o.matches.items():
        g, p = getattr(gold, name), getattr(pred, name) if pred else []
        lists[name] = {
            "counts": o.counts(name).as_dict(),
            "matched": [
                {"gold_index": x.gold, "label": fact_label(name, g[x.gold]),
                 "gold": g[x.gold].model_dump(), "pred": p[x.pred].model_dump(),
                 "fields": x.fields}
                for x in m.pairs
            ],
            "missed": [{"gold_index": i, "label": fact_label(name, g[i]), "gold": g[i].model_dump()}
                       for i in m.missed],
            "spurious": [{"label": fact_label(name, p[j]), "pred": p[j].model_dump()}
                         for j in m.spurious],
        }  # fmt: skip
    return {
        "article_id": o.case.article_id,
        "error": o.error,
        "meta": o.meta.model_dump() if o.meta else None,
        "usage": o.usage.model_dump(),
        "scores": [
            {"name": s.name, "value": _legacy_rate(s.value), "reason": s.reason}
            for s in evaluate_case(o)
        ],
        "lists": lists,
    }


def _legacy_run_json(run: EvalRun, created: str) -> dict[str, Any]:
    """The run as `run_json` built it before the report was typed (kept as the oracle)."""
    raw = summarize(run.outcomes)
    s = summarize(run.scored()) if run.ungrounded == "drop" else raw
    return {
        "prompt": run.prompt, "model": run.model, "mode": str(run.mode),
        "strategy": run.strategy, "ungrounded": run.ungrounded, "passes": run.passes,
        "variant": run.variant, "dataset": run.dataset, "created": created,
        "wall_s": round(run.wall_s, 2),
        "summary": {
            "micro": s.micro.as_dict(), "micro_f1": round(s.micro.f1, 4),
            "macro_f1": round(s.macro_f1, 4),
            "per_list": {name: c.as_dict() for name, c in s.per_list.items()},
            "field": s.field_micro.as_dict(), "field_f1": round(s.field_micro.f1, 4),
            "slot": s.slots.as_dict(), "slot_f1": round(s.slots.f1, 4),
            "fields_per_list": {
                name: fields_of_list(s.fields, name).as_dict() for name in FACT_LISTS
            },
            "fields": {f"{lst}.{name}": c.as_dict() for (lst, name), c in s.fields.items()},
            "grounding_rate": _legacy_rate(s.grounding.rate),
            "match_levels": s.match_levels, "failed_checks": s.failed_checks,
            "policies": (
                {"reask": raw.micro.as_dict()}
                if run.ungrounded == "reask"
                else {"flag": raw.micro.as_dict(), "drop": raw.dropped_micro.as_dict()}
            ),
            "unsupported_number_rate": _legacy_rate(s.unsupported_numbers.rate),
            "schema_valid_rate": _legacy_rate(s.schema_valid.rate),
            "tokens": {"prompt": s.prompt_tokens, "completion": s.completion_tokens},
            "latency_ms": round(s.latency_ms, 1),
        },
        "cases": [_legacy_case_json(o) for o in run.scored()],
    }  # fmt: skip


def _invented_figure() -> NewsFacts:
    data = CASE.facts.model_dump()
    invented = {"evidence": "Kyiv was encircled by 40,000 troops", "value": 40000,
                "unit": "troops", "what": "troops"}  # fmt: skip
    data["figures"] = [*data["figures"], invented]
    data["people"][0]["role"] = None
    data["quotes"] = data["quotes"][1:]
    return NewsFacts.model_validate(data)


META = Meta(
    model="m", prompt="p@v1", prompt_sha256="ab" * 32, schema_version="1",
    usage=Usage(prompt_tokens=120, completion_tokens=30), attempts=2, latency_ms=812.25,
    calls_at_once=CallsAtOnce(article=2, every_request=8), capped=["chunk_chars"],
)  # fmt: skip


@pytest.mark.parametrize("policy", ["flag", "drop", "reask"])
@pytest.mark.parametrize(
    "outcomes",
    [
        lambda: [CaseOutcome.build(CASE, CASE.facts)],
        lambda: [CaseOutcome.build(CASE, _invented_figure(), META)],
        lambda: [
            CaseOutcome.build(CASE, None, error="cut off", failed_usage=Usage(prompt_tokens=7))
        ],
        lambda: [
            CaseOutcome.build(CASE, NewsFacts(), META),
            CaseOutcome.build(CASE, _invented_figure()),
        ],
    ],
    ids=["perfect", "wrong-with-meta", "failed", "two-cases"],
)
def test_a_fresh_report_dumps_to_the_json_the_harness_always_wrote(
    outcomes: Callable[[], list[CaseOutcome]], policy: UngroundedPolicy
) -> None:
    run = EvalRun(prompt="p@v1", model="m", mode=Mode.REPLAY, ungrounded=policy,
                  variant="004", wall_s=3.14159, outcomes=outcomes())  # fmt: skip
    report = run_report(run)
    dt.datetime.fromisoformat(report.created)  # when it was scored, to the second
    expected = json.dumps(_legacy_run_json(run, report.created), indent=1, ensure_ascii=False)
    # Same keys in the same order, same values: the written file does not change.
    assert json.dumps(report.model_dump(mode="json"), indent=1, ensure_ascii=False) == expected


def _without_legacy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_legacy(v) for k, v in value.items() if k not in LEGACY_KEYS}
    if isinstance(value, list):
        return [_without_legacy(v) for v in value]
    return value


def test_the_committed_runs_are_found() -> None:
    assert len(COMMITTED_RUNS) >= 10


@pytest.mark.parametrize("path", COMMITTED_RUNS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_run_loads_and_dumps_back_to_its_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    report = RunReport.model_validate_json(text)
    assert report.summary.per_list.keys() <= set(FACT_LISTS) and report.cases
    # Fields the old runs lack stay unset: dumped back, the file is what was written.
    dumped = report.model_dump(mode="json", exclude_unset=True)
    assert dumped == _without_legacy(json.loads(text))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {"strategy": "llm", "ungrounded": "flag", "passes": "none", "variant": "",
              "dataset": SEEDS.name}),
        ({"strategy": "hybrid", "ungrounded": "drop", "passes": "lists", "variant": "joined",
          "dataset": "desk"},
         {"strategy": "hybrid", "ungrounded": "drop", "passes": "lists", "variant": "joined",
          "dataset": "desk"}),
    ],
    ids=["old-run-defaults", "all-given"],
)  # fmt: skip
def test_how_a_run_was_made_defaults_to_what_old_runs_used(
    fields: dict[str, str], expected: dict[str, str]
) -> None:
    report = make_report(**fields)
    assert report.model_dump(include=set(expected)) == expected


@pytest.mark.parametrize(
    ("fields", "absent"),
    [
        ({"strategy": "gpt"}, "strategy"),
        ({"ungrounded": "ignore"}, "ungrounded"),
        ({"summary": None}, "summary"),
        ({"cases": [{"article_id": "a"}]}, "cases.0.error"),
    ],
    ids=["unknown-strategy", "unknown-policy", "no-summary", "case-without-fields"],
)
def test_a_document_that_is_not_a_run_report_is_refused(
    fields: dict[str, Any], absent: str
) -> None:
    with pytest.raises(ValueError, match=absent.replace(".", r"\.")):
        make_report(**fields)


@pytest.mark.parametrize("counts", [Counts(), Counts(3, 1, 2), Counts(0, 4, 0)])
def test_counts_go_into_a_report_and_back(counts: Counts) -> None:
    report = CountsReport.of(counts)
    assert report.model_dump() == counts.as_dict()
    assert report.counts() == counts
