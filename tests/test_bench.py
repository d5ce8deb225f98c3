"""Benchmark plumbing: percentiles, llama.cpp timing lines, and a short real load run."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from evals.bench.embedded_bench import model_time
from evals.bench.harness import LoadResult, percentile, run_load
from evals.bench.levers import perf

LOG = """\
llama_perf_context_print:        load time =    1000.00 ms
llama_perf_context_print: prompt eval time =  129600.00 ms /  3570 tokens (   36.30 ms per token,    27.55 tokens per second)
llama_perf_context_print:        eval time =  113600.00 ms /   900 runs   (  126.22 ms per token,     7.92 tokens per second)
llama_perf_context_print:       total time =  250000.00 ms /  4470 tokens
INFO:     127.0.0.1:36904 - "POST /v1/chat/completions HTTP/1.1" 200 OK
llama_perf_context_print: prompt eval time =    1000.00 ms /    30 tokens
llama_perf_context_print:        eval time =    2000.00 ms /    10 runs
"""  # noqa: E501


def test_model_time_sums_every_call_in_the_slice() -> None:
    assert model_time(LOG) == {
        "prompt_ms": 130600.0, "prompt_tokens": 3600, "gen_ms": 115600.0, "gen_tokens": 910,
        "total_ms": 250000.0, "total_tokens": 4470,
    }  # fmt: skip


def test_lever_figures_put_sampling_apart() -> None:
    figures = perf(LOG.split("INFO:")[0])
    assert figures == {
        "prompt_tokens": 3570, "prompt_tok_s": 27.5, "gen_tokens": 900, "gen_tok_s": 7.92,
        "sampling_s": 6.8, "model_s": 250.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([], 50, 0.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0], 50, 2.0),
        (list(map(float, range(1, 101))), 99, 99.01),
    ],
)
def test_percentile(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == pytest.approx(expected)


def test_run_load_makes_every_call_once_at_the_given_concurrency() -> None:
    seen: list[int] = []
    running = 0
    peak = 0

    async def call(i: int) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        seen.append(i)
        return "200" if i % 4 else "503"

    result = asyncio.run(run_load(call, 40, 8))
    assert sorted(seen) == list(range(40))
    assert peak == 8
    assert result.statuses == Counter({"200": 30, "503": 10})
    figures = result.figures()
    assert figures["requests"] == 40 and figures["statuses"] == {"200": 30, "503": 10}


def test_figures_of_an_empty_run() -> None:
    assert LoadResult(wall_s=0.0).figures()["rps"] is None


def test_embedded_totals_compare_each_strategy_with_llm() -> None:
    from evals.bench.embedded_bench import totals

    rows = [
        {"strategy": "llm", "wall_s": 100.0}, {"strategy": "llm", "wall_s": 60.0},
        {"strategy": "hybrid", "wall_s": 30.0}, {"strategy": "hybrid", "wall_s": 10.0},
        {"strategy": "nlp", "wall_s": 0.2},
    ]  # fmt: skip
    assert totals(rows) == {
        "llm": {"wall_s": 160.0, "vs_llm": 1.0},
        "hybrid": {"wall_s": 40.0, "vs_llm": 0.25},
        "nlp": {"wall_s": 0.2, "vs_llm": 0.001},
    }
    assert totals([{"strategy": "hybrid", "wall_s": 5.0}])["hybrid"]["vs_llm"] is None


def test_machine_limits_bound_tokens_by_bandwidth_and_flops() -> None:
    from evals.bench.speed_bench import FLOPS_PER_TOKEN, limits

    lim = limits(model_bytes=2 * 10**9)
    assert lim["memory_read_gb_s"] > 0 and lim["sgemm_gflop_s"] > 0
    # generation reads every weight once per token; prompt eval does the model's flops
    assert lim["gen_tok_s_bound"] == pytest.approx(lim["memory_read_gb_s"] / 2, abs=0.1)
    assert lim["prompt_tok_s_bound"] == pytest.approx(
        lim["sgemm_gflop_s"] * 1e9 / FLOPS_PER_TOKEN, abs=0.1
    )


def _row(request: str, wall: float, model: float) -> dict[str, object]:
    return {"request": request, "wall_s": wall, "model_s": model, "gen_tokens": 100,
            "gen_tok_s": 10.0, "prompt_tokens": 500, "prompt_tok_s": 50.0}  # fmt: skip


def test_speed_table_shows_both_sides_and_the_limits() -> None:
    from rich.console import Console

    from evals.bench.run import print_results

    side = {
        "prompt": "hybrid_labels@v3", "ready_s": 30.0, "first_004_s": 20.0, "warm_004_s": 18.0,
        "first_vs_warm": 1.11, "gold_set_s": 120.0, "gold_set_model_s": 110.0,
        "rows": [_row("first", 20.0, 19.0), _row("gold set", 120.0, 110.0),
                 _row("warm", 18.0, 17.0)],
    }  # fmt: skip
    speed = {
        "sides": {"baseline": {**side, "prompt": "hybrid_labels@v2"}, "new": side},
        "ratios": {"warm_004_s": 0.4},
        "limits": {"memory_read_gb_s": 20.0, "sgemm_gflop_s": 200.0, "model_gb": 1.117,
                   "gen_tok_s_bound": 17.9, "prompt_tok_s_bound": 64.9},
    }  # fmt: skip
    console = Console(record=True, width=200)
    print_results({"speed": speed}, console)
    text = console.export_text()
    assert "hybrid_labels@v2" in text and "hybrid_labels@v3" in text
    assert "110.0 (1.091x)" in text  # the gold set's wall time over llama.cpp's own
    assert "at most 17.9 generated tok/s" in text and "'warm_004_s': 0.4" in text


def test_the_committed_figures_of_issue_24_and_25_print() -> None:
    import io
    import json

    from rich.console import Console

    from evals.bench.harness import RESULTS_PATH
    from evals.bench.run import print_results

    results = json.loads(RESULTS_PATH.read_text())
    names = ("hostile", "side_by_side", "calls_together_embedded")
    out = io.StringIO()
    print_results({name: results[name] for name in names}, Console(file=out, width=200))
    text = out.getvalue()
    assert "bounded work" in text and "NEWSFACTS_MAX_LLM_CALLS" in text
    assert "side by side (16 at once)" in text
    assert "embedded model, 2 cores: calls one at a time vs the default (4 at once)" in text
    assert "model server memory" in text


def test_decode_row_counts_sampled_and_forced_tokens_against_the_bound() -> None:
    from evals.bench.decode_bench import side_row
    from service.llm.slots import Decoded

    answers = [
        Decoded(tokens=[1, 2, 3, 4], evaluated=10, drafted=3, forced=2),
        Decoded(tokens=[5, 6], evaluated=3),
    ]
    row = side_row(answers, 3.0, {"prompt_tokens_per_s": 16.0, "sampled_tokens_per_s": 4.0})
    assert (row["new_prompt_tokens"], row["sampled_tokens"], row["forced_tokens"]) == (13, 4, 2)
    # (13 prompt + 3 drafted) / 16 + 4 sampled / 4 = 2 s predicted, 3 s measured
    assert (row["predicted_s"], row["ratio"]) == (2.0, 1.5)


def test_decode_sides_are_compared_with_main_answer_by_answer() -> None:
    from rich.console import Console

    from evals.bench.decode_bench import merge
    from evals.bench.run import print_results

    def side(seconds: float, forced: int, texts: list[str]) -> dict[str, Any]:
        row = {"dataset": "seeds", "article": "a", "calls": 2, "new_prompt_tokens": 100,
               "sampled_tokens": 20 - forced, "forced_tokens": forced, "drafted_tokens": forced,
               "model_s": seconds, "predicted_s": 4.0, "texts": texts,
               "recorded": ["x", "y"],
               "same_as_recorded": sum(t in "xy" for t in texts)}  # fmt: skip
        rates = {"prompt_tokens_per_s": 60.0, "sampled_tokens_per_s": 25.0}
        return {"cpu_variant": "icelake", "rates": rates, "rows": [row]}

    result = merge({"main": side(5.0, 0, ["x", "y"]), "dispatch": side(4.0, 0, ["x", "z"]),
                    "dispatch+jump-forward": side(3.0, 12, ["x", "y"])})  # fmt: skip
    totals = result["totals"]
    assert totals["dispatch+jump-forward"]["all"]["over_main"] == 0.6
    assert totals["dispatch"]["seeds"]["same_as_main"] == 1
    [difference] = result["sides"]["dispatch"]["rows"][0]["differences"]
    assert difference == {"recorded": "y", "main": "y", "this": "z"}
    console = Console(record=True, width=260)
    print_results({"decode": result}, console)
    text = console.export_text()
    assert "60.0 prompt tok/s" in text and "dispatch+jump-forward" in text and "0.6" in text
