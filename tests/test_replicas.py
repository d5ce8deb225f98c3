"""Replicas behind a real load balancer: Debian's nginx running service/deploy/nginx.conf
(its ports moved to free ones) in front of `newsfacts serve` processes sharing one remote
backend (the fake LLM), or in front of fake replicas that count what reaches them.

One replica is killed mid-batch: the requests it held fail with 502 and are sent to no other
replica (model time is never spent twice), and every later one is answered. A request with
no bearer token, or a body over the limit, never reaches a replica; a wrong token is refused
by the replica before the body has arrived. A replica told to stop finishes what it is
doing first."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import socketserver
import subprocess
import threading
import time
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
from tests.test_app import assert_error_shape
from tests.test_cli import NEWSFACTS

ARTICLES = [f"{SEED_004}\n\n(Copy {i} of the dispatch.)" for i in range(40)]
TOKEN = "replica-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


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
                          NEWSFACTS_LLM_RETRY_BACKOFF_S="0", NEWSFACTS_API_TOKEN=TOKEN, **env),
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


def _copy(body: dict[str, Any]) -> str:
    """Which copy of the dispatch an LLM call was asked about."""
    found = [m for m in body["messages"] if "(Copy " in m["content"]]
    return found[0]["content"].rsplit("(Copy ", 1)[1].split(" ", 1)[0]


def test_a_replica_killed_mid_batch_spends_no_article_twice(
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
            r = client.post("/extract", json={"text": ARTICLES[i]},
                            headers={**AUTH, "X-Request-ID": f"a{i}"})  # fmt: skip
        with lock:
            answered.append(i)
            if len(answered) == 10:
                first.send_signal(signal.SIGKILL)  # mid-batch, with requests in flight on it
        return r

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(extract, range(len(ARTICLES))))
    assert first.wait(10) == -signal.SIGKILL
    # one answer per article, each its own: the request id it was sent
    assert [r.headers["x-request-id"] for r in responses] == [f"a{i}" for i in range(40)]
    lost = [r for r in responses if r.status_code != 200]
    for r in lost:  # held by the dead replica: nginx says so in the service's error shape
        assert_error_shape(r, 502, "replica_unavailable")
    assert 1 <= len(lost) <= 8  # at most the requests in flight when it died
    done = [r for r in responses if r.status_code == 200]
    assert len({r.json()["article_id"] for r in done}) == len(done)
    assert all(r.json()["facts"]["people"][0]["name"] == "Mykhailo Podolyak" for r in done)
    # both replicas served, and the survivor took every request after the death
    before, after = _served(first_log), _served(second_log)
    assert before and after and len(before) + len(after) == len(done)
    # no article was sent to the model twice: the dead replica's POSTs went nowhere else
    asked = [_copy(body) for body in fake_llm.requests]
    assert len(asked) == len(set(asked)), "an article was extracted twice"


class FakeReplica(socketserver.ThreadingTCPServer):
    """A replica that counts the POSTs reaching it and answers them (`ok`), or takes them
    and dies without a word after a while (`dies`); a GET (nginx's readiness wait) is 200."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.posts: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _FakeReplicaHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FakeReplicaHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, FakeReplica)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        if head.startswith(b"POST"):
            server.posts.append(head.split(b"\r\n", 1)[0])
            if server.mode == "dies":
                time.sleep(0.3)  # hangs a moment with the request, then dies
                return
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        )


