"""Benchmark plumbing: percentiles, llama.cpp timing lines, and a short real load run."""

from __future__ import annotations

import asyncio
from collections import Counter

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
