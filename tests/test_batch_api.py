"""`newsfacts batch --via batch-api` end to end against the fake's `/v1/files` and
`/v1/batches` on 127.0.0.1: the same rows as a live run of the same answers, resumed after
a kill without a second batch, expired and failed items as failed rows."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from schemas.facts import NewsFacts
from service.bulk.batch_api import side_files as side_files_of
from service.bulk.desk import request_key, stand_in
from service.bulk.placeholder import minimal_instance
from service.extraction.tasks import TOOLS
from tests.conftest import FACTS_004, SEED_004, child_env, wait_for
from tests.test_cli import NEWSFACTS
from tests.test_walkthrough import ANSWERS


def _articles(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:03d}.txt").write_text(f"{SEED_004}\n\n(Copy {i}.)", encoding="utf-8")
    return folder


def _batch(fake: FakeLLM, *args: str, strategy: str = "llm", **env: str) -> Any:
    environment = child_env(NEWSFACTS_LLM_BASE_URL=fake.url, NEWSFACTS_STRATEGY=strategy,  # type: ignore[attr-defined]
                            NEWSFACTS_BATCH_POLL_S="0.1", NEWSFACTS_LLM_RETRY_BACKOFF_S="0",
                            **env)  # fmt: skip
    return subprocess.run([NEWSFACTS, "batch", *args], capture_output=True, text=True,
                          env=environment, timeout=300)  # fmt: skip


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    """Output rows by id, without what differs between two runs of the same answers: the
    time each took and the ids of the HTTP requests."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("latency_ms",)}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["id"]: strip(r) for r in rows}


@pytest.mark.parametrize("model", [*TOOLS, NewsFacts], ids=lambda m: m.__name__)
def test_the_stand_in_answer_is_valid_for_every_tool(model: type[BaseModel]) -> None:
    model.model_validate(minimal_instance(model.model_json_schema()))


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {"a": ""}),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, None),
        ({"type": "integer", "exclusiveMinimum": 0}, 1),
        ({"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 2}, ["x", "x"]),
        ({"$ref": "#/$defs/K", "$defs": {"K": {"const": 3}}}, 3),
    ],
    ids=["required-only", "null-first", "exclusive-minimum", "min-items", "ref"],
)
def test_the_smallest_instance_of_a_schema(schema: dict[str, Any], value: Any) -> None:
    assert minimal_instance(schema) == value


