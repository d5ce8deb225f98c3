"""Benchmark plumbing: the fake LLM and the service as real processes, a load generator,
and the figures (percentiles, RSS) every benchmark reports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2 as httpx

from evals.gold import ROOT
from service.ports import free_port

RESULTS_PATH = ROOT / "evals" / "bench" / "results.json"
SEED_004 = (ROOT / "seeds" / "004_8b1c8c72e30bd7ca.txt").read_text(encoding="utf-8")


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def newsfacts_command() -> list[str]:
    """The installed `newsfacts` console script of this environment."""
    return [str(Path(sys.executable).parent / "newsfacts")]


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before answering")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def process(
    args: list[str],
    ready_url: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    log: IO[bytes] | None = None,
) -> Iterator[int]:
    """Run a server process until the block ends; yields its pid once ready_url answers.

    Its output goes to `log` when given, else to a temporary file whose end is shown if it
    fails to start (never an unread pipe: a server that logs more than a pipe holds would
    block writing its log, and stop answering)."""
    with contextlib.ExitStack() as stack:
        sink = log or stack.enter_context(tempfile.TemporaryFile())
        proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            try:
                _wait_http(ready_url, proc, timeout)
            except RuntimeError as exc:
                if log is None:
                    sink.seek(0)
                    tail = sink.read()[-2000:].decode("utf-8", "replace")
                    raise RuntimeError(f"{exc}; its output ended:\n{tail}") from None
                raise
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def fake_llm(delay_s: float = 0.0) -> Iterator[str]:
    """The fake OpenAI-compatible server in its own process; yields its /v1 base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process([sys.executable, "-m", "evals.bench.fake_llm", str(port), str(delay_s)],
                 f"{url}/v1/models"):  # fmt: skip
        yield f"{url}/v1"


@contextlib.contextmanager
def service(llm_url: str, **env: str) -> Iterator[tuple[str, int]]:
    """`newsfacts serve` as its own process against llm_url; yields (base URL, pid)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The fake answers every call with one article's facts: the llm strategy's one call.
    settings = {"NEWSFACTS_LLM_BASE_URL": llm_url, "NEWSFACTS_LOG_LEVEL": "WARNING",
                "NEWSFACTS_STRATEGY": "llm", **env}  # fmt: skip
    args = [*newsfacts_command(), "serve", "--port", str(port)]
    with process(args, f"{url}/healthz", settings) as pid:
        yield url, pid


@dataclass
class LoadResult:
    """Latencies and statuses of one load run."""

    wall_s: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        """p50/p99 latency, requests/s and the count of each status."""
        lat = sorted(self.latencies_ms)
        return {
            "requests": len(lat),
            "wall_s": round(self.wall_s, 3),
            "rps": round(len(lat) / self.wall_s, 1) if self.wall_s else None,
            "p50_ms": round(percentile(lat, 50), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "statuses": dict(sorted(self.statuses.items())),
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    """The pct-th percentile of already sorted values (nearest rank); 0 when empty."""
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


async def run_load(
    call: Callable[[int], Awaitable[str]], requests: int, concurrency: int
) -> LoadResult:
    """Make `requests` calls, `concurrency` at a time; call(i) returns a status label."""
    result = LoadResult(wall_s=0.0)
    next_index = iter(range(requests))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            try:
                status = await call(i)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - started
    return result


def extract_caller(
    client: httpx.AsyncClient, body: dict[str, Any] | None = None
) -> Callable[[int], Awaitable[str]]:
    """A load call that POSTs one article to /extract and returns the status code."""
    payload = body or {"text": SEED_004}

    async def call(_: int) -> str:
        response = await client.post("/extract", json=payload)
        return str(response.status_code)

    return call
