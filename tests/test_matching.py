"""Key rules of the matcher, one list at a time, and the one-to-one assignment."""

from __future__ import annotations

from typing import Any

import pytest

from evals.gold import GoldCase
from evals.matching import (
    field_agrees,
    match_list,
    normalize_name,
    token_overlap,
    units_agree,
)
from schemas import facts as f
from schemas.facts import NewsFacts

CASE = GoldCase(
    article_id="t",
    text="",
    facts=NewsFacts(),
    aliases={"Volodymyr Zelensky": ("Zelenskiy", "Zelenskyy"), "Kyiv": ("Kiev",)},
)
BITE = "I don't bite. What are you afraid of?"


def matched(list_name: str, gold: Any, pred: Any) -> bool:
    return bool(match_list(list_name, [gold], [pred], CASE).pairs)


@pytest.mark.parametrize(
    ("list_name", "gold", "pred", "expected"),
    [
        ("people", f.Person(name="Volodymyr Zelensky", evidence="e"),
         f.Person(name="Volodymyr Zelenskyy", evidence="e"), True),
        ("people", f.Person(name="Volodymyr Zelensky", evidence="e"),
         f.Person(name="Zelenskiy", evidence="e"), True),
        ("people", f.Person(name="Volodymyr Zelensky", evidence="e"),
         f.Person(name="Vladimir Putin", evidence="e"), False),
        ("locations", f.Location(name="Kyiv", evidence="e"), f.Location(name="Kiev", evidence="e"),
         True),
        ("casualties", f.Casualties(count=53, outcome="killed", evidence="e"),
         f.Casualties(count=53, outcome="injured", evidence="e"), False),
        ("displacement", f.Displacement(count=3810, movement="evacuated", evidence="e"),
         f.Displacement(count=3810, movement="evacuated", location="x", evidence="e"), True),
        ("attacks", f.Attack(target="theater", target_type="theater", location="Mariupol",
                             evidence="e"),
         f.Attack(target="drama theatre", target_type="theater", location="Mariupol",
                  evidence="e"), True),
        ("attacks", f.Attack(target="theater", target_type="theater", evidence="e"),
         f.Attack(target="theater", target_type="hospital", evidence="e"), False),
        ("negotiations", f.Negotiation(parties=["Ukraine", "Russia"], round=2, evidence="e"),
         f.Negotiation(parties=["Ukrainian delegation", "Russian delegation"], round=2,
                       evidence="e"), True),
        ("negotiations", f.Negotiation(parties=["Ukraine", "Russia"], venue="Kyiv", evidence="e"),
         f.Negotiation(parties=["Russia", "Ukraine"], venue="Kiev", evidence="e"), True),
        ("negotiations", f.Negotiation(parties=["Ukraine", "Russia"], round=2, evidence="e"),
         f.Negotiation(parties=["Ukraine", "Russia"], round=3, evidence="e"), False),
        ("negotiations", f.Negotiation(parties=["Russia", "Ukraine"], format="video", evidence="e"),
         f.Negotiation(parties=["Russia", "Ukraine"], round=4, evidence="e"), True),
        ("figures", f.Figure(value=1e11, unit="USD", what="damage", evidence="e"),
         f.Figure(value=100_200_000_000, unit="dollars", what="cost", evidence="e"), True),
        ("figures", f.Figure(value=1e11, unit="USD", what="damage", evidence="e"),
         f.Figure(value=1.1e11, unit="USD", what="damage", evidence="e"), False),
        ("quotes", f.Quote(speaker="Volodymyr Zelensky", text=BITE, evidence="e"),
         f.Quote(speaker="Zelenskyy", text="I don't bite.", evidence="e"), True),
        ("quotes", f.Quote(speaker="Volodymyr Zelensky", text=BITE, evidence="e"),
         f.Quote(speaker="Zelenskyy", text="bite", evidence="e"), False),
    ],
)  # fmt: skip
def test_key_rules(list_name: str, gold: Any, pred: Any, expected: bool) -> None:
    assert matched(list_name, gold, pred) is expected


def test_assignment_is_one_to_one_and_maximises_total() -> None:
    gold = [f.Person(name="Anna Smith", evidence="e"), f.Person(name="Anna Smyth", evidence="e")]
    pred = [f.Person(name="Anna Smyth", evidence="e"), f.Person(name="Anna Smith", evidence="e"),
            f.Person(name="Anna Smith", evidence="e")]  # fmt: skip
    m = match_list("people", gold, pred, CASE)
    assert sorted((p.gold, p.pred) for p in m.pairs) == [(0, 1), (1, 0)]
    assert m.spurious == [2] and m.missed == []


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Mr. Kuleba", "kuleba"), ("President Vladimir V. Putin", "vladimir v putin"),
     ("  Jen   Psaki ", "jen psaki")],
)  # fmt: skip
def test_normalize_name(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


def test_token_overlap_and_units() -> None:
    assert token_overlap("We need help!", "we need help") == 1.0
    assert token_overlap("a b", "c d") == 0.0
    assert units_agree("USD", "$") and units_agree("attacks", "attacks on health facilities")
    assert not units_agree("USD", "people")


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        (10, 10**400, False),  # a model's 400-digit count: disagrees, no OverflowError
        (10**400, 10**400, False),  # not even with itself: past float's range is no number
        (10, 10.02, True),
        (-(10**400), 5, False),
    ],
)
def test_field_agrees_on_numbers_past_floats_range(gold: Any, pred: Any, expected: bool) -> None:
    case = GoldCase(article_id="x", text="", facts=NewsFacts())
    assert field_agrees(gold, pred, case) is expected
