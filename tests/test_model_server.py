"""The embedded model server: the grammar asked after sampling gives llama-cpp-python's own
greedy answer token for token, and bad requests get OpenAI-style 400s.

The grammar and HTTP tests load only the bundled model's vocabulary (a second); the
equivalence test decodes with the real model (marked embedded)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import llama_cpp
import numpy as np
import pytest
from llama_cpp import llama_grammar
from starlette.testclient import TestClient

from schemas.labels import NameAnswer, NumberAnswer
from service.llm.client import _tool
from service.llm.embedded import resolve_model_path
from service.llm.model_server import CheckedGrammar, Model, create_app, penalized
from service.settings import load_settings


@pytest.fixture(scope="module")
def vocab() -> Iterator[llama_cpp.Llama]:
    path = resolve_model_path(load_settings())
    yield llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)


@pytest.mark.parametrize(
    ("logits", "recent", "expected"),
    [
        ([2.2, -1.0, 0.5], [], [2.2, -1.0, 0.5]),  # nothing generated yet: no penalty
        ([2.2, -1.0, 0.5], [0], [2.0, -1.0, 0.5]),  # a positive logit is divided
        ([2.2, -1.0, 0.5], [1, 1, 1], [2.2, -1.1, 0.5]),  # a negative one multiplied, once
        ([2.2, -1.0, 0.5], [2] + [0] * 64, [2.0, -1.0, 0.5]),  # only the last 64 count
    ],
)
def test_repeat_penalty_as_llama_cpp_applies_it(
    logits: list[float], recent: list[int], expected: list[float]
) -> None:
    got = penalized(np.array(logits, dtype=np.float32), recent)
    assert np.allclose(got, np.array(expected, dtype=np.float32))


def _token(model: llama_cpp.Llama, text: str) -> int:
    [token] = model.tokenize(text.encode(), add_bos=False, special=True)
    return token


def test_the_grammar_is_asked_about_the_best_token_first(vocab: llama_cpp.Llama) -> None:
    grammar = CheckedGrammar(vocab, 'root ::= "yes" | "no"')
    yes, maybe = _token(vocab, "yes"), _token(vocab, "maybe")
    assert grammar.allows(yes) and not grammar.allows(maybe)
    logits = np.zeros(vocab.n_vocab(), dtype=np.float32)
    logits[yes] = 1.0
    assert grammar.best(logits) == yes and grammar.full_masks == 0
    logits[maybe] = 5.0  # the model's favourite breaks the grammar: mask everything
    assert grammar.best(logits) == yes and grammar.full_masks == 1
    grammar.accept(yes)
    assert not grammar.allows(yes)  # "yes" is done: only the end may follow
    grammar.close()


@pytest.fixture(scope="module")
def client(vocab: llama_cpp.Llama) -> Iterator[TestClient]:
    with TestClient(create_app(Model(vocab, "tiny"))) as c:
        yield c


def test_models_lists_the_alias(client: TestClient) -> None:
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["tiny"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "messages"),
        ({"model": "tiny"}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}], "tools": [_tool(NumberAnswer)],
          "tool_choice": {"type": "function", "function": {"name": "NameAnswer"}}},
         "'NameAnswer', which is not among the tools"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 10**6},
         "exceed the context window"),
    ],
)  # fmt: skip
def test_a_bad_request_is_a_400_in_openai_shape(client: TestClient, body: Any, says: str) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/v1/chat/completions", content=content)
    assert r.status_code == 400
    error = r.json()["error"]
    assert says in error["message"] and error["type"] == "invalid_request_error"


@pytest.mark.embedded
@pytest.mark.parametrize(
    ("model", "item"),
    [
        (NumberAnswer, "At least [[14]] people were killed in the blast."),
        (NameAnswer, "Rockets hit [[Hamden]] on Friday."),
    ],
)
def test_checked_grammar_gives_llama_cpp_pythons_greedy_answer(model: Any, item: str) -> None:
    path = resolve_model_path(load_settings())
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=2048, n_threads=2, verbose=False)
    served = Model(llama, "m")
    tool = _tool(model)
    prompt_text = served.formatter(
        messages=[{"role": "user", "content": f"Label the item.\n{item}"}], tools=[tool]
    )
    prompt = llama.tokenize(prompt_text.prompt.encode(), add_bos=False, special=True)
    gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(tool["function"]["parameters"]))
    answers = []
    for checked in (False, True):  # llama-cpp-python's grammar chain, then ours
        llama.reset()
        answers.append(served.decode(prompt, 40, gbnf, 0.0, checked=checked))
    chain, ours = answers
    assert chain.finish == ours.finish == "stop"
    assert ours.tokens == chain.tokens
    assert ours.full_masks <= 4  # the first token and the end, mostly
    json.loads(llama.detokenize(ours.tokens).decode())
    llama.reset()
    gone = threading.Event()
    gone.set()  # the client hung up: decoding stops at the first token
    stopped = served.decode(prompt, 40, gbnf, 0.0, stop=gone)
    assert stopped.finish == "cancelled" and stopped.tokens == []


def test_a_full_queue_is_refused_with_retry_after(vocab: llama_cpp.Llama) -> None:
    with TestClient(create_app(Model(vocab, "tiny"), max_queue=0)) as full:
        r = full.post("/v1/chat/completions", json={"messages": []})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert "waiting" in r.json()["error"]["message"]
