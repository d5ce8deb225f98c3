"""The incidents' routes on the real app over real HTTP, extracting through a fake
OpenAI-compatible LLM: POST /articles, GET /incidents, /incidents/{id}, /series, and the
documented errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from evals.bench.fake_llm import FakeLLM, tool_call
from tests.incident_articles import ARTICLES, facts

ORDER = ["wgn-1", "sun-1", "trib-1", "khou-1", "htot-1", "htot-2"]


def body(*ids: str) -> dict[str, Any]:
    """A POST /articles body for the test articles."""
    return {"articles": [{"id": i, "text": ARTICLES[i]["text"], "url": ARTICLES[i]["url"],
                          "published": ARTICLES[i]["published"]} for i in ids]}  # fmt: skip


@pytest.fixture
def service(
    start_service: Callable[..., httpx2.Client], fake_llm: FakeLLM, tmp_path: Path
) -> httpx2.Client:
    for article_id in ORDER:
        fake_llm.script.append(tool_call(facts(article_id)))
    return start_service(db_url=f"sqlite:///{tmp_path / 'store.db'}")


def test_articles_are_stored_grouped_and_the_same_ones_again_change_nothing(
    service: httpx2.Client, fake_llm: FakeLLM
) -> None:
    first = service.post("/articles", json=body(*ORDER))
    assert first.status_code == 200, first.text
    results = first.json()["articles"]
    assert [r["id"] for r in results] == ORDER and all(r["stored"] for r in results)
    fact = results[0]["facts"]["casualties"][0]
    assert fact["date"]["start"] == "2016-07-24" and fact["place"]["name"] == "Englewood"
    assert fact["place"]["gazetteer_id"].startswith("geonames:")
    assert results[0]["incidents"] == results[1]["incidents"] == results[2]["incidents"]
    calls = len(fake_llm.requests)
    again = service.post("/articles", json=body(*ORDER))
    assert len(fake_llm.requests) == calls  # nothing extracted twice
    assert [r["incidents"] for r in again.json()["articles"]] == [r["incidents"] for r in results]
    assert not any(r["stored"] for r in again.json()["articles"])


def test_incidents_list_and_one_incident_read_back(service: httpx2.Client) -> None:
    service.post("/articles", json=body(*ORDER))
    page = service.get("/incidents", params={"country": "US", "limit": 1}).json()
    assert len(page["incidents"]) == 1 and page["next_cursor"]
    newest = page["incidents"][0]
    assert newest["place"]["name"] == "Houston" and newest["date"]["start"] == "2016-07-30"
    rest = service.get("/incidents", params={"cursor": page["next_cursor"]}).json()
    [englewood] = rest["incidents"]
    one = service.get(f"/incidents/{englewood['id']}").json()
    assert one == englewood
    assert one["figures"]["killed"]["best"] == 3 and one["figures"]["killed"]["rule"]
    report = one["figures"]["killed"]["reports"][0]
    text = ARTICLES[report["article"]]["text"]
    assert text[report["start"] : report["end"]] == report["evidence"]
    assert one["conflicts"] and one["conflicts"][0]["measure"] == "injured"


def test_running_totals_are_series(service: httpx2.Client) -> None:
    service.post("/articles", json=body(*ORDER))
    series = service.get("/series", params={"country": "US"}).json()["series"]
    [houston] = [s for s in series if s["place"]["name"] == "Houston"]
    assert [p["value"] for p in houston["points"]] == [160, 190]
    listed = service.get("/incidents").json()["incidents"]
    assert not any({"htot-1", "htot-2"} & set(i["articles"]) for i in listed)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/incidents/inc-nothing", {}, 404, "not_found"),
        ("get", "/incidents", {"params": {"cursor": "not-ours"}}, 422, "invalid_request"),
        ("get", "/incidents", {"params": {"limit": 0}}, 422, "invalid_request"),
        ("get", "/incidents", {"params": {"since": "yesterday"}}, 422, "invalid_request"),
        ("get", "/incidents", {"params": {"kind": "war"}}, 422, "invalid_request"),
        ("post", "/articles", {"json": {"articles": []}}, 422, "invalid_request"),
        ("post", "/articles", {"json": {"articles": [{"text": "  "}]}}, 422, "invalid_request"),
        ("post", "/articles", {"json": {"articles": [{"id": "../x", "text": "a"}]}}, 422,
         "invalid_request"),
        ("post", "/articles", {"content": b"text", "headers": {"content-type": "text/plain"}},
         415, "unsupported_media_type"),
    ],
)  # fmt: skip
def test_bad_requests_get_the_documented_error(
    service: httpx2.Client, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    answer = getattr(service, method)(path, **kwargs)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["request_id"] == answer.headers["x-request-id"]
