"""The grounding policy (flag, drop, reask) through the real app and a fake LLM."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, tool_call
from tests.conftest import FACTS_004, SEED_004, SEEDS, wait_for

INVENTED = {"evidence": "Kyiv was surrounded by 40,000 troops", "value": 40000, "what": "troops"}
MISCOUNTED = {"evidence": "Twenty-two civilians were killed", "count": 20, "outcome": "killed"}


def _with_bad_facts() -> dict[str, Any]:
    facts = copy.deepcopy(FACTS_004)
    facts["figures"] = [INVENTED]
    facts["casualties"] = [*facts["casualties"], MISCOUNTED]
    return facts


@pytest.mark.parametrize("where", ["settings", "request"])
def test_flag_keeps_failed_facts_and_names_their_checks(
    fake_llm: FakeLLM, start_service: Any, where: str
) -> None:
    fake_llm.queue(tool_call(_with_bad_facts()))
    client = start_service(**({"ungrounded": "flag"} if where == "settings" else {}))
    body = {"text": SEED_004} | ({"ungrounded": "flag"} if where == "request" else {})
    r = client.post("/extract", json=body)
    assert r.status_code == 200, r.text
    checks = {g["path"]: g["checks"] for g in r.json()["grounding"]}
    assert checks["figures[0]"] == ["evidence_not_found"]
    assert checks["casualties[1]"] == ["number_not_in_evidence"]
    assert checks["casualties[0]"] == []
    assert r.json()["dropped"] == []
    assert r.json()["meta"]["ungrounded"] == "flag"


def test_drop_removes_failed_facts_and_lists_them_apart(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.queue(tool_call(_with_bad_facts()))
    r = start_service(ungrounded="drop").post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["facts"]["figures"] == []
    assert [c["count"] for c in body["facts"]["casualties"]] == [2000]
    assert {d["path"]: d["checks"] for d in body["dropped"]} == {
        "casualties[1]": ["number_not_in_evidence"],
        "figures[0]": ["evidence_not_found"],
    }
    assert body["dropped"][0]["fact"]["count"] == 20
    assert all(g["checks"] == [] for g in body["grounding"])
    assert len(body["grounding"]) == sum(len(v) for v in body["facts"].values())


def test_reask_feeds_back_the_failures_once_and_counts_its_tokens(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fixed = copy.deepcopy(FACTS_004)
    fake_llm.queue(
        tool_call(_with_bad_facts(), usage=(1000, 400)), tool_call(fixed, usage=(1500, 300))
    )
    r = start_service(ungrounded="reask").post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["attempts"] == 2
    assert body["meta"]["usage"] == {"prompt_tokens": 2500, "completion_tokens": 700}
    assert body["facts"]["figures"] == []
    assert all(g["checks"] == [] for g in body["grounding"])
    second = fake_llm.requests[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert json.loads(second[-2]["content"])["figures"][0]["value"] == 40000
    feedback = second[-1]["content"]
    assert "figures[0]" in feedback and "not in the article" in feedback
    assert "casualties[1]" in feedback and "does not state its number" in feedback
    assert "casualties[0]" not in feedback


def test_reask_makes_no_second_call_when_everything_is_grounded(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.queue(tool_call(FACTS_004))
    r = start_service(ungrounded="reask").post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["attempts"] == 1
    assert len(fake_llm.requests) == 1


def test_reask_that_still_fails_keeps_the_facts_flagged(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.queue(tool_call(_with_bad_facts()), tool_call(_with_bad_facts()))
    r = start_service(ungrounded="reask").post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    assert len(fake_llm.requests) == 2
    checks = {g["path"]: g["checks"] for g in r.json()["grounding"]}
    assert checks["figures[0]"] == ["evidence_not_found"]


def test_repeated_facts_are_returned_once(fake_llm: FakeLLM, start_service: Any) -> None:
    facts = copy.deepcopy(FACTS_004)
    facts["people"] = facts["people"] * 5
    fake_llm.queue(tool_call(facts))
    r = start_service().post("/extract", json={"text": SEED_004})
    assert r.status_code == 200, r.text
    assert r.json()["facts"]["people"] == FACTS_004["people"]


def test_unknown_policy_is_refused(fake_llm: FakeLLM, start_service: Any) -> None:
    r = start_service().post("/extract", json={"text": SEED_004, "ungrounded": "ignore"})
    assert r.status_code == 422
    assert fake_llm.requests == []


def test_beyond_inflight_and_queue_caps_requests_get_503_with_retry_after(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=1.5)
    client = start_service(max_inflight=1, max_queue=1)
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(
            pool.map(lambda _: client.post("/extract", json={"text": SEED_004}), range(5))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 2  # one running, one queued
    assert statuses.count(503) == 3
    for r in responses:
        if r.status_code == 503:
            assert r.json()["error"]["code"] == "saturated"
            assert int(r.headers["retry-after"]) >= 1
    assert len(fake_llm.requests) == 2  # refused requests never reached the LLM


SEED_002 = (SEEDS / "002_a80b65d11d26ffdc.txt").read_text(encoding="utf-8")


def test_long_article_is_extracted_in_pieces_and_merged_with_offsets_in_the_full_text(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    first = {
        "people": [{"evidence": "Ned Price, the State Department spokesman", "name": "Ned Price"}]
    }
    again = {"people": [{"evidence": "Ned Price", "name": "Ned Price"}]}  # the overlap, twice
    last = {
        "casualties": [
            {"evidence": "5,000 to six,000 Russian troops had died", "count": 5000,
             "count_max": 6000, "outcome": "killed"}
        ]
    }  # fmt: skip
    fake_llm.queue(tool_call(first, usage=(10, 1)), tool_call(again, usage=(20, 2)),
                   tool_call(last, usage=(30, 3)))  # fmt: skip
    r = start_service(chunk_chars=5000).post("/extract", json={"text": SEED_002})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(fake_llm.requests) == 3
    sent = [req["messages"][-1]["content"] for req in fake_llm.requests]
    assert all(len(s) < 5000 + 1000 for s in sent)  # piece plus the prompt's tail
    assert [p["name"] for p in body["facts"]["people"]] == ["Ned Price"]
    assert body["meta"]["usage"] == {"prompt_tokens": 60, "completion_tokens": 6}
    assert body["meta"]["attempts"] == 3
    cas = next(g for g in body["grounding"] if g["path"] == "casualties[0]")
    assert SEED_002[cas["start"] : cas["end"]] == last["casualties"][0]["evidence"]
    evidence = last["casualties"][0]["evidence"]
    piece = next(p for p in sent if evidence in p)
    assert cas["start"] == SEED_002.index(evidence) != piece.index(evidence)  # full-text offset
    assert cas["checks"] == []


@pytest.mark.parametrize("where", ["settings", "request"])
def test_recall_passes_ask_once_per_group_and_keep_each_groups_lists(
    fake_llm: FakeLLM, start_service: Any, where: str
) -> None:
    # Every pass answers with every list; only the pass's own lists may be kept.
    fake_llm.default = tool_call(FACTS_004, usage=(100, 10))
    client = start_service(**({"recall_passes": "lists"} if where == "settings" else {}))
    body = {"text": SEED_004} | ({"recall_passes": "lists"} if where == "request" else {})
    r = client.post("/extract", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["meta"]["recall_passes"] == "lists"
    assert out["meta"]["attempts"] == 3
    assert out["meta"]["usage"] == {"prompt_tokens": 300, "completion_tokens": 30}
    assert {k: len(v) for k, v in out["facts"].items() if v} == {
        "people": 1, "negotiations": 1, "casualties": 1, "quotes": 1
    }  # fmt: skip
    first, *passes = (request["messages"] for request in fake_llm.requests)
    assert all(p[:-1] == first[:-1] for p in passes)  # the same leading messages every pass
    notes = [request["messages"][-1]["content"] for request in fake_llm.requests]
    assert "only for people, organizations, locations;" in notes[0]
    assert "only for negotiations, casualties, displacement, attacks, figures;" in notes[1]
    assert "only for quotes;" in notes[2]


def test_no_recall_passes_is_one_call(fake_llm: FakeLLM, start_service: Any) -> None:
    fake_llm.default = tool_call(FACTS_004)
    r = start_service().post("/extract", json={"text": SEED_004})
    assert r.json()["meta"]["recall_passes"] == "none"
    assert len(fake_llm.requests) == 1


def test_default_limits_on_a_remote_backend_admit_64_concurrent_calls(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    """Issue 15's measure: 64 calls at once to a remote backend answering in 1 s all get 200
    with the default settings (the embedded limits, 4 + 32, refused 28 of them)."""
    fake_llm.default = tool_call(FACTS_004, delay_s=1.0)
    client = start_service(strategy="llm")
    with ThreadPoolExecutor(max_workers=64) as pool:
        responses = list(
            pool.map(lambda _: client.post("/extract", json={"text": SEED_004}), range(64))
        )
    assert [r.status_code for r in responses] == [200] * 64


def test_readyz_reports_the_load_and_turns_503_when_saturated(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=1.5)
    client = start_service(strategy="llm", max_inflight=1, max_queue=1)
    idle = client.get("/readyz").json()
    assert (idle["backend"], idle["running"], idle["waiting"], idle["saturated"]) == (
        "remote",
        0,
        0,
        False,
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        busy = [pool.submit(client.post, "/extract", json={"text": SEED_004}) for _ in range(2)]
        wait_for(lambda: len(fake_llm.requests) == 1, 10, "the first call to reach the LLM")
        # the second request queues behind it: from then on, a new one would be refused
        wait_for(lambda: client.get("/readyz").status_code == 503, 5, "readyz to say saturated")
        full = client.get("/readyz")
        assert full.status_code == 503 and full.json()["error"]["code"] == "saturated"
        assert int(full.headers["retry-after"]) >= 1
        assert [f.result().status_code for f in busy] == [200, 200]
    assert client.get("/readyz").json()["saturated"] is False


def test_when_one_piece_fails_the_others_are_cancelled() -> None:
    import asyncio

    from service.extraction.limits import all_or_none

    cancelled: list[str] = []

    async def slow(name: str) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        return name

    async def fails() -> str:
        await asyncio.sleep(0.01)
        raise RuntimeError("the LLM failed")

    async def go() -> None:
        with pytest.raises(RuntimeError):
            await all_or_none([slow("a"), fails(), slow("b")])
        await asyncio.sleep(0)  # let the cancellations land

    asyncio.run(go())
    assert sorted(cancelled) == ["a", "b"]
