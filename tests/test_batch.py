"""Batch extraction: reading articles, the resumable JSONL run, and POST /extract/batch."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from service.bulk.articles import BatchArticle, content_key, read_articles
from service.bulk.runner import finished_ids, own_rows, run_batch
from service.errors import OutputNotOurs
from service.extraction.pipeline import Pipeline
from service.llm.client import OpenAIStructuredLLM
from service.llm.protocol import LLMResult, StructuredLLM, T
from tests.conftest import FACTS_004, SEED_004, child_env, make_settings
from tests.test_app import assert_error_shape
from tests.test_cli import NEWSFACTS, run_cli

NOT_JSON = "Expecting value: line 1 column 1 (char 0)"


def _sha16(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"id": "a", "text": "x"}'], [("a", {"text": "x"})]),
        (
            ['{"text": "x", "title": "t"}'],
            [(content_key({"text": "x", "title": "t"}), {"text": "x", "title": "t"})],
        ),
        (["", '{"id": 7, "text": "x"}'], [("7", {"text": "x"})]),
        (
            ["not json"],
            [(_sha16(b"not json"), {"_error": f"line is not JSON: {NOT_JSON}"})],
        ),
        (['["text"]'], [(_sha16(b'["text"]'), {"_error": "line is not a JSON object"})]),
    ],
    ids=["id", "content-key", "blank-line", "not-json", "not-object"],
)
def test_jsonl_lines_become_articles(
    tmp_path: Path, lines: list[str], expected: list[tuple[str, dict[str, Any]]]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [(a.id, a.body) for a in read_articles(source)] == expected


def test_an_id_less_line_keeps_its_id_wherever_it_moves(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "A"}\n{"text": "B"}\n', encoding="utf-8")
    before = {a.body["text"]: a.id for a in read_articles(source)}
    source.write_text('{"text": "NEW"}\n{"text": "B"}\n\n{"text": "A"}\n', encoding="utf-8")
    after = {a.body["text"]: (a.id, a.source) for a in read_articles(source)}
    assert {text: after[text][0] for text in before} == before
    assert after["A"][1] == f"{source}:4" and len({id_ for id_, _ in after.values()}) == 3


def test_identical_id_less_lines_are_one_article(tmp_path: Path) -> None:
    """The same body twice (key order and spacing aside) is one article, one row: the first
    line's; lines with an explicit id are never merged (repeated ids are refused)."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "x", "title": "t"}\n{"id": "k", "text": "x"}\n'
                      '{"title":"t",  "text":"x"}\n{"id": "k", "text": "x"}\n',
                      encoding="utf-8")  # fmt: skip
    articles = [(a.id, a.source) for a in read_articles(source)]
    assert articles == [(content_key({"text": "x", "title": "t"}), f"{source}:1"),
                        ("k", f"{source}:2"), ("k", f"{source}:4")]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        (b"", 0),
        (b'{"id": "a", "source": "s", "ok": true}\n\n{"id": "b", "source": "s", "ok": false}\n', 2),
        (b'{"id": "a", "source": "s", "ok": true}\n{"id": "b", "sou', 1),
        (b'{"id": "a", "source": "s", "ok": true}\n{"id": "b\xc3', 1),
        (b'{"id": "a", "source": "s", "ok": true}\n{"id": "b", "source": "s", "ok": true, "st', 1),
        (b'{"id": "a", "source": "s", "ok": true}', 1),
    ],
    ids=["empty", "rows-and-a-blank", "cut-in-head", "cut-in-a-character", "cut-after-head",
         "last-row-without-newline"],
)  # fmt: skip
def test_an_output_of_rows_is_ours_a_cut_last_row_too(
    tmp_path: Path, content: bytes, rows: int
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(content)
    assert len(list(own_rows(out))) == rows


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"text": "Ten killed."}\n', "line 1 is not a batch row"),
        (b'{"id": "a", "source": "s", "ok": true}\nmy notes\n', "line 2 is not a batch row"),
        (b"my notes", "line 1 is not a batch row"),
        (b'{"id": "a", "text": "Ten killed."}', "line 1 is not a batch row"),
        (b'{"id": "a", "ok": true}\n', "line 1 is not a batch row"),
        (b'{"id": 1, "source": "s", "ok": true}\n', "line 1 is not a batch row"),
        (b"\xff\xfe notes\n", "line 1 is not UTF-8"),
    ],
    ids=["an-input-line", "notes-after-rows", "notes-without-newline", "input-line-uncut",
         "no-source", "id-not-a-string", "not-utf8"],
)  # fmt: skip
def test_an_output_with_a_line_that_is_not_a_row_is_refused(
    tmp_path: Path, content: bytes, why: str
) -> None:
    out = tmp_path / "notes.jsonl"
    out.write_bytes(content)
    with pytest.raises(OutputNotOurs, match=why) as refused:
        list(own_rows(out))
    assert str(out) in refused.value.message and "--out" in refused.value.message


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
        '{"id": "a", "source": "s", "ok": true}\n{"id": "b", "source": "s", "ok": false}\n'
        '{"id": "c", "source": "s", "o',
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
    out.write_text('{"id": "one", "source": "one.txt", "ok": true}\n', encoding="utf-8")
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


def test_a_line_added_at_the_top_is_the_one_a_rerun_extracts(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"

    def write(*marks: str) -> None:
        lines = (json.dumps({"text": f"{SEED_004}\n\n(Copy {m}.)"}) for m in marks)
        source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    write("A", "B")
    assert "done 2, failed 0" in run_cli(fake_llm, "batch", str(source), "--out", str(out)).stdout
    write("NEW", "A", "B")
    calls = len(fake_llm.requests)
    again = run_cli(fake_llm, "batch", str(source), "--out", str(out))
    assert "done 1, failed 0, skipped 2" in again.stdout, again.stderr
    [asked] = fake_llm.requests[calls:]  # the llm strategy: one call per article
    assert "(Copy NEW.)" in json.dumps(asked)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["source"] for row in rows] == [f"{source}:1", f"{source}:2", f"{source}:1"]
    assert len({row["id"] for row in rows}) == 3


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_row_never_holds_a_number_that_is_not_json(tmp_path: Path, value: float) -> None:
    """A backstop under the schema's refusal: `Infinity` and `NaN` are not JSON, so a row
    that would hold one is written as the article's failure instead."""
    from schemas.api import BatchItemResult, Usage
    from service.bulk.runner import BatchSummary, write_row

    item = BatchItemResult(status=200, usage=Usage(), latency_ms=value)
    out = tmp_path / "out.jsonl"
    with out.open("w", encoding="utf-8") as sink:
        write_row(sink, BatchArticle("a", "a.txt", {}), item, BatchSummary(), None)
    row = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} written"))
    assert row["ok"] is False and row["error"]["code"] == "internal_error"
