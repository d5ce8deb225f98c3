"""The LLM fault matrix: each fault, injected by a fake OpenAI-compatible server on
127.0.0.1, gives its documented status and code after a bounded number of attempts, bills
the tokens of every answered attempt, and leaves the service serving the next request."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, Reply, garbage, http_error, prose, tool_call
from tests.conftest import FACTS_004, SEED_004
from tests.test_app import assert_error_shape

RETRIES, REASKS = 2, 1  # so a transport fault costs 3 calls and a content fault 2
SETTINGS = {
    "llm_transport_retries": RETRIES,
    "llm_reasks": REASKS,
    "llm_timeout_s": 0.5,
    "llm_retry_backoff_s": 0.01,
    "request_timeout_s": 20.0,
}


@dataclass(frozen=True)
class Fault:
    """One row of the matrix: what the fake does, what the client must get."""

    reply: Reply
    status: int
    code: str
    calls: int
    billed_calls: int  # calls whose answer carried usage


FAULTS = {
    "hang": Fault(tool_call(FACTS_004, delay_s=5), 502, "llm_timeout", RETRIES + 1, 0),
    "trickling-body": Fault(tool_call(FACTS_004, trickle_s=0.1), 502, "llm_timeout", 3, 0),
    "http-500": Fault(http_error(500), 502, "llm_unavailable", RETRIES + 1, 0),
    "http-503": Fault(http_error(503), 502, "llm_unavailable", RETRIES + 1, 0),
    "http-429-retry-after": Fault(
        http_error(429, {"Retry-After": "1"}), 502, "llm_unavailable", RETRIES + 1, 0
    ),
    "non-json-body": Fault(garbage(), 502, "llm_invalid_output", REASKS + 1, 0),
    "no-tool-call": Fault(prose("I cannot help."), 502, "llm_invalid_output", REASKS + 1, 2),
    "schema-invalid-always": Fault(
        tool_call({"casualties": [{"count": "many"}]}), 502, "llm_invalid_output", REASKS + 1, 2
    ),
    "finish-length": Fault(
        tool_call('{"people": [', finish_reason="length"), 502, "llm_invalid_output", 1, 1
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_fault_gives_documented_status_then_service_recovers(
    fake_llm: FakeLLM, start_service: Any, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    fake_llm.default = fault.reply
    client = start_service(**SETTINGS)
    started = time.perf_counter()
    r = client.post("/extract", json={"text": SEED_004})
    elapsed = time.perf_counter() - started
    assert_error_shape(r, fault.status, fault.code)
    (failed,) = [rec for rec in caplog.records if rec.getMessage() == "request failed"]
    assert failed.attempts == fault.calls  # type: ignore[attr-defined]
    # A call cancelled at its deadline may never have had its body read by the fake.
    assert 1 <= len(fake_llm.requests) <= fault.calls
    assert failed.prompt_tokens == 100 * fault.billed_calls  # type: ignore[attr-defined]
    if fault.reply.status == 429:  # Retry-After is honoured between attempts
        assert elapsed >= RETRIES * 1.0
    fake_llm.default = tool_call(FACTS_004)
    assert client.post("/extract", json={"text": SEED_004}).status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_gives_502_llm_unavailable(start_service: Any) -> None:
    client = start_service(llm_base_url=f"http://127.0.0.1:{_closed_port()}/v1", **SETTINGS)
    body = assert_error_shape(
        client.post("/extract", json={"text": SEED_004}), 502, "llm_unavailable"
    )
    assert "could not be reached" in body["error"]["message"]


def test_429_then_success_waits_as_told(fake_llm: FakeLLM, start_service: Any) -> None:
    fake_llm.queue(http_error(429, {"Retry-After": "1"}), tool_call(FACTS_004))
    started = time.perf_counter()
    r = start_service(**SETTINGS).post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    assert time.perf_counter() - started >= 1.0
    assert r.json()["meta"]["attempts"] == 2


def test_request_deadline_gives_504(fake_llm: FakeLLM, start_service: Any) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=3)
    client = start_service(llm_timeout_s=10, request_timeout_s=0.5)
    body = assert_error_shape(
        client.post("/extract", json={"text": SEED_004}), 504, "deadline_exceeded"
    )
    assert "NEWSFACTS_REQUEST_TIMEOUT_S" in body["error"]["message"]


# What OpenAI's errors say: the organisation id (429), the key's first and last characters
# (401); a backend's 500 may name its hosts.
UPSTREAM_SECRETS = {
    429: "Rate limit reached for gpt-4o in organization org-Zq7SecretOrg42 on tokens per min",
    401: "Incorrect API key provided: sk-proj-Ab12**************************Yz89.",
    500: "worker gpu-node-7.internal.example failed: token=hf_SecretHostToken99",
}


@pytest.fixture
def json_log() -> Any:
    """The service's log as it writes it (JSON lines, each with its request id), read back."""
    import io
    import json
    import logging

    from service.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.parametrize("status", sorted(UPSTREAM_SECRETS))
def test_the_llms_own_error_message_is_logged_never_returned(
    fake_llm: FakeLLM, start_service: Any, json_log: Any, status: int
) -> None:
    said = UPSTREAM_SECRETS[status]
    fake_llm.default = http_error(status, body={"error": {"message": said, "type": "x"}})
    r = start_service(**SETTINGS).post(
        "/extract", json={"text": SEED_004}, headers={"X-Request-ID": f"leak-{status}"}
    )
    body = assert_error_shape(r, 502, "llm_unavailable")
    assert f"HTTP {status}" in body["error"]["message"]
    assert body["error"]["request_id"] == f"leak-{status}"
    for secret in ("org-Zq7SecretOrg42", "Ab12", "Yz89", "gpu-node-7", "hf_SecretHostToken99"):
        assert secret not in r.text
    logged = [e for e in json_log() if e.get("llm_status") == status]
    assert logged and all(e["level"] == "WARNING" for e in logged)
    assert [e["llm_message"] for e in logged] == [said]
    assert logged[0]["request_id"] == f"leak-{status}"
