"""The gold-set runner: record cassettes from a live backend, replay them, detect staleness."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from evals.cassettes import StaleCassetteError, cassette_path
from evals.gold import load_gold
from evals.runner import Mode, run_gold
from tests.conftest import FACTS_004, make_settings

CASES = [c for c in load_gold() if c.article_id.startswith("004")]
PROMPT = "news_facts@v1"
SECRET_KEY = "sk-live-abcdefghijklmnop1234567890"


def record(fake: FakeLLM, directory: Path) -> None:
    settings = make_settings(llm_base_url=fake.url, llm_api_key=SECRET_KEY)  # type: ignore[attr-defined]
    run = asyncio.run(run_gold(CASES, settings, PROMPT, Mode.RECORD, directory))
    assert run.outcomes[0].error is None


def _asked(interaction: dict[str, Any], question: str) -> dict[str, Any]:
    """A copy of a recorded interaction whose request asked `question` instead."""
    changed: dict[str, Any] = json.loads(json.dumps(interaction))
    changed["request"]["body"]["json"]["messages"][-1]["content"] = question
    return changed


def test_record_then_replay_gives_the_same_scores(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = tool_call(FACTS_004, usage=(900, 100))
    record(fake_llm, tmp_path)
    replayed = asyncio.run(run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path))
    (outcome,) = replayed.outcomes
    assert outcome.error is None
    assert outcome.overall().tp == 4
    assert outcome.meta is not None and outcome.meta.usage.prompt_tokens == 900
    assert len(fake_llm.requests) == 1  # the replay never reached the server


@pytest.mark.parametrize(
    ("headers", "recorded"),
    [
        ({"openai-processing-ms": "4200"}, 4200.0),  # llama.cpp and OpenAI send it
        ({}, None),  # a server that does not: the replay's own time is all there is
    ],
)
def test_a_replay_reports_the_llm_time_recorded(
    fake_llm: FakeLLM, tmp_path: Path, headers: dict[str, str], recorded: float | None
) -> None:
    fake_llm.default = tool_call(FACTS_004, headers=headers)
    record(fake_llm, tmp_path)
    replayed = asyncio.run(run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path))
    meta = replayed.outcomes[0].meta
    assert meta is not None
    if recorded is None:
        assert meta.latency_ms < 4200.0
    else:
        assert meta.latency_ms == recorded


def test_a_re_recording_keeps_no_interaction_nobody_asks_for(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    record(fake_llm, tmp_path)
    path = cassette_path(PROMPT, CASES[0].article_id, tmp_path)
    cassette = json.loads(path.read_text())
    cassette["interactions"].append(_asked(cassette["interactions"][0], "a request no longer made"))
    path.write_text(json.dumps(cassette))
    record(fake_llm, tmp_path)
    assert len(json.loads(path.read_text())["interactions"]) == 1


def test_cassettes_hold_readable_json_and_no_secrets(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = tool_call(FACTS_004)
    record(fake_llm, tmp_path)
    path = cassette_path(PROMPT, CASES[0].article_id, tmp_path)
    text = path.read_text()
    assert SECRET_KEY not in text and "sk-live" not in text
    assert "authorization" not in text.lower()
    interaction = json.loads(text)["interactions"][0]
    assert interaction["request"]["body"]["json"]["temperature"] == 0.0
    assert "choices" in interaction["response"]["body"]["string"]["json"]


@pytest.mark.parametrize(
    "change",
    [{"llm_temperature": 0.7}, {"llm_model": "other-model"}, {"llm_max_tokens": 100}],
    ids=["temperature", "model", "max-tokens"],
)
def test_changed_request_is_a_stale_cassette(
    fake_llm: FakeLLM, tmp_path: Path, change: dict[str, object]
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    record(fake_llm, tmp_path)
    with pytest.raises(StaleCassetteError, match="newsfacts eval --record --prompt news_facts@v1"):
        asyncio.run(run_gold(CASES, make_settings(**change), PROMPT, Mode.REPLAY, tmp_path))


def test_missing_cassette_names_the_record_command(tmp_path: Path) -> None:
    with pytest.raises(StaleCassetteError, match="--record"):
        asyncio.run(run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path))


def test_a_failing_case_is_a_failure_row(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = http_error(500)
    settings = make_settings(llm_base_url=fake_llm.url, llm_transport_retries=0)  # type: ignore[attr-defined]
    run = asyncio.run(run_gold(CASES, settings, PROMPT, Mode.LIVE, tmp_path))
    (outcome,) = run.outcomes
    assert outcome.predicted is None and outcome.error is not None
    assert outcome.error.startswith("llm_unavailable")


def test_a_failed_case_still_counts_its_tokens(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.default = tool_call({"casualties": [{"count": "many"}]}, usage=(700, 30))
    settings = make_settings(llm_base_url=fake_llm.url, llm_reasks=1)  # type: ignore[attr-defined]
    run = asyncio.run(run_gold(CASES, settings, PROMPT, Mode.LIVE, tmp_path))
    (outcome,) = run.outcomes
    assert outcome.error is not None and outcome.error.startswith("llm_invalid_output")
    assert outcome.usage.prompt_tokens == 1400 and outcome.usage.completion_tokens == 60


def test_record_missing_records_only_cases_without_a_cassette(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    record(fake_llm, tmp_path)
    both = [*CASES, next(c for c in load_gold() if c.article_id.startswith("000"))]
    settings = make_settings(llm_base_url=fake_llm.url)  # type: ignore[attr-defined]
    run = asyncio.run(run_gold(both, settings, PROMPT, Mode.RECORD_MISSING, tmp_path))
    assert [o.case.article_id for o in run.outcomes] == [c.article_id for c in both]
    assert all(o.error is None for o in run.outcomes)
    assert len(fake_llm.requests) == 2  # the first recording, then only 000
    assert cassette_path(PROMPT, both[1].article_id, tmp_path).is_file()
    again = asyncio.run(run_gold(both, settings, PROMPT, Mode.RECORD_MISSING, tmp_path))
    assert len(again.outcomes) == 2 and len(fake_llm.requests) == 2  # nothing left to record


def test_reask_recording_replays_the_plain_first_call_and_records_only_the_reask(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    invented = {"evidence": "Kyiv was encircled by 40,000 troops", "value": 4e4, "what": "troops"}
    fake_llm.default = tool_call({**FACTS_004, "figures": [invented]})
    record(fake_llm, tmp_path)
    assert len(fake_llm.requests) == 1
    fake_llm.default = tool_call(FACTS_004)
    settings = make_settings(llm_base_url=fake_llm.url)  # type: ignore[attr-defined]
    run = asyncio.run(
        run_gold(CASES, settings, PROMPT, Mode.RECORD_MISSING, tmp_path, ungrounded="reask")
    )
    assert len(fake_llm.requests) == 2  # only the re-ask reached the model
    assert run.outcomes[0].predicted is not None and run.outcomes[0].predicted.figures == []
    reask = cassette_path(f"{PROMPT}+reask", CASES[0].article_id, tmp_path)
    assert len(json.loads(reask.read_text())["interactions"]) == 2
    replayed = asyncio.run(
        run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path, ungrounded="reask")
    )
    assert replayed.outcomes[0].error is None and replayed.outcomes[0].meta.attempts == 2  # type: ignore[union-attr]


def test_record_missing_adds_a_request_the_cassette_lacks_and_keeps_its_answers(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    record(fake_llm, tmp_path)
    path = cassette_path(PROMPT, CASES[0].article_id, tmp_path)
    cassette = json.loads(path.read_text())
    # the rules now ask something else: the recorded request is no longer made
    cassette["interactions"][0] = _asked(cassette["interactions"][0], "old")
    path.write_text(json.dumps(cassette))
    old = json.loads(path.read_text())["interactions"][0]
    with pytest.raises(StaleCassetteError):
        asyncio.run(run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path))
    settings = make_settings(llm_base_url=fake_llm.url)  # type: ignore[attr-defined]
    run = asyncio.run(run_gold(CASES, settings, PROMPT, Mode.RECORD_MISSING, tmp_path))
    assert run.outcomes[0].error is None
    assert len(fake_llm.requests) == 2  # the first recording, then only the new request
    interactions = json.loads(path.read_text())["interactions"]
    assert len(interactions) == 2 and interactions[0] == old  # recorded answers untouched
    replayed = asyncio.run(run_gold(CASES, make_settings(), PROMPT, Mode.REPLAY, tmp_path))
    assert replayed.outcomes[0].error is None