def test_a_request_key_ignores_key_order_and_the_stand_in_calls_the_forced_tool() -> None:
    body = {"model": "m", "tools": [{"type": "function", "function": {"name": "NameAnswer",
            "parameters": TOOLS[2].model_json_schema()}}],
            "tool_choice": {"type": "function", "function": {"name": "NameAnswer"}}}  # fmt: skip
    assert request_key(body) == request_key(dict(reversed(body.items())))
    [call] = stand_in(body)["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "NameAnswer"
    assert json.loads(call["function"]["arguments"]) == {"kind": "person"}


def test_200_articles_through_the_batch_api_give_the_rows_of_a_live_run(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    folder = _articles(tmp_path / "in", 200)
    live = _batch(
        fake_llm, str(folder), "--out", str(tmp_path / "live.jsonl"), "--concurrency", "8"
    )
    assert live.returncode == 0, live.stderr
    live_calls = len(fake_llm.requests)
    bulk = _batch(
        fake_llm, str(folder), "--out", str(tmp_path / "bulk.jsonl"), "--via", "batch-api"
    )
    assert bulk.returncode == 0, bulk.stderr
    assert "done 200, failed 0" in bulk.stdout
    assert len(fake_llm.batches.created) == 1  # every call in one batch
    assert len(fake_llm.requests) - live_calls == 200  # one line per call, none sent live
    assert _rows(tmp_path / "bulk.jsonl") == _rows(tmp_path / "live.jsonl")


def test_hybrid_articles_send_every_labelling_call_in_one_batch(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.by_tool = ANSWERS
    folder = _articles(tmp_path / "in", 3)
    live = _batch(fake_llm, str(folder), "--out", str(tmp_path / "live.jsonl"), strategy="hybrid")
    assert live.returncode == 0, live.stderr
    calls = len(fake_llm.requests)
    bulk = _batch(fake_llm, str(folder), "--out", str(tmp_path / "bulk.jsonl"),
                  "--via", "batch-api", strategy="hybrid")  # fmt: skip
    assert bulk.returncode == 0, bulk.stderr
    # one batch, one line per distinct call: copies of one article ask some calls alike
    distinct = {request_key(body) for body in fake_llm.requests[:calls]}
    assert len(fake_llm.batches.created) == 1
    assert len(fake_llm.requests) - calls == len(distinct) < calls
    assert _rows(tmp_path / "bulk.jsonl") == _rows(tmp_path / "live.jsonl")


@pytest.mark.parametrize("side_files", ["kept", "lost"])
def test_a_killed_run_resumes_its_batch_instead_of_submitting_another(
    fake_llm: FakeLLM, tmp_path: Path, side_files: str
) -> None:
    """Started again, a killed run polls the batch it had submitted: found in its side files,
    or, when those are lost, named with --batch-id."""
    fake_llm.default = tool_call(FACTS_004)
    fake_llm.batches.delay_s = 3.0
    folder = _articles(tmp_path / "in", 20)
    out = tmp_path / "bulk.jsonl"
    state, _ = side_files_of(out)
    environment = child_env(NEWSFACTS_LLM_BASE_URL=fake_llm.url, NEWSFACTS_STRATEGY="llm",  # type: ignore[attr-defined]
                            NEWSFACTS_BATCH_POLL_S="0.1")  # fmt: skip
    first = subprocess.Popen([NEWSFACTS, "batch", str(folder), "--out", str(out), "--via",
                              "batch-api"], env=environment, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    wait_for(lambda: state.is_file() and any(b["id"] for b in json.loads(state.read_text())[
        "batches"]), 60, "the batch to be submitted")  # fmt: skip
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert fake_llm.batches.created == ["batch_1"]
    resume: list[str] = []
    if side_files == "lost":
        for path in side_files_of(out):
            path.unlink(missing_ok=True)
        resume = ["--batch-id", "batch_1"]
    again = _batch(fake_llm, str(folder), "--out", str(out), "--via", "batch-api", *resume)
    assert again.returncode == 0, again.stderr
    assert fake_llm.batches.created == ["batch_1"]  # polled, not submitted again
    rows = _rows(out)
    assert len(rows) == 20 and all(r["ok"] for r in rows.values())
    again = _batch(fake_llm, str(folder), "--out", str(out), "--via", "batch-api")
    assert "skipped 20" in again.stdout and fake_llm.batches.created == ["batch_1"]


def test_expired_and_failed_items_are_sent_again_in_the_next_batch(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    fake_llm.queue(http_error(500))  # the batch's first line fails
    fake_llm.batches.expire_after = 4  # the window closes after four lines
    folder = _articles(tmp_path / "in", 6)
    r = _batch(fake_llm, str(folder), "--out", str(tmp_path / "bulk.jsonl"), "--via", "batch-api")
    assert r.returncode == 0, r.stderr
    assert "done 6, failed 0" in r.stdout
    assert fake_llm.batches.created == ["batch_1", "batch_2"]
    [first, second] = (fake_llm.batches.batches[b] for b in fake_llm.batches.created)
    assert first["request_counts"]["total"] == 6 and second["request_counts"]["total"] == 3
    answers = side_files_of(tmp_path / "bulk.jsonl")[1].read_text().splitlines()
    assert len(answers) == 6  # only the answers that came: none of the failures is kept


def test_calls_that_never_get_an_answer_are_failed_rows_after_the_last_round(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    fake_llm.batches.expire_after = 0  # every batch expires before answering anything
    folder = _articles(tmp_path / "in", 2)
    r = _batch(fake_llm, str(folder), "--out", str(tmp_path / "bulk.jsonl"), "--via", "batch-api",
               NEWSFACTS_BATCH_MAX_ROUNDS="2")  # fmt: skip
    assert r.returncode == 1
    assert "done 0, failed 2" in r.stdout
    assert fake_llm.batches.created == ["batch_1", "batch_2"]
    rows = _rows(tmp_path / "bulk.jsonl").values()
    assert all("unanswered after 2 batches" in row["error"]["message"] for row in rows)


def test_the_embedded_model_has_no_batch_api(tmp_path: Path) -> None:
    folder = _articles(tmp_path / "in", 1)
    r = subprocess.run([NEWSFACTS, "batch", str(folder), "--out", str(tmp_path / "o.jsonl"),
                        "--via", "batch-api"], capture_output=True, text=True, env=child_env(),
                       timeout=60)  # fmt: skip
    assert r.returncode == 1 and "NEWSFACTS_LLM_BASE_URL" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_reask_is_one_more_smaller_batch(fake_llm: FakeLLM, tmp_path: Path) -> None:
    """The answer a re-ask needs depends on the first answer: it goes up in a second batch,
    and the row is what a live re-ask gives (two attempts, both answers' tokens)."""
    from tests.test_pipeline import _with_bad_facts

    fake_llm.queue(tool_call(_with_bad_facts(), usage=(1000, 400)),
                   tool_call(FACTS_004, usage=(1500, 300)))  # fmt: skip
    folder = _articles(tmp_path / "in", 1)
    r = _batch(fake_llm, str(folder), "--out", str(tmp_path / "bulk.jsonl"), "--via=batch-api",
               NEWSFACTS_UNGROUNDED="reask")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert fake_llm.batches.created == ["batch_1", "batch_2"]
    [row] = _rows(tmp_path / "bulk.jsonl").values()
    meta = row["result"]["meta"]
    assert meta["attempts"] == 2
    assert meta["usage"] == {"prompt_tokens": 2500, "completion_tokens": 700}
    assert row["result"]["facts"]["figures"] == []


def test_outputs_that_share_a_stem_keep_their_own_batches(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    """`run.jsonl` and `run.json` in one folder: each run's side files (named, like its
    lock, by the output's full name) hold its own batch, not the other's."""
    fake_llm.default = tool_call(FACTS_004)
    outs = [tmp_path / "run.jsonl", tmp_path / "run.json"]
    for n, out in enumerate(outs, start=1):
        folder = tmp_path / f"in{n}"
        folder.mkdir()
        (folder / "a.txt").write_text(f"{SEED_004}\n\n(Run {n}.)", encoding="utf-8")
        r = _batch(fake_llm, str(folder), "--out", str(out), "--via", "batch-api")
        assert r.returncode == 0, r.stderr
    assert fake_llm.batches.created == ["batch_1", "batch_2"]
    for n, out in enumerate(outs, start=1):
        state, answers = side_files_of(out)
        assert [b["id"] for b in json.loads(state.read_text())["batches"]] == [f"batch_{n}"]
        assert state.name == f"{out.name}.batch.json"
        assert len(answers.read_text().splitlines()) == 1  # one call: its own article's
    assert sorted(p.name for p in tmp_path.glob("run.*")) == sorted(
        f"{out.name}{suffix}" for out in outs for suffix in ("", ".lock", ".batch.json",
                                                               ".answers.jsonl")
    )  # fmt: skip
