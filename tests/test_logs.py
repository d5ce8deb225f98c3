"""Logs are JSON lines with the request id; no article text or key at INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from service.logs import JsonFormatter
from tests.conftest import FACTS_004, SEED_004

ARTICLE_WORDS = "To our great regret"  # a phrase of seed 004 that no log line may carry


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, formatted as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_log_lines_are_json_with_request_ids_and_no_article_or_key(
    fake_llm: FakeLLM, start_service: Any, log_lines: io.StringIO
) -> None:
    fake_llm.queue(tool_call(FACTS_004), http_error(500))
    client = start_service(llm_transport_retries=0)
    ok = client.post("/extract", json={"text": SEED_004})
    failed = client.post("/extract", json={"text": SEED_004})
    bad = client.post("/extract", json={"text": SEED_004, "colour": "red"})
    assert (ok.status_code, failed.status_code, bad.status_code) == (200, 502, 422)
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert lines
    for entry in lines:
        assert {"ts", "level", "logger", "msg", "request_id"} <= set(entry)
    text = log_lines.getvalue()
    assert ARTICLE_WORDS not in text and "sk-test-not-a-real-key" not in text
    (failure,) = [e for e in lines if e["msg"] == "request failed"]
    assert failure["request_id"] == failed.headers["x-request-id"]
    assert failure["request_id"] == failed.json()["error"]["request_id"]
    assert failure["code"] == "llm_unavailable"
    access = [e for e in lines if e["msg"] == "request"]
    assert [(e["path"], e["status"]) for e in access] == [("/extract", s) for s in (200, 502, 422)]
    assert [e["request_id"] for e in access] == [
        r.headers["x-request-id"] for r in (ok, failed, bad)
    ]
