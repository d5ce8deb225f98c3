"""Batch extraction: reading articles, the resumable JSONL run, and POST /extract/batch."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from service.api.batch import BatchArticle, finished_ids, read_articles, run_batch
from service.extraction.pipeline import Pipeline
from service.llm.client import OpenAIStructuredLLM
from service.llm.protocol import LLMResult, StructuredLLM, T
from tests.conftest import FACTS_004, SEED_004, child_env, make_settings
from tests.test_app import assert_error_shape
from tests.test_cli import NEWSFACTS, run_cli


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"id": "a", "text": "x"}'], [("a", {"text": "x"})]),
        (['{"text": "x", "title": "t"}'], [("1", {"text": "x", "title": "t"})]),
        (["", '{"id": 7, "text": "x"}'], [("7", {"text": "x"})]),
        (
            ["not json"],
            [("1", {"_error": "line is not JSON: Expecting value: line 1 column 1 (char 0)"})],
        ),
        (['["text"]'], [("1", {"_error": "line is not a JSON object"})]),
    ],
    ids=["id", "line-number", "blank-line", "not-json", "not-object"],
)
def test_jsonl_lines_become_articles(
    tmp_path: Path, lines: list[str], expected: list[tuple[str, dict[str, Any]]]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [(a.id, a.body) for a in read_articles(source)] == expected


def test_a_folder_gives_one_article_per_txt_file(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    assert [(a.id, a.body["text"]) for a in read_articles(tmp_path)] == [
        ("a", "first"),
        ("b", "second"),
    ]


def test_finished_ids_are_the_ok_lines_only(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(
        '{"id": "a", "ok": true}\n{"id": "b", "ok": false}\n{"id": "c", "o',
        encoding="utf-8",
    )
    assert finished_ids(out) == {"a"}


def _pipeline(fake: FakeLLM, **overrides: Any) -> Pipeline:
    settings = make_settings(llm_base_url=fake.url, llm_transport_retries=0, **overrides)  # type: ignore[attr-defined]
    return Pipeline(OpenAIStructuredLLM(settings, fake.url, None), settings)  # type: ignore[attr-defined]


def test_a_failed_article_is_a_row_and_a_rerun_retries_only_it(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004, usage=(10, 5))
    articles = [
        BatchArticle("ok1", "x", {"text": SEED_004}),
        BatchArticle("empty", "x", {"text": "   "}),
        BatchArticle("ok2", "x", {"text": SEED_004, "title": "Corridors"}),
    ]
    out = tmp_path / "out.jsonl"
    summary = asyncio.run(run_batch(_pipeline(fake_llm), articles, out, concurrency=2))
    assert (summary.done, summary.failed, summary.skipped) == (2, 1, 0)
    assert summary.errors == {"invalid_request": 1}
    assert summary.usage.prompt_tokens == 20
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["empty"]["ok"] is False and rows["empty"]["result"] is None
    assert rows["empty"]["status"] == 422
    assert rows["empty"]["error"]["code"] == "invalid_request"
    assert "text is empty" in rows["empty"]["error"]["message"]
    assert rows["ok1"]["result"]["facts"]["casualties"][0]["count"] == 2000

    calls = len(fake_llm.requests)
    again = asyncio.run(run_batch(_pipeline(fake_llm), articles, out, concurrency=2))
    assert (again.done, again.failed, again.skipped) == (0, 1, 2)
    assert len(fake_llm.requests) == calls  # the failed one failed before any LLM call


def test_llm_failures_keep_their_code_and_tokens(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = http_error(500)
    out = tmp_path / "out.jsonl"
    summary = asyncio.run(
        run_batch(_pipeline(fake_llm), [BatchArticle("a", "x", {"text": SEED_004})], out, 1)
    )
    assert summary.errors == {"llm_unavailable": 1}
    [row] = map(json.loads, out.read_text().splitlines())
    assert (row["ok"], row["status"], row["error"]["code"]) == (False, 502, "llm_unavailable")


class BreaksOn:
    """An LLM (the pipeline's protocol) with a bug: a bare RuntimeError, not an LLMError, for
    any article holding `marker`; every other article goes to the real client."""

    def __init__(self, inner: StructuredLLM, marker: str) -> None:
        self.inner, self.marker, self.model_name = inner, marker, inner.model_name

    async def extract(
        self,
        messages: list[dict[str, str]],
        response_model: type[T],
        offered: Sequence[type[BaseModel]] = (),
        budget: int | None = None,
    ) -> LLMResult[T]:
        if any(self.marker in m["content"] for m in messages):
            raise RuntimeError("a bug in our code")
        return await self.inner.extract(messages, response_model, offered, budget)

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


def test_an_unexpected_exception_is_that_articles_500_row(
    fake_llm: FakeLLM, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.default = tool_call(FACTS_004, usage=(10, 5))
    pipeline = _pipeline(fake_llm)
    pipeline.llm = BreaksOn(pipeline.llm, marker="TRIGGER")
    articles = [
        BatchArticle("ok", "x", {"text": SEED_004}),
        BatchArticle("buggy", "x", {"text": SEED_004 + " TRIGGER"}),
    ]
    out = tmp_path / "out.jsonl"
    summary = asyncio.run(run_batch(pipeline, articles, out, concurrency=2))
    assert (summary.done, summary.failed, summary.errors) == (1, 1, {"internal_error": 1})
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["ok"]["ok"] is True
    assert (rows["buggy"]["status"], rows["buggy"]["error"]["code"]) == (500, "internal_error")
    assert "bug" not in rows["buggy"]["error"]["message"]  # the trace is for the log only
    # Ours only: a fake server thread left busy by an earlier test may log its own trace.
    [record] = [r for r in caplog.records if r.name == "newsfacts" and r.exc_info]
    assert record.getMessage() == "unexpected error in a batch article"
    assert "a bug in our code" in str(record.exc_info[1])


def test_batch_command_prints_a_summary_and_resumes(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = tool_call(FACTS_004, usage=(10, 5))
    source = tmp_path / "articles"
    source.mkdir()
    for name in ("one", "two", "three"):
        (source / f"{name}.txt").write_text(SEED_004, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    first = run_cli(fake_llm, "batch", str(source), "--out", str(out), "--concurrency", "2")
    assert first.returncode == 0, first.stderr
    assert "done 3, failed 0, skipped 0" in first.stdout
    assert "tokens 30 prompt + 15 completion" in first.stdout
    second = run_cli(fake_llm, "batch", str(source), "--out", str(out))
    assert "done 0, failed 0, skipped 3" in second.stdout
    assert len(out.read_text().splitlines()) == 3


def test_a_batch_with_nothing_left_does_not_start_the_model(tmp_path: Path) -> None:
    source = tmp_path / "articles"
    source.mkdir()
    (source / "one.txt").write_text(SEED_004, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "one", "ok": true}\n', encoding="utf-8")
    # The embedded default with a model that does not exist: starting it would fail.
    env = child_env(NEWSFACTS_MODEL_PATH=str(tmp_path / "missing.gguf"))
    result = subprocess.run(
        [NEWSFACTS, "batch", str(source), "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "done 0, failed 0, skipped 1" in result.stdout


def test_batch_endpoint_answers_each_article(fake_llm: FakeLLM, start_service: Any) -> None:
    fake_llm.default = tool_call(FACTS_004, usage=(10, 5))
    fake_llm.queue(tool_call(FACTS_004, usage=(10, 5)), http_error(400))
    client = start_service(llm_transport_retries=0)
    articles = [{"text": SEED_004}, {"text": SEED_004, "title": "Corridors"}]
    r = client.post("/extract/batch", json={"articles": articles})
    assert r.status_code == 200, r.text
    body = r.json()
    by_status = {item["status"]: item for item in body["results"]}
    assert set(by_status) == {200, 502}
    assert by_status[200]["result"]["facts"]["casualties"][0]["count"] == 2000
    assert by_status[502]["error"]["code"] == "llm_unavailable"
    assert by_status[502]["error"]["request_id"] == r.headers["x-request-id"]
    assert body["failed"] == 1
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 5}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"articles": [{"text": SEED_004}] * 3}, 413, "batch_too_large"),
        ({"articles": [{"text": SEED_004}, {"text": "x" * 3001}]}, 413, "text_too_long"),
        ({"articles": [{"text": "x", "prompt": "nope@v9"}]}, 422, "unknown_prompt"),
        ({"articles": []}, 422, "invalid_request"),
        ({"articles": [{"text": SEED_004}, {"text": " "}]}, 422, "invalid_request"),
        ({"articles": [{"text": SEED_004}], "extra": 1}, 422, "invalid_request"),
    ],
    ids=["too-many", "too-long", "unknown-prompt", "empty", "blank-item", "unknown-field"],
)
def test_batch_endpoint_refuses_bad_batches_whole(
    fake_llm: FakeLLM, start_service: Any, body: dict[str, Any], status: int, code: str
) -> None:
    r = start_service(max_batch_items=2, max_text_chars=3000).post("/extract/batch", json=body)
    error = assert_error_shape(r, status, code)["error"]
    if code in ("text_too_long", "unknown_prompt"):
        assert error["message"].startswith("articles[")
    assert fake_llm.requests == []
