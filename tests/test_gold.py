"""The gold files: schema-valid, complete in shape, every evidence verbatim in its article."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evals.gold import GOLD_DIR, SEEDS_DIR, joined_case, load_case, load_gold
from evals.matching import normalize_name
from schemas.facts import FACT_LISTS
from service.extraction.grounding import iter_facts

GOLD_FILES = sorted(GOLD_DIR.glob("*.yaml"))


def test_every_seed_has_a_gold_file() -> None:
    seeds = {p.stem for p in SEEDS_DIR.glob("*.txt")}
    assert {p.stem for p in GOLD_FILES} == seeds


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_gold_file_validates_and_names_its_article(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["article_id"] == path.stem
    assert set(raw["facts"]) == set(FACT_LISTS)
    case = load_case(path)  # validates every fact against schemas.facts
    assert sum(len(getattr(case.facts, n)) for n in FACT_LISTS) > 0


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_every_evidence_and_quote_is_verbatim(path: Path) -> None:
    case = load_case(path)
    missing = [p for p, f in iter_facts(case.facts) if f.evidence not in case.text]  # type: ignore[attr-defined]
    missing += [f"quote text {q.text!r}" for q in case.facts.quotes if q.text not in case.text]
    assert missing == []


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_aliases_belong_to_named_facts(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for list_name, facts in raw["facts"].items():
        for fact in facts or []:
            if "aliases" in fact:
                assert "name" in fact, f"{list_name}: aliases on a fact without a name"
                assert isinstance(fact["aliases"], list)


def test_load_gold_is_sorted_by_article() -> None:
    ids = [c.article_id for c in load_gold()]
    assert ids == sorted(ids)


def test_joined_case_is_every_text_and_the_union_of_the_facts() -> None:
    cases = load_gold()
    joined = joined_case(cases)
    assert joined.article_id == "joined_000_002_004"
    assert all(case.text in joined.text for case in cases)
    for name in ("casualties", "quotes", "attacks"):
        assert len(getattr(joined.facts, name)) == sum(len(getattr(c.facts, name)) for c in cases)
    people = [p.name for p in joined.facts.people]
    assert len(people) < sum(len(c.facts.people) for c in cases)  # shared people counted once
    assert len({normalize_name(n) for n in people}) == len(people)
    for fact in (f for name in FACT_LISTS for f in getattr(joined.facts, name)):
        assert fact.evidence in joined.text
    # A person named differently in two seeds keeps every spelling as an alias.
    zelensky = next(n for n in people if "zelensk" in n.lower())
    assert {"Zelensky", "Zelenskyy"} <= set(joined.names_of(zelensky))
