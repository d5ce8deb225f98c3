"""Replicas behind nginx against the fake LLM: requests/s of one replica and of two behind
the balancer, and the failover run (one replica killed mid-batch).

On this 2-core machine the fake, nginx, the replicas and the load generator share the
CPU, so two replicas cannot show twice the throughput here: the figures say what one
replica's CPU does per request, and that the balancer loses nothing when one dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any

import httpx2 as httpx

from evals.bench.balancer import nginx
from evals.bench.harness import SEED_004, fake_llm, run_load, service

ARTICLES = [f"{SEED_004}\n\n(Copy {i}.)" for i in range(10_000)]
# The balancer refuses /extract without a bearer token: the replicas take this one.
TOKEN = "replica-bench-token-0123456789"


def _caller(client: httpx.AsyncClient, on_done: Any = None) -> Any:
    async def call(i: int) -> str:
        r = await client.post(
            "/extract",
            json={"text": ARTICLES[i]},
            headers={"X-Request-ID": f"b{i}", "Authorization": f"Bearer {TOKEN}"},
        )
        if on_done is not None:
            on_done(i, r)
        return str(r.status_code)

    return call


async def _load(url: str, requests: int, concurrency: int, on_done: Any = None) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await run_load(_caller(client), 16, 4)  # warm connections and imports
        return (await run_load(_caller(client, on_done), requests, concurrency)).figures()


def replicas(
    requests: int = 400, concurrency: int = 32, llm_delay_s: float = 0.0
) -> dict[str, Any]:
    """One replica direct, two behind nginx, and the two with one killed mid-run."""
    results: dict[str, Any] = {"requests": requests, "concurrency": concurrency,
                               "llm_delay_s": llm_delay_s, "strategy": "llm"}  # fmt: skip
    with fake_llm(llm_delay_s) as llm_url:
        with service(llm_url, NEWSFACTS_API_TOKEN=TOKEN) as (one, _):
            results["one_replica"] = asyncio.run(_load(one, requests, concurrency))
        with contextlib.ExitStack() as stack:
            first, first_pid = stack.enter_context(service(llm_url, NEWSFACTS_API_TOKEN=TOKEN))
            second, _ = stack.enter_context(service(llm_url, NEWSFACTS_API_TOKEN=TOKEN))
            lb = stack.enter_context(nginx([first, second]))
            results["two_replicas_nginx"] = asyncio.run(_load(lb, requests, concurrency))
        with contextlib.ExitStack() as stack:
            first, first_pid = stack.enter_context(service(llm_url, NEWSFACTS_API_TOKEN=TOKEN))
            second, _ = stack.enter_context(service(llm_url, NEWSFACTS_API_TOKEN=TOKEN))
            lb = stack.enter_context(nginx([first, second]))
            answered: dict[int, str] = {}

            def on_done(i: int, r: httpx.Response) -> None:
                answered[i] = r.headers.get("x-request-id", "")
                if len(answered) == requests // 4:
                    os.kill(first_pid, signal.SIGKILL)

            figures = asyncio.run(_load(lb, requests, concurrency, on_done))
            results["failover"] = {
                **figures,
                "killed_after": requests // 4,
                "answered_once": len(answered) == requests
                and all(answered[i] == f"b{i}" for i in range(requests)),
            }
    return results