@pytest.fixture
def fake_replicas() -> Iterator[Callable[[str], FakeReplica]]:
    """Start fake replicas; each is shut down after the test."""
    started: list[FakeReplica] = []

    def start(mode: str) -> FakeReplica:
        started.append(FakeReplica(mode))
        return started[-1]

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _closed_url() -> str:
    """A loopback address where nothing listens: a replica that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_post_that_reached_a_dying_replica_is_not_sent_to_another(
    fake_replicas: Any, balancer: Any
) -> None:
    """Both replicas take a POST and die: nginx gives up after the first (it once sent
    it on to the second, as it would after its read timeout: the model spend doubled)."""
    first, second = fake_replicas("dies"), fake_replicas("dies")
    url = balancer([first.url, second.url])
    r = httpx2.post(f"{url}/extract", json={"text": "x"}, headers={**AUTH, "X-Request-ID": "d1"},
                    timeout=30)  # fmt: skip
    assert_error_shape(r, 502, "replica_unavailable")
    assert r.json()["error"]["request_id"] == "d1"
    assert len(first.posts) + len(second.posts) == 1


def test_a_post_no_replica_took_goes_to_the_next(fake_replicas: Any, balancer: Any) -> None:
    """A replica that is down (connection refused) has seen nothing: the next one answers."""
    alive = fake_replicas("ok")
    url = balancer([_closed_url(), alive.url])
    for _ in range(4):
        r = httpx2.post(f"{url}/extract", json={"text": "x"}, headers=AUTH, timeout=30)
        assert r.status_code == 200, r.text
    assert len(alive.posts) == 4


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthorized"),
        ({"Authorization": "Bearer "}, 401, "unauthorized"),
        ({**AUTH, "Content-Length": str(17 * 1024 * 1024)}, 413, "body_too_large"),
    ],
    ids=["no-authorization", "basic", "empty-bearer", "over-the-body-limit"],
)
def test_the_balancer_refuses_before_any_replica_sees_the_request(
    fake_replicas: Any, balancer: Any, headers: dict[str, str], status: int, code: str
) -> None:
    first, second = fake_replicas("ok"), fake_replicas("ok")
    url = balancer([first.url, second.url])
    port = int(url.rsplit(":", 1)[1])
    lines = ["POST /extract HTTP/1.1", f"Host: 127.0.0.1:{port}", "X-Request-ID: r-refused",
             "Content-Type: application/json", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    if "Content-Length" not in headers:
        lines.append(f"Content-Length: {16 * 1024 * 1024}")  # announced, never sent
    reply = _raw_request(port, "\r\n".join(lines).encode() + b"\r\n\r\n", b"{")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), reply[:300]
    error = json.loads(body)["error"]
    assert (error["code"], error["request_id"]) == (code, "r-refused")
    assert b"x-request-id: r-refused" in head.lower()
    assert first.posts == second.posts == []
    assert httpx2.get(f"{url}/healthz", timeout=10).status_code == 200  # no token needed


def _complete(reply: bytes) -> bool:
    """Whether `reply` holds a whole response: its head and Content-Length bytes of body."""
    head, found, body = reply.partition(b"\r\n\r\n")
    sizes = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
             if line.startswith(b"content-length:")]  # fmt: skip
    return bool(found) and bool(sizes) and len(body) >= sizes[0]


def _raw_request(port: int, head: bytes, body_start: bytes, wait_s: float = 10.0) -> bytes:
    """Send a request's head and the first bytes of its body (the rest is never sent); the
    response, read within wait_s."""
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as conn:
        conn.sendall(head + body_start)
        # nginx resets the connection once it stops waiting for the body it discards
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while not _complete(reply) and (chunk := conn.recv(65536)):
                reply += chunk
    assert _complete(reply), f"no answer within {wait_s:g} s: the body was being waited for"
    return reply


def test_a_wrong_token_is_refused_before_the_body_arrives(replica: Any, balancer: Any) -> None:
    """nginx streams the body to the replica (it once spooled all 16 MiB first), so the
    replica's own check answers 401 while the client is still at its first bytes."""
    _, replica_url, _ = replica()
    url = balancer([replica_url])
    port = int(url.rsplit(":", 1)[1])
    head = (f"POST /extract HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Request-ID: r-wrong\r\n"
            "Authorization: Bearer not-the-token\r\nContent-Type: application/json\r\n"
            f"Content-Length: {16 * 1024 * 1024}\r\nConnection: close\r\n\r\n")  # fmt: skip
    reply = _raw_request(port, head.encode(), b'{"text": "' + b"x" * 1024)
    status_line, _, rest = reply.partition(b"\r\n")
    assert b" 401 " in status_line, reply[:300]
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert (error["code"], error["request_id"]) == ("unauthorized", "r-wrong")


def test_a_stopped_replica_finishes_its_requests_and_takes_no_new_ones(
    fake_llm: FakeLLM, replica: Any
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=2.0)
    process, url, _ = replica()
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(httpx2.post, f"{url}/extract", json={"text": SEED_004}, headers=AUTH,
                           timeout=30)  # fmt: skip
        wait_for(lambda: len(fake_llm.requests) == 1, 10, "the request to reach the LLM")
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: not _ready(url), 5, "the replica to stop taking requests")
        assert slow.result().status_code == 200  # in flight when told to stop: finished
    # uvicorn re-raises SIGTERM once it has shut down: ended by the signal, after the answer
    assert process.wait(30) in (0, -signal.SIGTERM)
