"""Model-server levers: the same recorded request (seed 004, prompt news_facts@v2) sent to a
fresh llama-cpp-python server per variant (server flags, or another build's Python), with
llama.cpp's own prompt-eval, generation and sampling times read from its log."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from evals.bench.embedded_bench import model_time
from evals.bench.harness import ROOT, process, rss_mb
from service.llm.embedded import EmbeddedServer, resolve_model_path
from service.settings import load_settings

CASSETTE = ROOT / "tests" / "cassettes" / "news_facts@v2" / "004_8b1c8c72e30bd7ca.json"
# Enough generated tokens for a steady tokens/s; the whole answer would add minutes a variant.
MAX_TOKENS = 256
# name -> (extra server flags, extra environment), measured in this order against the first.
Variant = tuple[list[str], dict[str, str]]
VARIANTS: dict[str, Variant] = {
    "baseline": ([], {}),
    "flash_attn": (["--flash_attn", "True"], {}),
    "n_batch 2048": (["--n_batch", "2048", "--n_ubatch", "2048"], {}),
}


def recorded_request() -> dict[str, Any]:
    """The first chat-completion body recorded for seed 004, answer capped at MAX_TOKENS."""
    body = json.loads(CASSETTE.read_text())["interactions"][0]["request"]["body"]["json"]
    return {**body, "max_tokens": MAX_TOKENS}


def perf(log_text: str) -> dict[str, float]:
    """Tokens/s of prompt eval and generation, and seconds of sampling, from a server log."""
    t = model_time(log_text)
    return {
        "prompt_tokens": t["prompt_tokens"],
        "prompt_tok_s": round(t["prompt_tokens"] / t["prompt_ms"] * 1000, 1),
        "gen_tokens": t["gen_tokens"],
        "gen_tok_s": round(t["gen_tokens"] / t["gen_ms"] * 1000, 2),
        "sampling_s": round((t["total_ms"] - t["prompt_ms"] - t["gen_ms"]) / 1000, 1),
        "model_s": round(t["total_ms"] / 1000, 1),
    }


def measure(name: str, variant: Variant) -> dict[str, Any]:
    """Start one server variant, send the recorded request once, read its timings."""
    args, env = variant
    settings = load_settings()
    server = EmbeddedServer(settings, resolve_model_path(settings))
    command = [*server.command(), *args]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        url = f"http://{server.host}:{server.port}"
        with (
            log_path.open("wb") as log,
            process(command, f"{url}/v1/models", env=env, timeout=300, log=log) as pid,
        ):
            started = time.perf_counter()
            response = httpx.post(
                f"{url}/v1/chat/completions", json=recorded_request(), timeout=3600
            )
            wall_s = time.perf_counter() - started
            memory = rss_mb(pid)
        figures = perf(log_path.read_text(encoding="utf-8", errors="replace"))
    return {"variant": name, "args": args, "env": env, "status": response.status_code,
            "wall_s": round(wall_s, 1), **figures, "memory": memory}  # fmt: skip


def levers(variants: dict[str, Variant] | None = None) -> dict[str, Any]:
    """Every variant in turn (never two servers at once: they would share the two cores)."""
    rows = [measure(name, variant) for name, variant in (variants or VARIANTS).items()]
    base = rows[0]
    for row in rows:
        row["prompt_speedup"] = round(row["prompt_tok_s"] / base["prompt_tok_s"], 2)
        row["gen_speedup"] = round(row["gen_tok_s"] / base["gen_tok_s"], 2)
    return {"request": f"seed 004, news_facts@v2, max_tokens {MAX_TOKENS}", "rows": rows}
