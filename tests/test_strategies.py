"""The nlp and hybrid strategies through the real pipeline; the hybrid against a fake LLM
that speaks the OpenAI protocol on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, asked_tool, http_error, labels, tool_call
from schemas.api import ExtractRequest
from service.extraction.pipeline import Pipeline
from service.llm.backend import NoLLM
from service.llm.client import OpenAIStructuredLLM
from tests.conftest import make_settings

# "At least 14 people were killed": its own words decide it, so no call asks for it. The
# ambulances and the residents who "left" have no such word beside them: each is asked.
STORY = (
    "Rockets hit a school in Hamden on Friday, the regional governor Ana Lusk said.\n\n"
    "At least 14 people were killed. Officials counted 30 ambulances, and some 2,500 "
    "residents left for shelters.\n\n"
    "\u201cWe need help now,\u201d Lusk said. \u201cNobody came.\u201d"
)
ASKED = "Officials counted 30 ambulances, and some 2,500 residents left for shelters."


def _asked_items(fake: FakeLLM) -> list[str]:
    """The item of every number call the fake was sent, in the order it was sent."""
    return [r["messages"][1]["content"].rpartition("<item>")[2].removesuffix("</item>")
            for r in fake.requests if asked_tool(r) == "NumberAnswer"]  # fmt: skip


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
        tool_call({"counts": "ambulances", "label": "other"}),
        tool_call({"counts": "residents", "label": "killed"}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    facts = response.facts
    # "were killed" beside the number decides it: it is never sent, and is still a toll.
    [killed] = facts.casualties
    assert (killed.count, killed.outcome, killed.approximate) == (14, "killed", True)
    assert killed.population == "people"
    assert _asked_items(fake_llm) == [
        ASKED.replace("30", "[[30]]"), ASKED.replace("2,500", "[[2,500]]")
    ]  # fmt: skip
    [figure] = facts.figures  # the model's "other"
    assert (figure.value, figure.unit) == (30, "ambulances")
    # no harm word beside the residents, but a movement word: it outranks the model's
    # "killed"
    [moved] = facts.displacement
    assert (moved.count, moved.movement, moved.approximate) == (2500, "displaced", True)
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
    assert first.endswith("<item>Officials counted [[30]] ambulances, and some 2,500 residents "
                          "left for shelters.</item>")  # fmt: skip
    assert first.rpartition("<item>")[0] == second.rpartition("<item>")[0]


@pytest.mark.parametrize(
    ("text", "list_name", "fact"),
    [
        ("At least 14 people were killed in Hamden.", "casualties", {"count": 14,
         "outcome": "killed", "approximate": True}),
        ("Some 2,500 residents were evacuated.", "displacement", {"count": 2500,
         "movement": "evacuated", "approximate": True}),
        ("The storm caused $4 billion in damage.", "figures", {"value": 4e9, "unit": "USD"}),
        ("A man was killed in Hamden.", "casualties", {"count": 1, "outcome": "killed"}),
    ],
)  # fmt: skip
def test_a_number_its_words_decide_is_never_asked(
    fake_llm: FakeLLM, text: str, list_name: str, fact: dict[str, Any]
) -> None:
    # were it asked, "none" would drop it
    fake_llm.by_tool = {**labels(), "NumberAnswer": tool_call({"counts": "x", "label": "none"})}
    request = ExtractRequest(text=text, strategy="hybrid")
    response = asyncio.run(_pipeline(fake_llm).extract(request))
    assert _asked_items(fake_llm) == []
    [found] = getattr(response.facts, list_name)
    assert {k: getattr(found, k) for k in fact} == fact


@pytest.mark.parametrize(
    ("residents", "figures", "displaced"),
    [
        # "none" is the one label the words do not outrank: "left" beside the residents
        # does not keep them
        ("none", [30], []),
        ("displaced", [30], [2500]),
        ("other", [30, 2500], []),
    ],
)
def test_the_none_label_is_the_one_the_words_do_not_outrank(
    fake_llm: FakeLLM, residents: str, figures: list[int], displaced: list[int]
) -> None:
    fake_llm.queue(
        tool_call({"counts": "ambulances", "label": "other"}),
        tool_call({"counts": "residents", "label": residents}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    facts = response.facts
    assert [f.value for f in facts.figures] == figures
    assert [d.count for d in facts.displacement] == displaced
    # a number its words decide is not asked, so no "none" can reach it
    assert [(c.count, c.outcome) for c in facts.casualties] == [(14, "killed")]
    assert response.meta.attempts == 2 and "[[14]]" not in "".join(_asked_items(fake_llm))


WHICH_PROMPTS = "prompt: the hybrid strategy takes hybrid_* prompts, the llm strategy the others"


@pytest.mark.parametrize(
    ("strategy", "prompt", "code", "message"),
    [
        ("hybrid", "news_facts@v2", "unknown_prompt",
         f"prompt 'news_facts@v2' is not a hybrid {WHICH_PROMPTS}"),
        ("llm", "hybrid_labels@v3", "unknown_prompt",
         f"prompt 'hybrid_labels@v3' is not an llm {WHICH_PROMPTS}"),
        ("nlp", "news_facts@v2", "invalid_request",
         "the nlp strategy uses no prompt; leave out `prompt`"),
    ],
)  # fmt: skip
def test_a_prompt_of_another_strategy_is_refused_saying_which_prompts_each_takes(
    fake_llm: FakeLLM, strategy: str, prompt: str, code: str, message: str
) -> None:
    from service.errors import InvalidInput

    request = ExtractRequest(text=STORY, strategy=strategy, prompt=prompt)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as raised:
        asyncio.run(_pipeline(fake_llm).extract(request))
    assert (raised.value.code, raised.value.message) == (code, message)
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
        tool_call({"counts": "ambulances"}),  # no label: schema-invalid, re-asked
        tool_call({"counts": "ambulances", "label": "other"}),
        tool_call({"counts": "residents", "label": "displaced"}),
    )
    response = asyncio.run(
        _pipeline(fake_llm).extract(ExtractRequest(text=STORY, strategy="hybrid"))
    )
    assert response.meta.attempts == 3
    assert _asked_items(fake_llm) == [ASKED.replace("30", "[[30]]")] * 2 + [
        ASKED.replace("2,500", "[[2,500]]")
    ]  # fmt: skip
    assert [f.value for f in response.facts.figures] == [30]  # the re-asked answer's label
    assert len(response.facts.displacement) == 1
    assert len(response.facts.casualties) == 1  # decided by its words, never asked


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
        tool_call({"counts": "ambulances", "label": "other"}),
        tool_call({"counts": "residents", "label": "displaced"}),
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
    assert len(fake_llm.requests) == 3  # the warm-up, then the story's two numbers
    assert "[[30]]" in real["messages"][1]["content"]


def test_a_failed_warm_up_is_logged_not_raised(
    fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.queue(*[http_error(500)] * 5)
    pipeline = _pipeline(fake_llm, strategy="hybrid", llm_transport_retries=1)
    assert asyncio.run(pipeline.warm_up()) is None
    assert "warm-up call failed" in caplog.text


# No harm word beside the soldiers ("killed" is not), so each of the eight numbers is asked;
# the model's "killed" stands, as "the dead" is the clause's harm word.
TALLY = " ".join(f"The dead included {n} soldiers in Town{n} on Monday." for n in range(11, 19))


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


# What differs between strategies, as each answers it (`settings` attributes by name).
ANSWERS = {
    # name: uses_prompt, uses_model, warms_up, prompt_kind, run_prompt, model_name, nlp_model
    "nlp": (False, False, False, "", None, "spacy_model", "spacy_model"),
    "hybrid": (True, True, True, "a hybrid", "hybrid_prompt", "llm_model", "spacy_model"),
    "llm": (True, True, False, "an llm", "default_prompt", "llm_model", None),
}


@pytest.mark.parametrize(("name", "answers"), ANSWERS.items())
def test_each_strategy_answers_what_differs_between_strategies(
    name: str, answers: tuple[Any, ...]
) -> None:
    from service.extraction.strategies import STRATEGIES, needs_model

    uses_prompt, uses_model, warms_up, kind, run_prompt, model, nlp_model = answers
    settings = make_settings(strategy=name)
    strategy = STRATEGIES[name]
    assert (strategy.uses_prompt, strategy.uses_model, strategy.warms_up) == (
        uses_prompt, uses_model, warms_up,
    )  # fmt: skip
    assert strategy.prompt_kind == kind and needs_model(settings) is uses_model
    assert strategy.run_prompt(settings) == (getattr(settings, run_prompt) if run_prompt else name)
    assert strategy.model_name(settings) == getattr(settings, model)
    assert strategy.nlp_model(settings) == (getattr(settings, nlp_model) if nlp_model else None)


def test_the_table_covers_every_registered_strategy() -> None:
    from service.extraction.strategies import STRATEGIES

    assert set(ANSWERS) == set(STRATEGIES)


@pytest.mark.parametrize("strategy", ["nlp", "llm"])
def test_a_strategy_with_nothing_to_warm_up_asks_nothing(fake_llm: FakeLLM, strategy: str) -> None:
    assert asyncio.run(_pipeline(fake_llm, strategy=strategy).warm_up()) is None
    assert fake_llm.requests == []


# A decision by a strategy's name: a comparison with one, or the names spelt out as a set.
NAME_CHECK = re.compile(
    r"""[!=]=\s*["'](nlp|hybrid|llm)["']|["'](nlp|hybrid|llm)["']\s*[!=]="""
    r"""|\bin\s*[(\[{]\s*["'](nlp|hybrid|llm)["']|["']an? (hybrid|llm|nlp)["']"""
)
# Where strategies are defined, and the benches, which set NEWSFACTS_STRATEGY by name.
STRATEGY_MODULES = {"strategy.py", "strategies.py", "llm_strategy.py"}


