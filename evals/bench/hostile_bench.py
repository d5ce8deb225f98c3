"""Bounded work: 100,000-character hostile articles through the hybrid strategy, against a
fake LLM that answers at once, beside a seed article in the same run.

Each article is timed end to end over HTTP while /healthz is polled; the figures say how
long it took, its ratio to the seed, what `meta.capped` cut, and the slowest /healthz
answer meanwhile (the event loop stays free).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from evals.bench.attacks import probes
from evals.bench.harness import SEED_004, fake_llm, service

HOSTILE_CHARS = 100_000
# Each a unit repeated to the length: the shapes that once made work grow with the square
# of the text, or ran a model call per candidate without end.
UNITS: dict[str, str] = {
    "numbers": "1,",
    "long numbers": "1" * 400 + " people were killed. ",
    "quotes": '"We will fight," said John Smith. ',
    "unclosed quotes": '"We will fight, said John Smith of Kyiv. ',
    "names": "John Smith of the United Nations met Maria Lopez in Kyiv, Ukraine. ",
    "mixed": 'Officials said 12 people were killed and 3,400 fled to Poland, "We are afraid," '
    "said Anna Kowalska of the Red Cross in Lviv. ",
    "controls": "Ten\x00 people\x07 were \u202ekilled\u202c in \u2066Kyiv\u2069.\x1f ",
}


def hostile_article(kind: str, chars: int = HOSTILE_CHARS) -> str:
    """One hostile shape repeated to `chars` characters."""
    unit = UNITS[kind]
    return (unit * (chars // len(unit) + 1))[:chars]


def _timed(client: httpx.Client, text: str) -> dict[str, Any]:
    """One /extract of `text`, with /healthz polled alongside: status, seconds, what was
    capped, and the slowest health answer."""
    slowest, done = [0.0], threading.Event()

    def poll() -> None:
        while not done.is_set():
            started = time.perf_counter()
            client.get("/healthz")
            slowest[0] = max(slowest[0], time.perf_counter() - started)
            done.wait(0.2)

    poller = threading.Thread(target=poll)
    poller.start()
    started = time.perf_counter()
    response = client.post("/extract", json={"text": text})
    seconds = time.perf_counter() - started
    done.set()
    poller.join()
    meta = response.json().get("meta", {}) if response.status_code == 200 else {}
    return {
        "status": response.status_code,
        "seconds": round(seconds, 2),
        "model_calls": meta.get("attempts"),
        "capped": meta.get("capped"),
        "slowest_healthz_ms": round(slowest[0] * 1000, 1),
    }


def hostile(baseline: Path | None = None) -> dict[str, Any]:
    """Every hostile shape at 100,000 characters, and seed 004 as the baseline; then the
    hostile clients (`attacks.probes`), and against `baseline` (another checkout) too."""
    env = {"NEWSFACTS_STRATEGY": "hybrid", "NEWSFACTS_REQUEST_TIMEOUT_S": "600"}
    with (
        fake_llm(0.0) as llm_url,
        service(llm_url, **env) as (url, _),
        httpx.Client(base_url=url, timeout=900) as client,
    ):
        _timed(client, SEED_004)  # the first request loads what the process loads lazily
        seed = _timed(client, SEED_004)
        rows = {kind: _timed(client, hostile_article(kind)) for kind in UNITS}
    for row in rows.values():
        row["ratio_to_seed"] = round(row["seconds"] / max(seed["seconds"], 1e-3), 1)
    result = {"chars": HOSTILE_CHARS, "seed_004": seed, "articles": rows, "clients": probes()}
    if baseline is not None:
        result["clients_baseline"] = probes({"PYTHONPATH": str(baseline)})
    return result
