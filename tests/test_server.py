"""The server as `serve` runs it, over raw sockets: a client that trickles its headers or
stalls its body is cut off with the error shape, and connections beyond the limit are
refused, while /healthz keeps answering."""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def _read_all(sock: socket.socket, limit_s: float) -> bytes:
    """Everything the server sends until it closes the connection (or `limit_s` passes)."""
    sock.settimeout(limit_s)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def _error(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["error"]


@pytest.mark.parametrize(
    ("start", "trickle"),
    [
        (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),  # the first request's headers
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
    ],
    ids=["first request", "after a keep-alive request"],
)
def test_headers_trickled_byte_by_byte_are_cut_off_with_408(
    start_service: Any, start: bytes, trickle: bytes
) -> None:
    client = start_service(strategy="nlp", header_timeout_s=1.0, idle_timeout_s=5.0)
    sock = _connect(str(client.base_url))
    sock.sendall(start)
    first = b""
    while start and not first.endswith(b'{"status":"ok"}'):  # the keep-alive answer, whole
        first += sock.recv(65536)
    raw = b""
    for byte in trickle:  # one byte every 0.3 s: 11 s in all, well past the timeout
        if select.select([sock], [], [], 0.3)[0]:  # the server has answered (and closed)
            raw = _read_all(sock, 5)
            break
        sock.sendall(bytes([byte]))
        assert client.get("/healthz").status_code == 200
    sock.close()
    status, error = _error(raw) if raw else (None, {})
    assert status == 408, raw[:200]
    assert error["code"] == "request_timeout"
    assert "NEWSFACTS_HEADER_TIMEOUT_S" in error["message"] and len(error["request_id"]) == 32


def test_a_stalled_body_closes_the_connection(start_service: Any) -> None:
    client = start_service(strategy="nlp", header_timeout_s=5.0, idle_timeout_s=1.0)
    sock = _connect(str(client.base_url))
    sock.sendall(
        b"POST /extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"text": '
    )
    started = time.monotonic()
    raw = _read_all(sock, 10)  # returns once the server closes
    waited = time.monotonic() - started
    sock.close()
    assert waited < 9, "the server kept a stalled body's connection open"
    assert not raw.startswith(b"HTTP/1.1 200")
    assert client.get("/readyz").json()["running"] == 0


def test_connections_beyond_the_limit_get_503_in_the_error_shape(start_service: Any) -> None:
    client = start_service(strategy="nlp", max_connections=3, header_timeout_s=30.0)
    base = str(client.base_url)
    client.get("/healthz")  # the test's own client holds one keep-alive connection
    held = [_connect(base) for _ in range(2)]
    time.sleep(0.2)
    extra = _connect(base)
    raw = _read_all(extra, 5)
    status, error = _error(raw)
    assert status == 503 and error["code"] == "saturated"
    assert "NEWSFACTS_MAX_CONNECTIONS" in error["message"]
    for sock in [*held, extra]:
        sock.close()
    time.sleep(0.2)
    assert client.get("/healthz").status_code == 200
