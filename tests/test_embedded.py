"""End to end: `newsfacts serve` as a real uvicorn process on the bundled local model.

Slow (a few minutes on 2 CPU cores): it assembles the model if needed, starts llama.cpp's
server, extracts seed 004, then kills the model server mid-request (502 llm_unavailable)
and watches the service restart it and serve the next request.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from service.ports import free_port
from tests.conftest import SEED_004, SEEDS, child_env, wait_for

NEWSFACTS = str(Path(sys.executable).parent / "newsfacts")
pytestmark = [pytest.mark.embedded, pytest.mark.timeout(1500)]


def children(pid: int) -> set[int]:
    """Direct child process ids of pid (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


SERVICE_LOGS: list[Path] = []  # the module service's log, once it is ready


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = child_env()
    log = (tmp_path_factory.mktemp("embedded") / "service.log").open("wb")
    proc = subprocess.Popen(
        [NEWSFACTS, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, f"service exited; see {log.name}"
        try:
            return httpx2.get(f"{url}/readyz", timeout=5).status_code == 200
        except httpx2.TransportError:
            return False

    wait_for(ready, 600, "the service and its embedded model to be ready")
    SERVICE_LOGS.append(Path(log.name))
    yield proc, url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    log.close()


def test_extracts_real_facts_from_seed_004(service: tuple[subprocess.Popen[bytes], str]) -> None:
    _, url = service
    r = httpx2.post(f"{url}/extract", json={"text": SEED_004}, timeout=1200)
    assert r.status_code == 200, r.text
    body = r.json()
    facts = body["facts"]
    total = sum(len(v) for v in facts.values())
    grounded = [g for g in body["grounding"] if g["match"] != "none"]
    print(f"\nseed 004: {total} facts, {len(grounded)} grounded, meta={body['meta']}")
    assert total >= 3
    assert len(grounded) >= 2
    for g in grounded:
        assert 0 <= g["start"] < g["end"] <= len(SEED_004)
    assert body["meta"]["usage"]["prompt_tokens"] > 0
    assert body["meta"]["usage"]["completion_tokens"] > 0
    assert body["meta"]["model"] == "qwen2.5-coder-1.5b-instruct"


def test_the_service_is_ready_only_after_warming_the_model_up(
    service: tuple[subprocess.Popen[bytes], str],
) -> None:
    entries = [json.loads(line) for line in SERVICE_LOGS[-1].read_text().splitlines()
               if line.startswith("{")]  # fmt: skip
    [ready] = [e for e in entries if e.get("msg") == "ready"]
    # the hybrid's shared prefix was evaluated by one call before /readyz said ready
    assert isinstance(ready["warm_up_s"], float) and ready["warm_up_s"] > 0, ready
    # the model server said which CPU variant it loaded, and that it drafts forced text
    [server] = [e for e in entries if e.get("msg") == "embedded model server ready"]
    assert server["cpu_variant"] not in (None, "linked in", "sapphirerapids"), server
    assert server["jump_forward"] is True, server


# Short, so the request after the restart costs little more than the system prompt.
SHORT_ARTICLE = "Missiles struck a school in Kharkiv on Monday; rescuers counted 30 ambulances."
# Long, so that it is still being decoded seconds later: seed 002's 25 labelling calls take
# about 15 s (seed 004's six can be done in under 5 on an AVX-512 CPU with jump-forward).
LONG_ARTICLE = (SEEDS / "002_a80b65d11d26ffdc.txt").read_text(encoding="utf-8")


def test_killing_the_model_server_mid_request_gives_502_then_it_serves_again(
    service: tuple[subprocess.Popen[bytes], str],
) -> None:
    proc, url = service
    (old,) = children(proc.pid)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(httpx2.post, f"{url}/extract", json={"text": LONG_ARTICLE},
                              timeout=900)  # fmt: skip
        time.sleep(5)  # the model server is now working on it
        assert not pending.done()
        os.kill(old, signal.SIGKILL)
        r = pending.result()
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "llm_unavailable"

    def restarted() -> bool:
        kids = children(proc.pid)
        if not kids or old in kids:
            return False
        return httpx2.get(f"{url}/readyz", timeout=5).status_code == 200

    wait_for(restarted, 180, "the model server to be restarted")
    again = httpx2.post(f"{url}/extract", json={"text": SHORT_ARTICLE}, timeout=900)
    assert again.status_code == 200, again.text
    assert again.json()["meta"]["usage"]["completion_tokens"] > 0


def test_model_server_stops_with_the_service(tmp_path: Path) -> None:
    port = free_port()
    env = child_env()
    proc = subprocess.Popen(
        [NEWSFACTS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(children(proc.pid)) == 1, 300, "the model server to start")
        (child,) = children(proc.pid)
        wait_for(lambda: _get_ok(f"http://127.0.0.1:{port}/readyz"), 300, "the service to be ready")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert not Path(f"/proc/{child}").exists() or _is_zombie(child)


def _get_ok(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=5).status_code == 200
    except httpx2.TransportError:
        return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_model_server_dies_at_once_when_the_service_is_killed_mid_request() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [NEWSFACTS, "serve", "--port", str(port)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get_ok(f"{url}/readyz"), 300, "the service to be ready")
        (child,) = children(proc.pid)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_post_quietly, f"{url}/extract", SEED_004)
            time.sleep(5)  # the model server is now generating
            proc.kill()  # no shutdown: the service just dies
            proc.wait(timeout=30)
            # An orphan told to SIGTERM would finish its generation first (minutes).
            wait_for(lambda: _is_zombie(child), 10, "the orphaned model server to die")
            pending.result()
    finally:
        if proc.poll() is None:
            proc.kill()


def _post_quietly(url: str, text: str) -> None:
    with contextlib.suppress(httpx2.TransportError):
        httpx2.post(url, json={"text": text}, timeout=60)