@pytest.mark.parametrize(
    "line",
    [
        'kind = "a hybrid" if strategy.name == "hybrid" else "an llm"',
        'if settings.strategy == "nlp":',
        'nlp_model=x if strategy.name != "llm" else None',
        'if x in ("nlp", "llm", "hybrid") else x',
    ],
)
def test_the_name_check_pattern_catches_the_old_checks(line: str) -> None:
    assert NAME_CHECK.search(line)


def test_no_module_outside_the_strategies_decides_by_a_strategys_name() -> None:
    """What differs between strategies is asked of the strategy object (`uses_model`,
    `warm_up`, `prompt_kind`, `run_prompt`...), so that a strategy is complete in itself."""
    root = Path(__file__).resolve().parents[1]
    scanned = [
        path
        for package in ("service", "evals")
        for path in sorted((root / package).rglob("*.py"))
        if not (path.parent.name == "extraction" and path.name in STRATEGY_MODULES)
        and "bench" not in path.relative_to(root).parts
    ]
    named = ("service/extraction/pipeline.py", "service/llm/backend.py", "service/api/app.py",
             "evals/report.py", "evals/runner.py", "evals/cli.py")  # fmt: skip
    assert {root / n for n in named} <= set(scanned)
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in scanned
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if NAME_CHECK.search(line)
    ]
    assert found == []
