"""Replicas behind a real load balancer: Debian's nginx running service/deploy/nginx.conf
(its ports moved to free ones) in front of two `newsfacts serve` processes sharing one
remote backend (the fake LLM). One replica is killed mid-batch: every article still gets
exactly one answer. A replica told to stop finishes what it is doing first."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from evals.bench.balancer import nginx
from evals.bench.fake_llm import FakeLLM, tool_call
from service.ports import free_port
from tests.conftest import FACTS_004, SEED_004, child_env, wait_for
from tests.test_cli import NEWSFACTS

ARTICLES = [f"{SEED_004}\n\n(Copy {i} of the dispatch.)" for i in range(40)]


def _ready(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx2.HTTPError:
        return False


@pytest.fixture
def replica(fake_llm: FakeLLM, tmp_path: Path) -> Iterator[Callable[..., tuple[Any, str, Path]]]:
    """Start `newsfacts serve` on a free port against the fake LLM; (process, url, log)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> tuple[subprocess.Popen[bytes], str, Path]:
        port = free_port()
        log = tmp_path / f"replica-{port}.log"
        process = subprocess.Popen(
            [NEWSFACTS, "serve", "--port", str(port)],
            env=child_env(NEWSFACTS_LLM_BASE_URL=fake_llm.url, NEWSFACTS_STRATEGY="llm",  # type: ignore[attr-defined]
                          NEWSFACTS_LLM_RETRY_BACKOFF_S="0", **env),
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _ready(url) or process.poll() is not None, 60, f"replica on {port}")
        assert process.poll() is None, log.read_text()
        return process, url, log

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture
def balancer(tmp_path: Path, nginx_path: str) -> Iterator[Callable[[list[str]], str]]:
    """Run the committed nginx recipe in front of the given replica URLs; its URL."""
    with contextlib.ExitStack() as stack:
        yield lambda upstreams: stack.enter_context(nginx(upstreams, tmp_path / "nginx.log"))


def _served(log: Path) -> list[str]:
    """Request ids of the /extract requests a replica answered, from its JSON access log."""
    import json

    ids = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("msg") == "request" and entry.get("path") == "/extract":
                ids.append(entry["request_id"])
    return ids


def test_a_replica_killed_mid_batch_loses_no_article(
    fake_llm: FakeLLM, replica: Any, balancer: Any
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=0.4)
    first, first_url, first_log = replica()
    _, second_url, second_log = replica()
    url = balancer([first_url, second_url])
    answered: list[int] = []
    lock = threading.Lock()

    def extract(i: int) -> httpx2.Response:
        with httpx2.Client(base_url=url, timeout=60) as client:
            r = client.post(
                "/extract", json={"text": ARTICLES[i]}, headers={"X-Request-ID": f"a{i}"}
            )
        with lock:
            answered.append(i)
            if len(answered) == 10:
                first.send_signal(signal.SIGKILL)  # mid-batch, with requests in flight on it
        return r

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(extract, range(len(ARTICLES))))
    assert first.wait(10) == -signal.SIGKILL
    assert [r.status_code for r in responses] == [200] * len(ARTICLES)
    # one answer per article, each its own: the id of its text and the request id it was sent
    assert [r.headers["x-request-id"] for r in responses] == [f"a{i}" for i in range(40)]
    ids = [r.json()["article_id"] for r in responses]
    assert len(set(ids)) == len(ARTICLES)
    assert all(r.json()["facts"]["people"][0]["name"] == "Mykhailo Podolyak" for r in responses)
    # both replicas served, and the survivor took what the dead one left
    before, after = _served(first_log), _served(second_log)
    assert before and after and len(after) >= len(ARTICLES) - len(before)


def test_a_stopped_replica_finishes_its_requests_and_takes_no_new_ones(
    fake_llm: FakeLLM, replica: Any
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=2.0)
    process, url, _ = replica()
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(httpx2.post, f"{url}/extract", json={"text": SEED_004}, timeout=30)
        wait_for(lambda: len(fake_llm.requests) == 1, 10, "the request to reach the LLM")
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: not _ready(url), 5, "the replica to stop taking requests")
        assert slow.result().status_code == 200  # in flight when told to stop: finished
    # uvicorn re-raises SIGTERM once it has shut down: ended by the signal, after the answer
    assert process.wait(30) in (0, -signal.SIGTERM)
