"""The embedded model's speed, a baseline checkout and this one side by side in one run.

Each side is `newsfacts serve` on the embedded model with its own default pipeline, started
fresh: the time until it is ready, seed 004 as the first request, then every seed in order
(the full gold set live), seed 004 last again (a warm request). Beside them the machine's
own limits, measured here: memory bandwidth (what bounds generation: every generated token
reads all the weights) and matrix-multiply throughput (what bounds prompt evaluation).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from evals.bench.embedded_bench import SEEDS, extract_timed
from evals.bench.harness import ROOT, process, rss_mb
from service.llm.embedded import resolve_model_path
from service.ports import free_port
from service.settings import load_settings

SEED_004 = next(s for s in SEEDS if s.stem.startswith("004"))
# Qwen2.5-1.5B: about 1.54e9 weights, two floating-point operations each per token.
FLOPS_PER_TOKEN = 2 * 1.54e9


def side(root: Path) -> dict[str, Any]:
    """Start `serve` from a checkout's own environment and time the requests above."""
    log_path = load_settings().cache_dir / "embedded-server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(root / ".venv" / "bin" / "newsfacts"), "serve", "--port", str(port)]
    started = time.perf_counter()
    with process(command, f"{url}/readyz", {"NEWSFACTS_LOG_LEVEL": "WARNING"}, 900) as pid:
        ready_s = time.perf_counter() - started

        def timed(request: str, seed: Path) -> dict[str, Any]:
            return {"request": request, **extract_timed(url, log_path, seed, "hybrid")}

        rows = [timed("first", SEED_004), *(timed("gold set", s) for s in SEEDS)]
        rows.append(timed("warm", SEED_004))
        memory = rss_mb(pid)
    first, warm = rows[0], rows[-1]
    gold = [r for r in rows if r["request"] == "gold set"]
    return {
        "root": str(root),
        "prompt": first["prompt"],
        "ready_s": round(ready_s, 1),
        "first_004_s": first["wall_s"],
        "warm_004_s": warm["wall_s"],
        "first_vs_warm": round(first["wall_s"] / warm["wall_s"], 2),
        "gold_set_s": round(sum(r["wall_s"] for r in gold), 1),
        "gold_set_model_s": round(sum(r["model_s"] for r in gold), 1),
        "rows": rows,
        "service_memory": memory,
    }


def limits(model_bytes: int, threads: int = os.cpu_count() or 2) -> dict[str, float]:
    """This machine's bounds for the model: memory read bandwidth (every core reading its
    share of 1 GiB, as llama.cpp's threads read the weights) and matmul throughput."""
    a = np.ones(2**30 // 8)
    shares = np.array_split(a, threads)
    with ThreadPoolExecutor(threads) as pool:  # numpy's sum releases the GIL
        best = min(_timed(lambda: list(pool.map(np.sum, shares))) for _ in range(5))
    bandwidth = a.nbytes / best / 1e9
    m = np.ones((2048, 2048), dtype=np.float32)
    best = min(_timed(lambda: m @ m) for _ in range(5))
    gflops = 2 * 2048**3 / best / 1e9
    return {
        "memory_read_gb_s": round(bandwidth, 1),
        "sgemm_gflop_s": round(gflops, 1),
        "model_gb": round(model_bytes / 1e9, 3),
        "gen_tok_s_bound": round(bandwidth * 1e9 / model_bytes, 1),
        "prompt_tok_s_bound": round(gflops * 1e9 / FLOPS_PER_TOKEN, 1),
    }


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def speed(baseline: Path | None = None) -> dict[str, Any]:
    """Both sides (the baseline first, when given) and the machine's limits."""
    sides = {"new": side(ROOT)} if baseline is None else {
        "baseline": side(baseline), "new": side(ROOT)}  # fmt: skip
    result: dict[str, Any] = {"sides": sides}
    result["limits"] = limits(resolve_model_path(load_settings()).stat().st_size)
    if baseline is not None:
        b, n = sides["baseline"], sides["new"]
        result["ratios"] = {
            key: round(n[key] / b[key], 3) for key in ("first_004_s", "warm_004_s", "gold_set_s")
        }
    return result
