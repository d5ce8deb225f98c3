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
