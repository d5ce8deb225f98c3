"""Hostile clients against `newsfacts serve` (its own process), each while /healthz is polled
every 50 ms over a connection opened before: what the attack got, how long it held the
service, and the slowest /healthz answer meanwhile (the issue's bar: under 100 ms).

The attacks (issue 32): a body of 400,000 unknown keys; five 100,000-character parses whose
clients hang up; one client's three batches of 16 beside another client's single; a
5,000-character evidence span that matches only fuzzily, on the re-ask path; connections
that trickle their headers or stall their bodies; more connections than the limit.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

from evals.bench.fake_llm import FakeLLM, labels, tool_call
from evals.bench.harness import service
from evals.bench.servers import serve_in_thread

KYIV = "Officials counted ten ambulances in Kyiv on Monday."  # needs a model call
NAMES = "John Smith of the United Nations met Maria Lopez in Kyiv, Ukraine. "


def _poll_healthz(url: str, ready: Any, stop: Any, results: Any) -> None:
    """In a process of its own (the bench's own work must not stall the poller): poll
    /healthz every 50 ms until `stop`, then send the slowest answer and the failures."""
    seen = {"slowest_healthz_ms": 0.0, "healthz_failures": 0}
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/healthz")  # the connection is open before the attack starts
        ready.set()
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            took = (time.perf_counter() - started) * 1000
            seen["slowest_healthz_ms"] = round(max(seen["slowest_healthz_ms"], took), 1)
            seen["healthz_failures"] += not ok
            stop.wait(0.05)
    results.send(seen)


@contextmanager
def healthz_watch(url: str) -> Iterator[dict[str, Any]]:
    """Poll /healthz every 50 ms from another process for the block; the slowest answer
    and the failures are put in the yielded dict when the block ends."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    results, sender = context.Pipe(duplex=False)
    poller = context.Process(target=_poll_healthz, args=(url, ready, stop, sender))
    poller.start()
    ready.wait(60)
    seen: dict[str, Any] = {}
    try:
        yield seen
    finally:
        stop.set()
        seen.update(results.recv())
        poller.join()


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return str(parts.hostname), int(parts.port or 80)


def unknown_keys(url: str) -> dict[str, Any]:
    """A 5.6 MB body of 400,000 unknown keys."""
    body = json.dumps({"text": KYIV, **{f"k{i}": 1 for i in range(400_000)}}).encode()
    started = time.perf_counter()
    response = httpx.post(f"{url}/extract", content=body, timeout=120,
                          headers={"content-type": "application/json"})  # fmt: skip
    seconds = round(time.perf_counter() - started, 2)
    size = round(len(body) / 1e6, 1)
    return {"status": response.status_code, "seconds": seconds,
            "answer_bytes": len(response.content), "body_mb": size}  # fmt: skip


def hung_up_parses(url: str) -> dict[str, Any]:
    """Five 100,000-character nlp requests whose clients hang up after 0.5 s, then a small
    request: how long it waited (the work left behind), against one whole parse."""
    article = (NAMES * (100_000 // len(NAMES) + 1))[:100_000]
    started = time.perf_counter()
    httpx.post(f"{url}/extract", json={"text": article}, timeout=300)
    one_parse = time.perf_counter() - started

    def hang_up() -> None:
        with contextlib.suppress(httpx.TimeoutException):
            httpx.post(f"{url}/extract", json={"text": article}, timeout=0.5)

    callers = [threading.Thread(target=hang_up) for _ in range(5)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    started = time.perf_counter()
    status = httpx.post(f"{url}/extract", json={"text": KYIV}, timeout=300).status_code
    return {"status": status, "one_whole_parse_s": round(one_parse, 2),
            "small_request_after_s": round(time.perf_counter() - started, 2)}  # fmt: skip


def batches_and_a_single(url: str) -> dict[str, Any]:
    """Three batches of 16 from 127.0.0.1 and, once they run, one single from 127.0.0.2."""
    batch = {
        "articles": [{"text": f"Officials counted {n} ambulances in Town{n}."} for n in range(16)]
    }
    answers: list[httpx.Response] = []
    started = time.perf_counter()

    def send() -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.1")
        with httpx.Client(transport=transport, timeout=600) as client:
            answers.append(client.post(f"{url}/extract/batch", json=batch))

    senders = [threading.Thread(target=send) for _ in range(3)]
    for sender in senders:
        sender.start()
    time.sleep(0.5)
    single_started = time.perf_counter()
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=600) as b:
        single = b.post(f"{url}/extract", json={"text": KYIV})
    single_s = time.perf_counter() - single_started
    for sender in senders:
        sender.join()
    failed = sum(a.json().get("failed", 16) if a.status_code == 200 else 16 for a in answers)
    return {"single_status": single.status_code, "single_s": round(single_s, 2),
            "batches_s": round(time.perf_counter() - started, 2),
            "batch_articles_failed": failed}  # fmt: skip


def fuzzy_article() -> tuple[str, str]:
    """A 12,000-character article and a 5,000-character span of it with a typo every 40
    characters (found only fuzzily)."""
    article = (NAMES * 200)[:12_000]
    span = article[2_000:7_000]
    return article, "".join("#" if i % 40 == 20 and c.isalpha() else c for i, c in enumerate(span))


def long_fuzzy_evidence(url: str) -> dict[str, Any]:
    """An llm-strategy request with `ungrounded: reask` whose answer (the fake's, set by
    `probes`) cites the fuzzy span."""
    article, _ = fuzzy_article()
    started = time.perf_counter()
    response = httpx.post(f"{url}/extract", timeout=300,
                          json={"text": article, "ungrounded": "reask"})  # fmt: skip
    return {"status": response.status_code, "seconds": round(time.perf_counter() - started, 2)}


def slow_connections(url: str, trickle: bool, count: int = 20) -> dict[str, Any]:
    """`count` connections that trickle a header byte a second, or send headers and 10
    bytes of a 1,000-byte body and stall: how long the server held them, what it said."""
    host, port = _address(url)
    socks = [socket.create_connection((host, port), timeout=60) for _ in range(count)]
    started = time.perf_counter()
    if not trickle:
        for sock in socks:
            sock.sendall(b"POST /extract HTTP/1.1\r\nHost: x\r\ncontent-type: application/json"
                         b"\r\ncontent-length: 1000\r\n\r\n{\"text\": \"")  # fmt: skip
    held, answers = _held(socks, started, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" * trickle)
    return {"connections": count, "held_s_max": round(max(held), 1),
            "answers": sorted(set(answers))}  # fmt: skip


def _held(
    socks: list[socket.socket], started: float, trickle: bytes
) -> tuple[list[float], list[str]]:
    """Seconds until the server closed each connection, and the status line it sent."""
    held, answers = [], []
    for sock in socks:
        sock.settimeout(1.0)
        data, byte = b"", 0
        while time.perf_counter() - started < 120:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if byte < len(trickle):
                    sock.sendall(trickle[byte : byte + 1])
                    byte += 1
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            data += chunk
        held.append(time.perf_counter() - started)
        answers.append(data.split(b"\r\n", 1)[0].decode() or "closed")
        sock.close()
    return held, answers


def connection_flood(url: str, count: int = 300) -> dict[str, Any]:
    """`count` connections opened at once, beyond the default limit of 256."""
    host, port = _address(url)
    socks = [socket.create_connection((host, port), timeout=10) for _ in range(count)]
    refused = 0
    for sock in socks:
        sock.settimeout(0.05)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            refused += sock.recv(64).startswith(b"HTTP/1.1 503")
    for sock in socks:
        sock.close()
    return {"connections": count, "refused_503": refused}


def _probe(url: str, attack: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    # One plain request first: what a process loads on its first request (the LLM client,
    # schemas, templates) is start-up, not the attack's doing.
    httpx.post(f"{url}/extract", json={"text": KYIV}, timeout=300)
    with healthz_watch(url) as seen:
        row = attack(url)
    return {**row, **seen}


def probes(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Every attack against its own `newsfacts serve`, /healthz watched throughout; `env`
    is added to each server's (PYTHONPATH=<another checkout> runs that checkout's code)."""
    extra = env or {}
    by_tool = labels(delay_s=0.1)
    fake = FakeLLM(default=tool_call({}), keep=False, by_tool=by_tool)
    rows: dict[str, Any] = {}
    with serve_in_thread(fake.app) as llm:
        with service(f"{llm}/v1", NEWSFACTS_STRATEGY="nlp", **extra) as (url, _):
            rows["400,000 unknown keys"] = _probe(url, unknown_keys)
            rows["5 hung-up 100k parses"] = _probe(url, hung_up_parses)
            rows["connection flood"] = _probe(url, connection_flood)
        with service(f"{llm}/v1", NEWSFACTS_STRATEGY="nlp", NEWSFACTS_HEADER_TIMEOUT_S="10",
                     NEWSFACTS_IDLE_TIMEOUT_S="5", **extra) as (url, _):  # fmt: skip
            rows["trickled headers (10 s timeout)"] = _probe(
                url, lambda u: slow_connections(u, True)
            )
            rows["stalled bodies (5 s idle timeout)"] = _probe(
                url, lambda u: slow_connections(u, False)
            )
        fake.by_tool = labels(delay_s=0.3)
        # the embedded model's limits: 4 running, 32 waiting
        limits = {"NEWSFACTS_MAX_INFLIGHT": "4", "NEWSFACTS_MAX_QUEUE": "32"}
        with service(f"{llm}/v1", NEWSFACTS_STRATEGY="hybrid", **limits, **extra) as (url, _):
            rows["3 batches of 16 and a single"] = _probe(url, batches_and_a_single)
        _, garbled = fuzzy_article()
        fake.default = tool_call({"people": [{"evidence": garbled, "name": "Nobody Here"}]})
        with service(f"{llm}/v1", NEWSFACTS_STRATEGY="llm", **extra) as (url, _):
            rows["5,000-char fuzzy evidence, reask"] = _probe(url, long_fuzzy_evidence)
    return rows
