"""Benchmarks of the service around a fake LLM: overhead against a direct openai call,
concurrency against a slow LLM, and a soak for errors and memory."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2 as httpx
import openai

from evals.bench.harness import (
    SEED_004,
    extract_caller,
    fake_llm,
    rss_mb,
    run_load,
    service,
)
from schemas.facts import NewsFacts
from service.prompts import load_prompt

# Remote backends are not the 2-core CPU: let the service pass through what it is given.
WIDE_OPEN = {"NEWSFACTS_MAX_INFLIGHT": "256", "NEWSFACTS_MAX_QUEUE": "1024"}


def _direct_request() -> dict[str, Any]:
    """The chat request the service sends for seed 004, built the same way."""
    messages = load_prompt("news_facts@v1").render(text=SEED_004, title=None).messages
    schema = NewsFacts.model_json_schema()
    tool = {"type": "function", "function": {"name": "NewsFacts", "parameters": schema}}
    return {
        "model": "fake-model",
        "messages": messages,
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "NewsFacts"}},
        "temperature": 0.0,
    }


async def _overhead_at(llm_url: str, service_url: str, concurrency: int, n: int) -> dict[str, Any]:
    request = _direct_request()
    llm = openai.AsyncOpenAI(base_url=llm_url, api_key="not-needed", max_retries=0)

    async def direct(_: int) -> str:
        completion = await llm.chat.completions.create(**request)
        # The service parses and validates the tool call; so does the baseline.
        NewsFacts.model_validate_json(
            completion.choices[0].message.tool_calls[0].function.arguments
        )
        return "200"

    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=service_url, timeout=60, limits=limits) as client:
        await run_load(extract_caller(client), 20, min(concurrency, 4))  # warm both paths
        await run_load(direct, 20, min(concurrency, 4))
        base = (await run_load(direct, n, concurrency)).figures()
        ours = (await run_load(extract_caller(client), n, concurrency)).figures()
    await llm.close()
    return {
        "concurrency": concurrency,
        "direct_openai": base,
        "extract": ours,
        "added_p50_ms": round(ours["p50_ms"] - base["p50_ms"], 2),
        "p50_ratio": round(ours["p50_ms"] / base["p50_ms"], 2) if base["p50_ms"] else None,
        "rps_ratio": round(ours["rps"] / base["rps"], 2) if base["rps"] else None,
    }


def overhead(requests: int = 400) -> dict[str, Any]:
    """/extract against a direct openai call, both on a zero-latency fake, at 1, 16, 64."""
    with fake_llm(0.0) as llm_url, service(llm_url, **WIDE_OPEN) as (url, pid):
        rows = [asyncio.run(_overhead_at(llm_url, url, c, requests)) for c in (1, 16, 64)]
        return {"rows": rows, "service_memory": rss_mb(pid)}


def concurrency(calls: int = 64, llm_delay_s: float = 1.0) -> dict[str, Any]:
    """`calls` concurrent /extract calls with the LLM answering after llm_delay_s."""

    async def burst(url: str) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=calls)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            await run_load(extract_caller(client), 4, 4)  # connections and imports warm
            return (await run_load(extract_caller(client), calls, calls)).figures()

    # Default settings: a remote backend's limits (64 + 512). The embedded model's (4 + 32),
    # which remote backends had before, for comparison.
    with fake_llm(llm_delay_s) as llm_url:
        with service(llm_url) as (url, pid):
            figures = asyncio.run(burst(url))
            memory = rss_mb(pid)
        with service(llm_url, NEWSFACTS_MAX_INFLIGHT="4", NEWSFACTS_MAX_QUEUE="32") as (url, _):
            embedded_limits = asyncio.run(burst(url))
    return {"calls": calls, "llm_delay_s": llm_delay_s, **figures, "memory": memory,
            "with_embedded_limits": embedded_limits}  # fmt: skip


BAD_BODIES: list[tuple[dict[str, Any] | bytes, str]] = [
    ({"text": "   "}, "application/json"),
    ({"text": SEED_004, "colour": "red"}, "application/json"),
    (b"{not json", "application/json"),
    (b"text=hi", "text/plain"),
]


def soak(requests: int = 1000, concurrency: int = 16) -> dict[str, Any]:
    """`requests` requests at `concurrency`, one in ten malformed: statuses and memory."""

    async def load(url: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def call(i: int) -> str:
                if i % 10 == 9:
                    body, media_type = BAD_BODIES[(i // 10) % len(BAD_BODIES)]
                    content = (
                        body
                        if isinstance(body, bytes)
                        else httpx.Request("POST", "/", json=body).content
                    )
                    response = await client.post(
                        "/extract", content=content, headers={"content-type": media_type}
                    )
                else:
                    response = await client.post("/extract", json={"text": SEED_004})
                return str(response.status_code)

            return (await run_load(call, requests, concurrency)).figures()

    with fake_llm(0.0) as llm_url, service(llm_url) as (url, pid):
        asyncio.run(_warm(url))
        before = rss_mb(pid)
        figures = asyncio.run(load(url))
        after = rss_mb(pid)
        healthy = httpx.get(f"{url}/healthz").status_code == 200
    return {
        "requests": requests,
        "concurrency": concurrency,
        **figures,
        "memory_before": before,
        "memory_after": after,
        "still_healthy": healthy,
    }


async def _warm(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await run_load(extract_caller(client), 16, 4)


SIDES = (("one at a time", {"NEWSFACTS_ARTICLE_LLM_CALLS": "1"}), ("default", {}))


def both_sides(llm_delay_s: float, texts: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each text through the hybrid strategy against a fake answering every call after
    `llm_delay_s`: one call at a time, then side by side at the default cap, one `serve`
    per side; by side, then by text, what `timed_extract` saw."""
    sides: dict[str, dict[str, Any]] = {}
    with fake_llm(llm_delay_s) as llm_url:
        for name, env in SIDES:
            with (
                service(llm_url, NEWSFACTS_STRATEGY="hybrid", **env) as (url, _),
                httpx.Client(base_url=url, timeout=600) as client,
            ):
                sides[name] = {key: timed_extract(client, text) for key, text in texts.items()}
    return sides


def side_by_side(llm_delay_s: float = 1.0) -> dict[str, Any]:
    """Seed 004 on the hybrid strategy against a fake answering every call after
    `llm_delay_s`: its calls one at a time, then side by side at the default cap."""
    sides = both_sides(llm_delay_s, {"004": SEED_004})
    rows = {
        name: {k: v for k, v in side["004"].items() if k != "facts"} for name, side in sides.items()
    }
    ratio = rows["default"]["seconds"] / rows["one at a time"]["seconds"]
    return {"llm_delay_s": llm_delay_s, "rows": rows, "ratio": round(ratio, 2)}


def timed_extract(client: httpx.Client, text: str) -> dict[str, Any]:
    """One /extract: its status, seconds, model calls, call caps and facts."""
    started = time.perf_counter()
    response = client.post("/extract", json={"text": text})
    seconds = time.perf_counter() - started
    body = response.json()
    return {"status": response.status_code, "seconds": round(seconds, 2),
            "calls": body["meta"]["attempts"], "calls_at_once": body["meta"]["calls_at_once"],
            "facts": body["facts"]}  # fmt: skip
