"""The nlp and hybrid strategies through the real pipeline; the hybrid against a fake LLM
that speaks the OpenAI protocol on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, http_error, labels, tool_call
from schemas.api import ExtractRequest
from service.extraction.pipeline import Pipeline
from service.llm.backend import NoLLM
from service.llm.client import OpenAIStructuredLLM
from tests.conftest import make_settings

STORY = (
    "Rockets hit a school in Hamden on Friday, the regional governor Ana Lusk said.\n\n"
    "At least 14 people were killed and some 2,500 residents were evacuated.\n\n"
    "\u201cWe need help now,\u201d Lusk said. \u201cNobody came.\u201d"
)


def _pipeline(fake: FakeLLM, **overrides: Any) -> Pipeline:
    settings = make_settings(llm_base_url=fake.url, **overrides)  # type: ignore[attr-defined]
    return Pipeline(OpenAIStructuredLLM(settings, fake.url, None), settings)  # type: ignore[attr-defined]


def test_nlp_strategy_starts_no_model_and_names_none() -> None:
    settings = make_settings(strategy="nlp")
    response = asyncio.run(Pipeline(NoLLM(), settings).extract(ExtractRequest(text=STORY)))
    facts = response.facts
    assert [p.name for p in facts.people] == ["Ana Lusk"]
    assert [(q.speaker, q.text) for q in facts.quotes] == [
        ("Ana Lusk", "We need help now,"),
        ("Ana Lusk", "Nobody came."),
    ]
    assert facts.casualties == [] and facts.attacks == []
    meta = response.meta
    assert (meta.strategy, meta.model, meta.prompt, meta.attempts) == ("nlp", "none", None, 0)
    assert meta.nlp_model == settings.spacy_model
    assert {g.match for g in response.grounding} == {"exact"}


def test_hybrid_builds_facts_from_candidates_and_labels(fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        tool_call({"counts": "people were killed", "label": "other"}),
        tool_call({"counts": "residents", "label": "evacuated"}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    facts = response.facts
    [killed] = facts.casualties
    # "were killed" beside the number outranks the model's "other".
    assert (killed.count, killed.outcome, killed.approximate) == (14, "killed", True)
    assert killed.population == "people"
    [moved] = facts.displacement
    assert (moved.count, moved.movement) == (2500, "evacuated")
    # The attack is read from the parse ("Rockets hit a school"): no call asks for it.
    [attack] = facts.attacks
    assert (attack.target, attack.target_type, attack.location) == ("a school", "school", "Hamden")
    assert attack.evidence == STORY.splitlines()[0]
    # Every evidence span is the article's own text, found exactly.
    assert {g.match for g in response.grounding} == {"exact"}
    assert response.meta.strategy == "hybrid"
    assert response.meta.prompt == "hybrid_labels@v3"
    assert response.meta.attempts == 2
    # Every call sends the same instructions and the same four tools (the article is not
    # sent), so a server that keeps its evaluated prefix evaluates them once; the calls
    # differ only in the task's line and the item.
    systems = [r["messages"][0]["content"] for r in fake_llm.requests]
    assert len(set(systems)) == 1 and "Nobody came" not in systems[0]
    for r in fake_llm.requests:
        assert [t["function"]["name"] for t in r["tools"]] == [
            "TalksAnswer", "SpeakerAnswer", "NameAnswer", "NumberAnswer"
        ]  # fmt: skip
        assert r["tool_choice"]["function"]["name"] == "NumberAnswer"
    first, second = (r["messages"][1]["content"] for r in fake_llm.requests[:2])
    assert first.endswith("<item>At least [[14]] people were killed and some 2,500 residents "
                          "were evacuated.</item>")  # fmt: skip
    assert first.rpartition("<item>")[0] == second.rpartition("<item>")[0]


def test_the_none_label_is_the_one_the_words_do_not_outrank(fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        tool_call({"counts": "people", "label": "none"}),
        tool_call({"counts": "residents", "label": "other"}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    assert response.facts.casualties == []  # "none" is the one label the words do not outrank
    assert response.facts.figures == []
    [moved] = response.facts.displacement  # "were evacuated" outranks "other"
    assert (moved.count, moved.movement) == (2500, "evacuated")


@pytest.mark.parametrize(
    ("strategy", "prompt", "code"),
    [
        ("hybrid", "news_facts@v2", "unknown_prompt"),
        ("llm", "hybrid_labels@v3", "unknown_prompt"),
        ("nlp", "news_facts@v2", "invalid_request"),
    ],
)
def test_a_prompt_of_another_strategy_is_refused(
    fake_llm: FakeLLM, strategy: str, prompt: str, code: str
) -> None:
    from service.errors import InvalidInput

    request = ExtractRequest(text=STORY, strategy=strategy, prompt=prompt)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as raised:
        asyncio.run(_pipeline(fake_llm).extract(request))
    assert raised.value.code == code
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("strategy", "option", "says"),
    [
        ("hybrid", {"ungrounded": "reask"}, "ungrounded=reask re-asks the model"),
        ("nlp", {"ungrounded": "reask"}, "which the nlp strategy does not do"),
        ("hybrid", {"recall_passes": "lists"}, "which the hybrid strategy does not do"),
        ("nlp", {"recall_passes": "lists"}, "recall_passes=lists"),
    ],
)
def test_an_option_the_strategy_does_not_honour_is_refused_naming_it(
    fake_llm: FakeLLM, strategy: str, option: dict[str, str], says: str
) -> None:
    from service.errors import InvalidInput

    request = ExtractRequest(text=STORY, strategy=strategy, **option)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=says) as raised:
        asyncio.run(_pipeline(fake_llm).extract(request))
    assert raised.value.status == 422 and strategy in raised.value.message
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("strategy", "configured", "applied"),
    [
        ("hybrid", {"ungrounded": "reask", "recall_passes": "lists"}, ("flag", "none")),
        ("nlp", {"ungrounded": "drop", "recall_passes": "lists"}, ("drop", "none")),
    ],
)
def test_meta_names_the_options_as_the_strategy_applied_them(
    fake_llm: FakeLLM, strategy: str, configured: dict[str, str], applied: tuple[str, str]
) -> None:
    fake_llm.default = tool_call({"counts": "people", "label": "killed"})
    pipeline = _pipeline(fake_llm, **configured)
    response = asyncio.run(pipeline.extract(ExtractRequest(text=STORY, strategy=strategy)))  # type: ignore[arg-type]
    assert (response.meta.ungrounded, response.meta.recall_passes) == applied


def test_hybrid_answer_missing_a_candidate_is_reasked(fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        tool_call({"counts": "people"}),  # no label: schema-invalid, re-asked
        tool_call({"counts": "people", "label": "killed"}),
        tool_call({"counts": "residents", "label": "evacuated"}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    assert response.meta.attempts == 3
    assert len(response.facts.casualties) == 1
    assert len(response.facts.displacement) == 1


def test_a_service_on_the_nlp_strategy_starts_no_model(tmp_path: Any) -> None:
    """Embedded backend configured with a model file that does not exist: the nlp strategy
    never needs it, so the service starts, is ready and extracts; asking it for the hybrid
    strategy is the documented 502 llm_unavailable."""
    import httpx2

    from evals.bench.servers import serve_in_thread
    from service.api.app import create_app

    settings = make_settings(strategy="nlp", model_path=tmp_path / "missing.gguf")
    assert settings.embedded
    with serve_in_thread(create_app(settings)) as url, httpx2.Client(base_url=url) as client:
        assert client.get("/readyz").status_code == 200
        r = client.post("/extract", json={"text": STORY})
        assert r.status_code == 200, r.text
        assert [p["name"] for p in r.json()["facts"]["people"]] == ["Ana Lusk"]
        r = client.post("/extract", json={"text": STORY, "strategy": "hybrid"})
        assert r.status_code == 502
        assert r.json()["error"]["code"] == "llm_unavailable"


@pytest.mark.parametrize(
    ("text", "label", "list_name"),
    [
        ("More than 5,700 houses collapsed in the quake.", "killed", "figures"),
        ("The ridge is 30 meters high.", "injured", "figures"),
        ("The storm caused $4 billion in damage.", "killed", "figures"),
        ("Some 300 miners were trapped underground.", "trapped", "displacement"),
    ],
)
def test_a_people_label_on_a_number_that_counts_no_people_is_a_figure(
    fake_llm: FakeLLM, text: str, label: str, list_name: str
) -> None:
    fake_llm.queue(tool_call({"counts": "x", "label": label}))
    fake_llm.by_tool = {
        "TalksAnswer": tool_call({"talks": None}),
        "NameAnswer": tool_call({"kind": "place"}),
    }
    request = ExtractRequest(text=text, strategy="hybrid")
    facts = asyncio.run(_pipeline(fake_llm).extract(request)).facts
    assert len(getattr(facts, list_name)) == 1, facts


def test_warm_up_is_one_small_labelling_call_with_the_shared_prefix(fake_llm: FakeLLM) -> None:
    fake_llm.queue(
        tool_call({"counts": "people hurt", "label": "injured"}),
        tool_call({"counts": "people were killed", "label": "killed"}),
        tool_call({"counts": "residents", "label": "evacuated"}),
    )
    pipeline = _pipeline(fake_llm, strategy="hybrid")

    async def warm_then_extract() -> float | None:
        seconds = await pipeline.warm_up()
        await pipeline.extract(ExtractRequest(text=STORY, strategy="hybrid"))
        return seconds

    seconds = asyncio.run(warm_then_extract())
    assert seconds is not None and seconds >= 0
    warm, real = fake_llm.requests[:2]
    # the same system message and tools as every labelling call of any article
    assert warm["messages"][0] == real["messages"][0]
    assert warm["tools"] == real["tools"]
    assert len(fake_llm.requests) == 3


def test_a_failed_warm_up_is_logged_not_raised(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.queue(*[http_error(500)] * 5)
    pipeline = _pipeline(fake_llm, strategy="hybrid", llm_transport_retries=1)
    assert asyncio.run(pipeline.warm_up()) is None
    assert "warm-up call failed" in caplog.text


TALLY = " ".join(f"{n} people were killed in Town{n} on Monday." for n in range(11, 19))


@pytest.mark.parametrize(("article_calls", "peak"), [(1, 1), (4, 4)])
def test_an_articles_calls_run_side_by_side_up_to_its_cap(
    fake_llm: FakeLLM, start_service: Any, article_calls: int, peak: int
) -> None:
    fake_llm.by_tool = labels(delay_s=0.2)
    client = start_service(strategy="hybrid", article_llm_calls=article_calls)
    response = client.post("/extract", json={"text": TALLY})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["attempts"] >= 8
    assert response.json()["meta"]["calls_at_once"] == {"article": article_calls,
                                                       "every_request": 256}  # fmt: skip
    assert fake_llm.peak_in_flight == peak


def test_every_requests_calls_together_stay_under_the_global_cap(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake_llm.by_tool = labels(delay_s=0.2)
    client = start_service(strategy="hybrid", article_llm_calls=4, llm_calls=3)
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: client.post("/extract", json={"text": TALLY})
                                 .status_code, range(3)))  # fmt: skip
    assert statuses == [200, 200, 200]
    assert fake_llm.peak_in_flight == 3


def test_the_facts_do_not_depend_on_how_many_calls_ran_at_once(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    # each tool answers after its own delay, so answers come back out of the asking order
    delays = (0.15, 0.0, 0.1, 0.05)
    fake_llm.by_tool = {k: tool_call(v.arguments, delay_s=d)
                        for (k, v), d in zip(labels().items(), delays, strict=True)}  # fmt: skip
    one = start_service(strategy="hybrid", article_llm_calls=1)
    many = start_service(strategy="hybrid", article_llm_calls=8)
    facts = [c.post("/extract", json={"text": TALLY}).json()["facts"] for c in (one, many)]
    assert facts[0] == facts[1] and facts[0]["casualties"]
