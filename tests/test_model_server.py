"""The embedded model server: the grammar asked after sampling gives llama-cpp-python's own
greedy answer token for token, completions decoded together each get their own answer,
and bad requests get OpenAI-style 400s.

The grammar and HTTP tests load only the bundled model's vocabulary (a second); the
decoding tests run the real model in `Slots` (marked embedded)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import llama_cpp
import numpy as np
import pytest
from llama_cpp import llama_grammar
from starlette.testclient import TestClient

from schemas.labels import NameAnswer, NumberAnswer
from service.llm.client import _tool
from service.llm.embedded import resolve_model_path
from service.llm.model_server import Model, create_app
from service.llm.slots import (
    CheckedGrammar,
    Decoded,
    Job,
    Probe,
    Slots,
    common_prefix,
    penalized,
    tokenize,
)
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


def _gbnf(model: Any) -> str:
    return llama_grammar.json_schema_to_gbnf(json.dumps(_tool(model)["function"]["parameters"]))


@pytest.mark.parametrize(
    ("model", "written", "forced"),
    [
        (NumberAnswer, "", '{"counts": "'),  # the key and the quotes, spaced as JSON is
        (NumberAnswer, '{"counts": "200', ""),  # free text: nothing is forced
        (NumberAnswer, '{"counts": "200",', ' "label": "'),  # the next key, after its space
        (NumberAnswer, '{"counts": "200", "label": "k', 'illed"}'),  # one value starts "k"
        (NumberAnswer, '{"counts": "200", "label": "killed"}', ""),  # it may end: no draft
        (NameAnswer, '{"kind": "p', ""),  # person or place: the model chooses
        (NameAnswer, '{"kind": "pl', 'ace"}'),
        (NameAnswer, '{"kind": "not', ' a name"}'),  # a space inside a value is forced too
    ],
)
def test_the_text_a_grammar_forces_is_drafted(
    vocab: llama_cpp.Llama, model: Any, written: str, forced: str
) -> None:
    handle = llama_cpp.llama_model_get_vocab(vocab.model)
    grammar = CheckedGrammar(handle, vocab.n_vocab(), _gbnf(model))
    for token in tokenize(handle, written):
        assert grammar.allows(token)
        grammar.accept(token)
    assert grammar.forced(Probe(handle), written) == forced
    # asking changed nothing: the grammar still takes the forced text
    for token in tokenize(handle, forced):
        assert grammar.allows(token)
        grammar.accept(token)
    grammar.close()


def test_the_grammar_is_asked_about_the_best_token_first(vocab: llama_cpp.Llama) -> None:
    grammar = CheckedGrammar(
        llama_cpp.llama_model_get_vocab(vocab.model), vocab.n_vocab(), 'root ::= "yes" | "no"'
    )
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


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [([], [1, 2], 0), ([1, 2, 3], [1, 2, 4], 2), ([1, 2], [1, 2, 3], 2), ([5], [6], 0)],
)
def test_common_prefix(a: list[int], b: list[int], shared: int) -> None:
    assert common_prefix(a, b) == shared


ITEMS = [
    (NumberAnswer, "At least [[14]] people were killed in the blast."),
    (NameAnswer, "Rockets hit [[Hamden]] on Friday."),
]


@pytest.fixture(scope="module")
def slots() -> Iterator[Slots]:
    path = resolve_model_path(load_settings())
    yield Slots(str(path), 4096, (2, 2), parallel=2)


@pytest.fixture(scope="module")
def one_at_a_time() -> Iterator[Slots]:
    """Slots that evaluate one token a step, as llama-cpp-python does (no drafts)."""
    path = resolve_model_path(load_settings())
    yield Slots(str(path), 4096, (2, 2), parallel=1, jump_forward=False)


def _call(vocab: llama_cpp.Llama, model: Any, item: str) -> tuple[list[int], str]:
    served = Model(vocab, "m")
    tool = _tool(model)
    text = served.formatter(
        messages=[{"role": "user", "content": f"Label the item.\n{item}"}], tools=[tool]
    )
    prompt = vocab.tokenize(text.prompt.encode(), add_bos=False, special=True)
    return prompt, llama_grammar.json_schema_to_gbnf(json.dumps(tool["function"]["parameters"]))


def _submit(slots: Slots, prompt: list[int], gbnf: str, stop: threading.Event | None = None
            ) -> Future[Decoded]:  # fmt: skip
    answer: Future[Decoded] = Future()

    def done(result: Decoded | BaseException) -> None:
        if isinstance(result, BaseException):
            answer.set_exception(result)
        else:
            answer.set_result(result)

    slots.submit(Job(prompt, 40, gbnf, 0.0, stop or threading.Event(), done))
    return answer


@pytest.mark.embedded
@pytest.mark.parametrize(("model", "item"), ITEMS)
def test_checked_grammar_gives_llama_cpp_pythons_greedy_answer(
    vocab: llama_cpp.Llama, one_at_a_time: Slots, model: Any, item: str
) -> None:
    prompt, gbnf = _call(vocab, model, item)
    path = resolve_model_path(load_settings())
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=2048, n_threads=2, verbose=False)
    chain = []  # llama-cpp-python's own grammar chain, greedy
    for token in llama.generate(prompt, temp=0.0, repeat_penalty=1.1,
                                grammar=llama_grammar.LlamaGrammar.from_string(gbnf)):  # fmt: skip
        if llama_cpp.llama_vocab_is_eog(llama_cpp.llama_model_get_vocab(llama.model), token):
            break
        chain.append(token)
    ours = _submit(one_at_a_time, prompt, gbnf).result(timeout=120)
    assert ours.finish == "stop"
    assert ours.tokens == chain
    assert ours.full_masks <= 4  # the first token and the end, mostly
    json.loads(llama.detokenize(ours.tokens).decode())


@pytest.mark.embedded
@pytest.mark.parametrize(("model", "item"), ITEMS)
def test_jump_forward_decodes_the_forced_text_in_the_steps_of_the_choices(
    vocab: llama_cpp.Llama, slots: Slots, one_at_a_time: Slots, model: Any, item: str
) -> None:
    prompt, gbnf = _call(vocab, model, item)
    plain = _submit(one_at_a_time, prompt, gbnf).result(timeout=120)
    ours = _submit(slots, prompt, gbnf).result(timeout=120)
    assert ours.finish == "stop" and plain.forced == 0
    # most tokens were forced, drafted and kept: they took no step of their own
    assert ours.forced > len(ours.tokens) / 2 and ours.drafted >= ours.forced
    answer = model.model_validate_json(vocab.detokenize(ours.tokens))
    # the answer is the greedy one, but a draft's tokens are evaluated in one batch, whose
    # arithmetic can turn a near tie in the last bits (the AVX-512 kernels' "14" for
    # "people" as what the number counts); the label, the tool's choice, is the same
    first = model.model_validate_json(vocab.detokenize(plain.tokens))
    assert answer.model_dump(exclude={"counts"}) == first.model_dump(exclude={"counts"})


@pytest.mark.embedded
def test_completions_decoded_together_each_get_their_answer(
    vocab: llama_cpp.Llama, slots: Slots
) -> None:
    calls = [_call(vocab, model, item) for model, item in ITEMS]
    for call in calls:  # each prompt in the cache
        _submit(slots, *call).result(timeout=120)
    together = [f.result(timeout=120) for f in [_submit(slots, *call) for call in calls]]
    # each is its own tool's answer (the batch's arithmetic may change a greedy choice in
    # the last bits, "14" for "people", so the words are not compared)
    for (model, _), decoded in zip(ITEMS, together, strict=True):
        model.model_validate_json(vocab.detokenize(decoded.tokens))
    assert max(d.mean_batch for d in together) > 1  # they shared steps
    # the second time, each prompt is found in the cache up to its last token
    assert [d.cached for d in together] == [len(prompt) - 1 for prompt, _ in calls]
    gone = threading.Event()
    gone.set()  # the client hung up: the completion ends before its first token
    stopped = _submit(slots, *calls[0], stop=gone).result(timeout=120)
    assert stopped.finish == "cancelled" and stopped.tokens == []


@pytest.mark.embedded
def test_a_grammar_llama_cpp_refuses_fails_that_call_and_the_next_one_runs(
    vocab: llama_cpp.Llama, slots: Slots
) -> None:
    prompt, gbnf = _call(vocab, *ITEMS[1])
    with pytest.raises(ValueError, match=r"grammar llama\.cpp does not accept"):
        _submit(slots, prompt, "root ::= (").result(timeout=120)
    assert _submit(slots, prompt, gbnf).result(timeout=120).finish == "stop"


@pytest.mark.embedded
def test_a_full_cache_puts_the_newest_completion_back_and_both_finish(
    vocab: llama_cpp.Llama,
) -> None:
    path = resolve_model_path(load_settings())
    small = Slots(str(path), 1024, (2, 2), parallel=2)  # 2 x 600 tokens do not fit
    prompts = [vocab.tokenize(f"{word} ".encode() * 700, add_bos=False, special=False)
               for word in ("river", "mountain")]  # fmt: skip
    answers = [_submit(small, prompt[:600], 'root ::= "ok"') for prompt in prompts]
    results = [a.result(timeout=300) for a in answers]
    assert [vocab.detokenize(r.tokens).decode() for r in results] == ["ok", "ok"]
    assert small.stats.preempted >= 1


def test_a_full_queue_is_refused_with_retry_after(vocab: llama_cpp.Llama) -> None:
    with TestClient(create_app(Model(vocab, "tiny"), max_queue=0)) as full:
        r = full.post("/v1/chat/completions", json={"messages": []})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert "waiting" in r.json()["error"]["message"]


@pytest.mark.embedded
def test_drafts_that_do_not_fit_the_batch_wait_and_every_answer_is_whole(
    vocab: llama_cpp.Llama,
) -> None:
    path = resolve_model_path(load_settings())
    narrow = Slots(str(path), 2048, (2, 2), parallel=2, n_batch=8)  # room for 8 tokens a step
    calls = [_call(vocab, model, item) for model, item in ITEMS]
    answers = [f.result(timeout=300) for f in [_submit(narrow, *call) for call in calls]]
    for (model, _), decoded in zip(ITEMS, answers, strict=True):
        assert decoded.finish == "stop"
        model.model_validate_json(vocab.detokenize(decoded.tokens))
    assert narrow.stats.forced > 0  # drafts still ran where they fitted
