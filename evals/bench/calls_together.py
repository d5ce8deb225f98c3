"""Issue 25's benchmark: every article of the seeds and of other_news through the hybrid
strategy, its model calls one at a time and then at the default, in the same run, on the
embedded model and against a fake answering each call in 1 s; per article the seconds,
the calls, the model's prompt and generation tokens/s, and both runs' fact and field F1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx

from evals.bench.embedded_bench import child_pids, model_time
from evals.bench.harness import newsfacts_command, process, rss_mb
from evals.bench.service_bench import both_sides, timed_extract
from evals.datasets import DATASETS_DIR, load_dataset
from evals.gold import GoldCase
from evals.scoring import CaseOutcome, summarize
from schemas.facts import NewsFacts
from service.ports import free_port
from service.settings import load_settings

EMBEDDED_SIDES = (("one at a time", {"NEWSFACTS_EMBEDDED_PARALLEL": "1"}), ("default", {}))


def _cases() -> list[GoldCase]:
    return [*load_dataset(None).cases(), *load_dataset(DATASETS_DIR / "other_news").cases()]


def _scores(cases: list[GoldCase], seen: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Fact and field micro-F1 of one run's answers (an article that failed scores empty)."""
    outcomes = []
    for case in cases:
        row = seen[case.article_id]
        facts = NewsFacts.model_validate(row["facts"]) if row["status"] == 200 else None
        outcomes.append(CaseOutcome.build(case, facts))
    summary = summarize(outcomes)
    return {"fact_f1": round(summary.micro.f1, 3), "field_f1": round(summary.field_micro.f1, 3)}


def _embedded_side(cases: list[GoldCase], env: dict[str, str]) -> dict[str, Any]:
    """One `serve` on the embedded model (warmed up as it starts): each article in turn,
    with the model server's own prompt and generation time from its log."""
    log_path = load_settings().cache_dir / "embedded-server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seen: dict[str, dict[str, Any]] = {}
    command = [*newsfacts_command(), "serve", "--port", str(port)]
    env = {"NEWSFACTS_LOG_LEVEL": "WARNING", "NEWSFACTS_STRATEGY": "hybrid", **env}
    with (
        process(command, f"{url}/readyz", env, timeout=900) as pid,
        httpx.Client(base_url=url, timeout=3600) as client,
    ):
        for case in cases:
            offset = log_path.stat().st_size
            seen[case.article_id] = timed_extract(client, case.text)
            seen[case.article_id]["model"] = _model_rates(log_path, offset)
        memory = [rss_mb(child) for child in child_pids(pid)]
    return {"articles": seen, "model_server_memory": memory}


def _model_rates(log_path: Path, offset: int) -> dict[str, Any]:
    with log_path.open("rb") as log:
        log.seek(offset)
        t = model_time(log.read().decode("utf-8", "replace"))
    return {
        "prompt_tokens": t["prompt_tokens"], "gen_tokens": t["gen_tokens"],
        "prompt_tok_s": round(t["prompt_tokens"] / t["prompt_ms"] * 1000, 1)
        if t["prompt_ms"] else None,
        "gen_tok_s": round(t["gen_tokens"] / t["gen_ms"] * 1000, 1) if t["gen_ms"] else None,
    }  # fmt: skip


def _compare(cases: list[GoldCase], sides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per article both sides' seconds, calls and rates; totals, the ratio and scores."""
    one, default = sides["one at a time"], sides["default"]
    rows = []
    for case in cases:
        a, b = one[case.article_id], default[case.article_id]
        rows.append({
            "article": case.article_id, "chars": len(case.text), "calls": a["calls"],
            "one_at_a_time_s": a["seconds"], "default_s": b["seconds"],
            "ratio": round(b["seconds"] / a["seconds"], 2),
            "same_facts": a["facts"] == b["facts"],
            "model_one_at_a_time": a.get("model"), "model_default": b.get("model"),
        })  # fmt: skip
    total = {side: round(sum(r[f"{side}_s"] for r in rows), 1)
             for side in ("one_at_a_time", "default")}  # fmt: skip
    return {
        "rows": rows, "total_s": total,
        "ratio": round(total["default"] / total["one_at_a_time"], 2),
        "per_article_s": {k: round(v / len(rows), 2) for k, v in total.items()},
        "calls_per_article": round(sum(r["calls"] for r in rows) / len(rows), 1),
        "scores": {"one_at_a_time": _scores(cases, one), "default": _scores(cases, default)},
        "calls_at_once": next(iter(default.values()))["calls_at_once"],
    }  # fmt: skip


def calls_together_embedded() -> dict[str, Any]:
    """The embedded model: calls decoded one at a time (one sequence), then together at
    the default `NEWSFACTS_EMBEDDED_PARALLEL`, one `serve` per side."""
    cases = _cases()
    sides, memory = {}, {}
    for name, env in EMBEDDED_SIDES:
        side = _embedded_side(cases, env)
        sides[name], memory[name] = side["articles"], side["model_server_memory"]
    return {**_compare(cases, sides), "model_server_memory": memory}


def calls_together_fake(llm_delay_s: float = 1.0) -> dict[str, Any]:
    """The same articles against a fake answering each call after `llm_delay_s`."""
    cases = _cases()
    sides = both_sides(llm_delay_s, {case.article_id: case.text for case in cases})
    return {**_compare(cases, sides), "llm_delay_s": llm_delay_s}
