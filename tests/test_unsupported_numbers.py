"""Numbers no news text states are refused as unsupported: a model's `1e999` or 400 copied
digits (inf in a float, an int past float's range), NaN. No response carries Infinity, NaN,
or a null where the schema requires a number, through either strategy that reads numbers."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, labels, tool_call
from service.numbers import is_stated, plausible, same_number
from tests.test_app import assert_error_shape

TEXT = "Officials said 12 people were killed in Kyiv on Monday."
DIGITS = "9" * 400  # a count "copied" 400 digits long: past float's range
GOOD = {"figures": [{"evidence": TEXT, "value": 12, "what": "people killed"}]}


def strict_json(text: str) -> Any:
    """The body parsed as JSON proper: Infinity, -Infinity and NaN are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"the body carries {constant}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def numbers_of(facts: dict[str, Any]) -> list[Any]:
    """Every count, upper bound and figure value in a response's facts."""
    found = [f["value"] for f in facts["figures"]]
    for name in ("casualties", "displacement"):
        found += [v for f in facts[name] for v in (f["count"], f["count_max"]) if v is not None]
    return found


def _figure_answer(value: str) -> str:
    """A tool call's raw arguments whose one figure has `value` written as given."""
    return f'{{"figures": [{{"evidence": "{TEXT}", "value": {value}, "what": "people"}}]}}'


@pytest.mark.parametrize(
    ("value", "finite", "stated"),
    [
        (math.inf, False, False),
        (-math.inf, False, False),
        (math.nan, False, False),
        (10**400, False, False),  # past float's range: same_number raised OverflowError
        (1e20, True, False),  # past LARGEST: no news text states it
        (12, True, True),
        (12.0, True, True),
    ],
    ids=["inf", "-inf", "nan", "int-400-digits", "1e20", "int", "float"],
)
def test_only_finite_numbers_match_and_only_plausible_ones_are_stated(
    value: float, finite: bool, stated: bool
) -> None:
    # inf was "the same" as every number: |inf - n| <= 0.005 * inf
    assert same_number(value, value) is finite
    assert same_number(value, 12) is (finite and value == 12)
    assert is_stated(value, TEXT) is stated
    assert plausible(value) is stated


@pytest.mark.parametrize("value", ["1e999", "-1e999", DIGITS, "NaN", "Infinity"])
def test_a_non_finite_figure_is_refused_and_reasked(
    fake_llm: FakeLLM, start_service: Any, value: str
) -> None:
    """The schema refuses it, so instructor re-asks with the reason; the second answer is
    the one returned, never a null value."""
    fake_llm.queue(tool_call(_figure_answer(value)), tool_call(GOOD))
    r = start_service().post("/extract", json={"text": TEXT})
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    assert [f["value"] for f in body["facts"]["figures"]] == [12]
    assert body["meta"]["attempts"] == 2
    reask = json.dumps(fake_llm.requests[1]["messages"])
    assert "finite number" in reask  # the model is told why


@pytest.mark.parametrize("value", ["1e999", DIGITS])
def test_a_model_that_insists_gets_502_not_a_null(
    fake_llm: FakeLLM, start_service: Any, value: str
) -> None:
    fake_llm.default = tool_call(_figure_answer(value))
    r = start_service(llm_reasks=1).post("/extract", json={"text": TEXT})
    strict_json(r.text)
    assert_error_shape(r, 502, "llm_invalid_output")


@pytest.mark.parametrize("policy", ["drop", "flag"])
def test_a_count_past_floats_range_is_an_unsupported_number(
    fake_llm: FakeLLM, start_service: Any, policy: str
) -> None:
    """An int of 400 digits is valid JSON but no count: the number check refuses it (it
    raised OverflowError, a 500, before), and the policy drops or flags it."""
    casualty = f'{{"evidence": "{TEXT}", "count": {DIGITS}, "outcome": "killed"}}'
    fake_llm.default = tool_call(f'{{"casualties": [{casualty}]}}')
    r = start_service().post("/extract", json={"text": TEXT, "ungrounded": policy})
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    if policy == "drop":
        assert body["facts"]["casualties"] == []
        [dropped] = body["dropped"]
        assert (dropped["path"], dropped["checks"]) == ("casualties[0]", ["number_not_in_evidence"])
    else:
        [entry] = body["grounding"]
        assert entry["checks"] == ["number_not_in_evidence"]


def test_the_hybrid_reads_no_unsupported_number_from_the_text(
    fake_llm: FakeLLM, start_service: Any
) -> None:
    """The hybrid's numbers are the text's own: a 400-digit run and `1e999` in the article
    give no count and no figure, whatever the model labels them."""
    fake_llm.by_tool = labels()  # every number "killed"
    text = (
        f"Officials said {DIGITS} people were killed in Kyiv on Monday. Another 1e999 "
        f"residents fled, and {DIGITS}.5 million dollars were lost. 12 people were injured."
    )
    r = start_service(strategy="hybrid").post("/extract", json={"text": text, "ungrounded": "flag"})
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    found = numbers_of(body["facts"])
    assert 12 in found
    assert all(isinstance(n, int | float) and plausible(n) for n in found), found
