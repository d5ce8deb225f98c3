"""Hostile input over real HTTP, on every strategy (hybrid included, against the fake LLM):
each body gets its documented answer with the request's real id, and the service keeps
answering /healthz; work per request is bounded and cut work is reported; a client that
hangs up has its work cancelled."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from evals.bench.fake_llm import FakeLLM, labels, tool_call
from evals.bench.hostile_bench import UNITS, hostile_article
from evals.bench.servers import serve_in_thread
from service.api.app import create_app
from tests.conftest import FACTS_004, make_settings, wait_for

STRATEGIES = ("nlp", "llm", "hybrid")
KYIV = "Officials counted ten ambulances in Kyiv on Monday."  # needs a model call
JSON = {"content-type": "application/json"}


def _raw(text: str) -> bytes:
    """A JSON body as a client may send it, lone surrogates and all."""
    return text.encode("utf-8", "surrogatepass")


# (body, expected status, expected error code or None for a 200)
HOSTILE: dict[str, tuple[bytes, int, str | None]] = {
    "lone surrogate": (_raw('{"text": "Ten killed \\ud800 in Kyiv."}'), 422, "invalid_request"),
    "surrogate title": (_raw('{"text": "Kyiv", "title": "\\udfff"}'), 422, "invalid_request"),
    "raw surrogate bytes": (b'{"text": "Kyiv \xed\xa0\x80"}', 422, "invalid_request"),
    "nul and controls": (json.dumps({"text": "Ten\x00 people\x07 were killed\x1b."}).encode(),
                         200, None),
    "bidi marks": (json.dumps({"text": "Ten \u202epeople\u202c were killed in \u2066Kyiv\u2069."
                               }).encode(), 200, None),
    "zero-width and BOM": (json.dumps({"text": "\ufeffTen\u200b people were killed."}).encode(),
                           200, None),
    "400-digit number": (json.dumps({"text": "1" * 400 + " people were killed."}).encode(),
                         200, None),
    "huge JSON number": (b'{"text": "Kyiv", "title": 1e999999}', 422, "invalid_request"),
    "deep nesting": (b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", 422,
                     "invalid_request"),
    "300-character prompt": (json.dumps({"text": KYIV, "prompt": "x" * 300}).encode(), 422,
                             "invalid_request"),
    "prompt path": (json.dumps({"text": KYIV, "prompt": "../prompts/x@v1"}).encode(), 422,
                    "invalid_request"),
    "long url": (json.dumps({"text": KYIV, "url": "h" * 5000}).encode(), 422,
                 "invalid_request"),
    "text not a string": (b'{"text": {"a": 1}}', 422, "invalid_request"),
    "a key given twice": (b'{"text": "Kyiv", "text": "Kyiv"}', 422, "invalid_request"),
    "strategy not a string": (json.dumps({"text": KYIV, "strategy": 3}).encode(), 422,
                              "invalid_request"),
    "text over the limit": (json.dumps({"text": "x" * 3001}).encode(), 413, "text_too_long"),
    "body over the limit": (json.dumps({"text": KYIV, "title": "t" * 70_000}).encode(), 413,
                            "body_too_large"),
}  # fmt: skip


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, httpx2.Client]]:
    """The real app per strategy, a fake LLM behind them answering every call."""
    fake = FakeLLM(default=tool_call(FACTS_004), by_tool=labels(), keep=False)
    with serve_in_thread(fake.app) as llm_url:
        clients: dict[str, httpx2.Client] = {}
        contexts = []
        for strategy in STRATEGIES:
            settings = make_settings(
                llm_base_url=f"{llm_url}/v1", strategy=strategy, max_text_chars=3000,
                max_body_bytes=64_000,
            )  # fmt: skip
            ctx = serve_in_thread(create_app(settings))
            contexts.append(ctx)
            clients[strategy] = httpx2.Client(base_url=ctx.__enter__(), timeout=60)
        yield clients
        for client in clients.values():
            client.close()
        for ctx in reversed(contexts):
            ctx.__exit__(None, None, None)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_body_gets_its_documented_answer(
    services: dict[str, httpx2.Client], strategy: str, name: str
) -> None:
    body, status, code = HOSTILE[name]
    client = services[strategy]
    for path, content in (("/extract", body), ("/extract/batch", _in_batch(body))):
        response = client.post(path, content=content, headers=JSON)
        expected = 200 if path.endswith("batch") and status == 200 else status
        assert response.status_code == expected or _batch_refusal(path, response, status), (
            path, response.text[:300])  # fmt: skip
        request_id = response.headers["x-request-id"]
        if response.status_code != 200:
            error = response.json()["error"]
            assert error["request_id"] == request_id and error["message"]
            assert path.endswith("batch") or error["code"] == code
        assert client.get("/healthz").status_code == 200


def _in_batch(body: bytes) -> bytes:
    return b'{"articles": [' + body + b"]}"


def _batch_refusal(path: str, response: httpx2.Response, status: int) -> bool:
    """A hostile article refuses its whole batch: the same family of status as alone."""
    return path.endswith("batch") and response.status_code in (status, 413, 422)


@pytest.mark.parametrize("header", ["x" * 10_000, "bad\x01id", ""])
def test_a_hostile_request_id_is_replaced_by_a_real_one(
    services: dict[str, httpx2.Client], header: str
) -> None:
    response = services["nlp"].post(
        "/extract",
        content=b'{"text": 5}',
        headers={**JSON, "x-request-id": header.encode("latin-1")},
    )
    request_id = response.json()["error"]["request_id"]
    assert request_id == response.headers["x-request-id"] != header
    assert len(request_id) == 32


def test_a_wrong_token_is_refused_before_the_body_is_read(start_service: Any) -> None:
    client = start_service(api_token="a-long-enough-token", max_body_bytes=1000)
    sent = []

    def body() -> Iterator[bytes]:
        for _ in range(100):  # 10 MB if it were all read
            sent.append(1)
            yield b"x" * 100_000

    response = client.post("/extract", content=body(), headers=JSON)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_in_the_error_shape(start_service: Any, chunked: bool) -> None:
    client = start_service(max_body_bytes=10_000)
    payload = json.dumps({"text": "y" * 20_000}).encode()
    content: Any = iter([payload[:5000], payload[5000:]]) if chunked else payload
    response = client.post("/extract", content=content, headers=JSON)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "body_too_large" and "NEWSFACTS_MAX_BODY_BYTES" in error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("kind", list(UNITS))
def test_a_100k_hostile_article_is_answered_and_says_what_was_capped(
    fake_llm: FakeLLM, start_service: Any, kind: str
) -> None:
    fake_llm.by_tool.update(labels())
    client = start_service(strategy="hybrid", max_llm_calls=40, max_candidates=100,
                           request_timeout_s=120)  # fmt: skip
    response = client.post("/extract", json={"text": hostile_article(kind)}, timeout=180)
    assert response.status_code == 200, response.text[:300]
    meta = response.json()["meta"]
    assert meta["attempts"] <= 40
    facts = response.json()["facts"]
    assert all(len(found) <= 100 for found in facts.values())
    # "1,1,1,…" is one run of digits and 400 digits no count: neither makes a candidate
    if kind not in ("numbers", "long numbers"):
        assert meta["capped"], meta
        assert any("NEWSFACTS_" in line for line in meta["capped"])


def test_a_request_that_fits_its_caps_says_nothing_was_capped(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.by_tool.update(labels())
    client = start_service(strategy="hybrid")
    response = client.post("/extract", json={"text": KYIV})
    assert response.status_code == 200
    assert response.json()["meta"]["capped"] == []


def test_the_token_budget_is_per_request(fake_llm: FakeLLM, start_service: Any) -> None:
    fake_llm.by_tool.update({k: tool_call(v.arguments, usage=(900, 100))
                             for k, v in labels().items()})  # fmt: skip
    # one call at a time: side by side, the calls in flight when the budget runs out finish
    client = start_service(strategy="hybrid", token_budget=3000, article_llm_calls=1)
    text = " ".join(f"Officials counted {n} ambulances in Town{n}." for n in range(10, 30))
    response = client.post("/extract", json={"text": text})
    assert response.status_code == 200
    meta = response.json()["meta"]
    assert meta["attempts"] == 3  # 3 x 1000 tokens: the fourth call would pass the budget
    assert any("NEWSFACTS_TOKEN_BUDGET=3000" in line for line in meta["capped"])


def test_a_client_that_hangs_up_has_its_work_cancelled(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.by_tool.update(labels(delay_s=0.3))
    client = start_service(strategy="hybrid", article_llm_calls=2)
    text = " ".join(f"Officials counted {n} ambulances in Town{n}." for n in range(10, 60))
    base = str(client.base_url)

    def hang_up_early() -> None:
        with pytest.raises(httpx2.TimeoutException):
            httpx2.post(f"{base}/extract", json={"text": text}, timeout=1.0)

    caller = threading.Thread(target=hang_up_early)
    caller.start()
    caller.join()
    wait_for(lambda: client.get("/readyz").json()["running"] == 0, 10, "the work to stop")
    made = len(fake_llm.requests)
    time.sleep(1.0)
    assert len(fake_llm.requests) == made < 10  # no call after the hang-up; 50 were planned


def _from(address: str, base: str) -> httpx2.Client:
    """A client whose connections come from `address` (another loopback address is another
    client to the service's fair admission)."""
    transport = httpx2.HTTPTransport(local_address=address)
    return httpx2.Client(base_url=base, transport=transport, timeout=60)


def test_one_clients_batches_leave_room_for_anothers_single(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.by_tool.update(labels(delay_s=0.15))
    client = start_service(strategy="hybrid", max_inflight=2, max_queue=8, client_share=0.5)
    base = str(client.base_url)
    batch = {
        "articles": [{"text": f"Officials counted {n} ambulances in Town{n}."} for n in range(16)]
    }
    answers: dict[str, Any] = {}

    def send_batch(i: int) -> None:
        with _from("127.0.0.1", base) as a:
            answers[f"batch{i}"] = a.post("/extract/batch", json=batch)

    senders = [threading.Thread(target=send_batch, args=(i,)) for i in range(3)]
    for sender in senders:
        sender.start()
    wait_for(lambda: client.get("/readyz").json()["running"] == 2, 10, "the batches to run")
    with _from("127.0.0.2", base) as b:
        single = b.post("/extract", json={"text": KYIV})
    batches_done_then = sum(name.startswith("batch") for name in answers)
    for sender in senders:
        sender.join()
    assert single.status_code == 200, single.text[:300]
    assert batches_done_then == 0  # answered while the other client's 48 articles ran
    for name in ("batch0", "batch1", "batch2"):
        assert answers[name].status_code == 200
        assert answers[name].json()["failed"] == 0  # a batch takes one place, not sixteen


def test_a_client_over_its_share_of_the_queue_is_refused_and_another_is_not(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    fake_llm.by_tool.update(labels(delay_s=1.0))
    client = start_service(strategy="hybrid", max_inflight=1, max_queue=4, client_share=0.5)
    base = str(client.base_url)
    threads = [threading.Thread(target=lambda: _from("127.0.0.1", base).post(
        "/extract", json={"text": KYIV})) for _ in range(3)]  # fmt: skip
    for thread in threads:
        thread.start()
    wait_for(lambda: client.get("/readyz").json()["waiting"] == 2, 10, "two to wait")
    with _from("127.0.0.1", base) as a, _from("127.0.0.2", base) as b:
        mine = a.post("/extract", json={"text": KYIV})
        other = b.post("/extract", json={"text": KYIV})
    for thread in threads:
        thread.join()
    assert mine.status_code == 503 and mine.json()["error"]["code"] == "saturated"
    assert "NEWSFACTS_CLIENT_SHARE" in mine.json()["error"]["message"]
    assert other.status_code == 200


def test_a_body_of_400000_unknown_keys_gets_a_bounded_422(start_service: Any) -> None:
    client = start_service(strategy="nlp")
    body = {"text": KYIV, **{f"k{i}": 1 for i in range(400_000)}}
    response = client.post("/extract", content=json.dumps(body).encode(), headers=JSON)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert len(error["message"]) < 2000, len(error["message"])
    assert error["message"].endswith("and 399990 more problems")
    assert error["request_id"] == response.headers["x-request-id"]
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"text": "Kyiv", "' + b"k" * 1_000_000 + b'": 1}', "kkkk…: Extra inputs"),
        (b'{"articles": "x", ' + b",".join(b'"k%d": 1' % i for i in range(30_000)) + b"}",
         "articles: Input should be a valid list"),
    ],
    ids=["megabyte key", "many keys in a batch"],
)  # fmt: skip
def test_validation_messages_are_bounded(start_service: Any, body: bytes, problem: str) -> None:
    client = start_service(strategy="nlp", max_body_bytes=4_000_000)
    path = "/extract/batch" if b"articles" in body else "/extract"
    response = client.post(path, content=body, headers=JSON)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert problem in message and len(message) < 2000, message[:300]
