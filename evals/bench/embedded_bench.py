"""The embedded model: per strategy and seed, /extract wall time against the model
server's own prompt-eval + generation time (llama.cpp's timing lines in its log), tokens/s
and memory. Every strategy runs in the same served process, one after the other (each
over all seeds, so each keeps its own evaluated prefix warm), and is compared with `llm`."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from evals.bench.harness import ROOT, newsfacts_command, process, rss_mb
from service.ports import free_port
from service.settings import load_settings

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
_TIMING = re.compile(
    r"^(?:llama_perf_context_print|slots_perf):\s+(prompt eval|eval|total) time ="
    r"\s+([\d.]+) ms /\s+(\d+)",
    re.M,
)
_PREFIX = {"prompt eval": "prompt", "eval": "gen", "total": "total"}


def model_time(log_text: str) -> dict[str, float]:
    """Sum llama.cpp's prompt-eval, generation and total timings in a slice of its log.

    The total also holds sampling (with the tool-call grammar), which the other two do not.
    """
    totals = {"prompt_ms": 0.0, "prompt_tokens": 0, "gen_ms": 0.0, "gen_tokens": 0,
              "total_ms": 0.0, "total_tokens": 0}  # fmt: skip
    for kind, ms, count in _TIMING.findall(log_text):
        totals[f"{_PREFIX[kind]}_ms"] += float(ms)
        totals[f"{_PREFIX[kind]}_tokens"] += int(count)
    return totals


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (the model server, under `serve`)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


STRATEGIES = ("llm", "hybrid", "nlp")


def embedded(
    seeds: list[Path] | None = None, strategies: tuple[str, ...] = STRATEGIES, **env: str
) -> dict[str, Any]:
    """Serve on the embedded model and extract each seed once per strategy, in order."""
    log_path = load_settings().cache_dir / "embedded-server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rows = []
    with process([*newsfacts_command(), "serve", "--port", str(port)], f"{url}/readyz",
                 {"NEWSFACTS_LOG_LEVEL": "WARNING", **env}, timeout=900) as pid:  # fmt: skip
        for strategy in strategies:
            for seed in seeds or SEEDS:
                rows.append(extract_timed(url, log_path, seed, strategy))
        memory = {"service": rss_mb(pid), "model_server": [rss_mb(c) for c in child_pids(pid)]}
    return {"rows": rows, "totals": totals(rows), "memory": memory, "env": env}


def extract_timed(url: str, log_path: Path, seed: Path, strategy: str) -> dict[str, Any]:
    """One /extract of a seed: wall time, the model server's own time from its log, tokens."""
    offset = log_path.stat().st_size
    started = time.perf_counter()
    r = httpx.post(
        f"{url}/extract", json={"text": seed.read_text(), "strategy": strategy}, timeout=3600
    )
    wall_s = time.perf_counter() - started
    with log_path.open("rb") as log:
        log.seek(offset)
        timing = model_time(log.read().decode("utf-8", "replace"))
    model_s = (timing["prompt_ms"] + timing["gen_ms"]) / 1000
    body = r.json()
    return {
        "strategy": strategy,
        "seed": seed.stem,
        "status": r.status_code,
        "prompt": body["meta"]["prompt"] if r.status_code == 200 else None,
        "facts": sum(len(v) for v in body["facts"].values()) if r.status_code == 200 else 0,
        "wall_s": round(wall_s, 1),
        "model_s": round(model_s, 1),
        "ratio": round(wall_s / model_s, 3) if model_s else None,
        "prompt_tokens": timing["prompt_tokens"],
        "prompt_tok_s": round(timing["prompt_tokens"] / timing["prompt_ms"] * 1000, 1)
        if timing["prompt_ms"] else None,
        "gen_tokens": timing["gen_tokens"],
        "gen_tok_s": round(timing["gen_tokens"] / timing["gen_ms"] * 1000, 1)
        if timing["gen_ms"] else None,
    }  # fmt: skip


def totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per strategy: wall time over all seeds and its ratio to the `llm` strategy's."""
    wall: dict[str, float] = {}
    for row in rows:
        wall[row["strategy"]] = wall.get(row["strategy"], 0.0) + row["wall_s"]
    base = wall.get("llm")
    return {
        name: {"wall_s": round(s, 1), "vs_llm": round(s / base, 3) if base else None}
        for name, s in wall.items()
    }
