"""Scorer self-tests: gold against itself is perfect, and each perturbation moves exactly
the metrics it should."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from evals.gold import GOLD_DIR, load_case
from evals.scoring import CaseOutcome, Counts, evaluate_case, summarize
from schemas.facts import FACT_LISTS, Figure, NewsFacts

CASE = load_case(GOLD_DIR / "004_8b1c8c72e30bd7ca.yaml")


def perturbed(change: Callable[[dict[str, Any]], None]) -> NewsFacts:
    """The gold facts of seed 004 with one change applied."""
    data = CASE.facts.model_dump()
    change(data)
    return NewsFacts.model_validate(data)


def test_gold_against_itself_is_perfect() -> None:
    summary = summarize([CaseOutcome.build(CASE, CASE.facts)])
    assert summary.micro.f1 == 1.0 and summary.macro_f1 == 1.0
    assert summary.grounding.rate == 1.0
    assert summary.unsupported_numbers.rate == 0.0
    assert all(c.fp == c.fn == 0 for c in summary.fields.values())
    assert summary.field_micro.f1 == 1.0 and summary.slots.f1 == 1.0


def test_empty_prediction_has_zero_recall() -> None:
    summary = summarize([CaseOutcome.build(CASE, NewsFacts())])
    assert summary.micro.recall == 0.0 and summary.micro.f1 == 0.0
    assert summary.grounding.rate is None


def test_failed_case_is_a_failure_row_not_a_crash() -> None:
    outcome = CaseOutcome.build(CASE, None, error="llm_timeout")
    scores = {s.name: s for s in evaluate_case(outcome)}
    assert scores["schema_valid"].value == 0.0 and "llm_timeout" in scores["schema_valid"].reason
    assert summarize([outcome]).schema_valid.rate == 0.0


def _wrong_count(d: dict[str, Any]) -> None:
    d["casualties"][0]["count"] = 2500


def _drop_quote(d: dict[str, Any]) -> None:
    del d["quotes"][0]


def _misattribute(d: dict[str, Any]) -> None:
    d["quotes"][0]["speaker"] = "Vladimir Putin"


def _invent_figure(d: dict[str, Any]) -> None:
    d["figures"].append(Figure(value=999, unit="USD", what="x", evidence="made up").model_dump())


def _wrong_population(d: dict[str, Any]) -> None:
    d["casualties"][0]["population"] = "soldiers"


def _alias_and_honorific(d: dict[str, Any]) -> None:
    d["people"][0]["name"] = "Mr. Podoliak"


@pytest.mark.parametrize(
    ("change", "expected", "unsupported", "attribute"),
    [
        (_wrong_count, {"casualties": Counts(1, 1, 1)}, 1, None),
        (_drop_quote, {"quotes": Counts(8, 0, 1)}, 0, None),
        (_misattribute, {"quotes": Counts(8, 1, 1)}, 0, None),
        (_invent_figure, {"figures": Counts(1, 1, 0)}, 1, None),
        (_wrong_population, {}, 0, ("casualties", "population")),
        (_alias_and_honorific, {}, 0, None),
    ],
    ids=["wrong-count", "dropped-quote", "misattributed-speaker", "invented-figure",
         "wrong-attribute", "alias-matches"],
)  # fmt: skip
def test_perturbation_moves_exactly_its_metrics(
    change: Callable[[dict[str, Any]], None],
    expected: dict[str, Counts],
    unsupported: int,
    attribute: tuple[str, str] | None,
) -> None:
    outcome = CaseOutcome.build(CASE, perturbed(change))
    for name in FACT_LISTS:
        gold_n = len(getattr(CASE.facts, name))
        assert outcome.counts(name) == expected.get(name, Counts(gold_n, 0, 0)), name
    assert outcome.unsupported_numbers().hits == unsupported
    wrong = {key for key, c in outcome.fields().items() if c.fp or c.fn}
    assert wrong == ({attribute} if attribute else set())


def test_counts_rates() -> None:
    c = Counts(tp=3, fp=1, fn=2)
    assert (c.precision, c.recall) == (0.75, 0.6)
    assert round(c.f1, 4) == round(2 * 0.75 * 0.6 / 1.35, 4)
    assert Counts().f1 == 0.0 and Counts().empty


def test_gold_passes_every_grounding_check() -> None:
    summary = summarize([CaseOutcome.build(CASE, CASE.facts)])
    assert sum(summary.failed_checks.values()) == 0
    assert summary.match_levels["none"] == 0
    assert summary.dropped_micro == summary.micro


@pytest.mark.parametrize(
    ("change", "checks"),
    [
        (_invent_figure, {"evidence_not_found", "number_not_in_evidence"}),
        (_wrong_count, {"number_not_in_evidence"}),
    ],
)
def test_drop_view_removes_exactly_the_failed_facts(
    change: Callable[[dict[str, Any]], None], checks: set[str]
) -> None:
    summary = summarize([CaseOutcome.build(CASE, perturbed(change))])
    assert {name for name, n in summary.failed_checks.items() if n} == checks
    assert all(n <= 1 for n in summary.failed_checks.values())
    # Dropping the failed fact removes one predicted fact and nothing else.
    flag, drop = summary.micro, summary.dropped_micro
    assert drop.tp + drop.fp == flag.tp + flag.fp - 1
    assert drop.precision >= flag.precision


def _first_casualty(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["casualties"][0].update(fields)

    return change


@pytest.mark.parametrize(
    ("change", "field_counts"),
    [
        # gold states reported_by; a prediction that leaves it out misses it
        (_first_casualty(reported_by=None), Counts(tp=0, fp=0, fn=1)),
        # another source disagrees: costs precision and recall
        (_first_casualty(reported_by="Russia's defence ministry"), Counts(tp=0, fp=1, fn=1)),
        # the acronym of the gold's words agrees
        (_first_casualty(reported_by="the UN"), Counts(tp=1, fp=0, fn=0)),
    ],
    ids=["missed", "disagree", "acronym"],
)
def test_field_verdicts_count(
    change: Callable[[dict[str, Any]], None], field_counts: Counts
) -> None:
    gold = CASE.facts.model_dump()
    gold["casualties"][0]["reported_by"] = "United Nations"
    case = CASE.__class__(CASE.article_id, CASE.text, NewsFacts.model_validate(gold), CASE.aliases)
    outcome = CaseOutcome.build(case, perturbed(change))
    assert outcome.fields()["casualties", "reported_by"] == field_counts


def test_spurious_field_costs_precision_and_slots() -> None:
    outcome = CaseOutcome.build(CASE, perturbed(_first_casualty(count_max=3000)))
    assert outcome.fields()["casualties", "count_max"] == Counts(tp=0, fp=1, fn=0)
    assert outcome.slots().fp == 1 and outcome.slots().fn == 0


def test_missed_fact_loses_all_its_slots() -> None:
    dropped = perturbed(lambda d: d["people"].pop(0))
    gold_person = CASE.facts.people[0]
    stated = 1 + sum(v is not None for v in (gold_person.role, gold_person.affiliation))
    assert CaseOutcome.build(CASE, dropped).slots().fn == stated
