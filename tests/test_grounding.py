"""Evidence alignment: exact, then normalised, then fuzzy, with offsets into the text."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from schemas.facts import Casualties, NewsFacts
from service.extraction.grounding import (
    EVIDENCE_NOT_FOUND,
    NUMBER_NOT_IN_EVIDENCE,
    PERSON_NOT_IN_ARTICLE,
    QUOTE_NOT_IN_ARTICLE,
    align,
    drop_ungrounded,
    ground,
)
from service.folding import normalize
from tests.conftest import FACTS_004, SEED_004, SEEDS


@pytest.mark.parametrize(
    ("evidence", "match", "span"),
    [
        ("2,000 civilians have been killed", "exact", "2,000 civilians have been killed"),
        ("\"I don't bite.", "normalized", "\u201cI don\u2019t bite."),
        ("UKRAINE AND RUSSIA ESTABLISH", "normalized", "Ukraine and Russia establish"),
        (
            "More than 1 million refugees have fled   across Ukraine's borders",
            "normalized",
            "More than 1 million refugees have fled across Ukraine\u2019s borders",
        ),
        (
            "Both nations agreed to set up humanitarian corridors",
            "fuzzy",
            "Both nations have agreed to set up humanitarian corridors",
        ),
        ("Kherson was shelled by artillery overnight", "none", None),
        ("", "none", None),
    ],
)
def test_align_on_seed_004(evidence: str, match: str, span: str | None) -> None:
    start, end, level = align(evidence, SEED_004)
    assert level == match
    if match == "none":
        assert start is None and end is None
        return
    assert start is not None and end is not None
    assert SEED_004[start:end] == span


def test_normalize_folds_quotes_dashes_case_and_space() -> None:
    assert normalize("\u201cA\u2014B\u201d  \n It\u2019s") == '"a-b" it\'s'


def test_ground_gives_one_entry_per_fact_with_paths() -> None:
    entries = ground(NewsFacts.model_validate(FACTS_004), SEED_004)
    assert [e.path for e in entries] == [
        "people[0]",
        "negotiations[0]",
        "casualties[0]",
        "quotes[0]",
    ]
    assert all(e.match != "none" for e in entries)


@pytest.mark.parametrize(
    ("bad", "dropped_paths"),
    [
        ({}, []),
        (
            {"casualties": [{"evidence": "nowhere in it", "count": 3, "outcome": "killed"}]},
            ["casualties[0]"],
        ),
        ({"people": [{"evidence": "Mykhailo Podolyak", "name": "Olga Nobody"}]}, ["people[0]"]),
    ],
    ids=["nothing-fails", "casualty-first", "person-first"],
)
def test_drop_keeps_the_survivors_grounding_at_their_new_paths(
    bad: dict[str, list[dict[str, Any]]], dropped_paths: list[str]
) -> None:
    """What drop keeps is exactly what grounding the survivors afresh would give."""
    data = {name: [*bad.get(name, []), *facts] for name, facts in FACTS_004.items()}
    facts = NewsFacts.model_validate(data)
    kept, kept_grounding, dropped = drop_ungrounded(facts, ground(facts, SEED_004))
    assert [d.path for d in dropped] == dropped_paths
    assert kept == NewsFacts.model_validate(FACTS_004)
    assert kept_grounding == ground(kept, SEED_004)


SEED_002 = (SEEDS / "002_a80b65d11d26ffdc.txt").read_text(encoding="utf-8")
# Seed 004 as a mail client hard-wraps it at 72 columns: spans now cross line breaks.
SEED_004_WRAPPED = "\n".join(textwrap.fill(p, 72) if p else p for p in SEED_004.split("\n"))
# Seed 004 naming its adviser in Ukrainian: a non-ASCII name, in NFC and decomposed forms.
SEED_004_CYRILLIC = SEED_004.replace("Mykhailo Podolyak", "Михайло Подоляк")
SEED_004_ACCENTED = SEED_004.replace("Filippo Grandi", "Fi\u0301lippo Grandi")


@pytest.mark.parametrize(
    ("text", "evidence", "match", "span"),
    [
        pytest.param(
            SEED_002,
            '"Putin\'s military plan to quickly capture Ukraine, it is clear now, has failed,"',
            "normalized",
            "\u201cPutin\u2019s military plan to quickly capture Ukraine, it is clear now, has"
            " failed,\u201d",
            id="curly-quotes-002",
        ),
        pytest.param(
            SEED_004_WRAPPED,
            "Both nations have agreed to set up humanitarian corridors, Ukrainian presidential "
            "adviser Mykhailo Podolyak said.",
            "normalized",
            None,  # the span is the wrapped text, line break included
            id="quote-across-line-break",
        ),
        pytest.param(
            SEED_004,
            "to these humanitarian corridors",
            "exact",
            "to these humanitarian corridors",
            id="span-twice-first-occurrence",
        ),
        pytest.param(
            SEED_004_CYRILLIC,
            "Ukrainian presidential adviser Михайло Подоляк said",
            "exact",
            "Ukrainian presidential adviser Михайло Подоляк said",
            id="non-ascii-name-exact",
        ),
        pytest.param(
            SEED_004_ACCENTED,
            "United Nations High Commissioner for Refugees Fílippo Grandi",
            "normalized",
            "United Nations High Commissioner for Refugees Fi\u0301lippo Grandi",
            id="non-ascii-name-decomposed",
        ),
        pytest.param(
            SEED_002,
            "a U.S. official estimated that 5,000 to 6,000 Russian troops had died",
            "fuzzy",
            "a U.S. official estimated that 5,000 to six,000 Russian troops had died",
            id="paraphrased-number-002",
        ),
    ],
)
def test_align_on_seed_variants(text: str, evidence: str, match: str, span: str | None) -> None:
    start, end, level = align(evidence, text)
    assert level == match
    assert start is not None and end is not None
    if span is not None:
        assert text[start:end] == span
    else:
        assert "\n" in text[start:end]
        assert normalize(text[start:end]) == normalize(evidence)


def test_span_that_occurs_twice_resolves_to_its_first_occurrence() -> None:
    start, _, _ = align("these humanitarian corridors", SEED_004)
    assert start == SEED_004.find("these humanitarian corridors")
    assert SEED_004.count("these humanitarian corridors") == 2


def _checks(list_name: str, fact: dict[str, Any], text: str) -> list[str]:
    facts = NewsFacts.model_validate({list_name: [fact]})
    [entry] = ground(facts, text)
    return entry.checks


@pytest.mark.parametrize(
    ("text", "list_name", "fact", "checks"),
    [
        pytest.param(
            SEED_004,
            "casualties",
            {"evidence": "2,000 civilians have been killed", "count": 2000, "outcome": "killed"},
            [],
            id="count-in-digits",
        ),
        pytest.param(
            SEED_004,
            "casualties",
            {"evidence": "Twenty-two civilians were killed", "count": 22, "outcome": "killed"},
            [],
            id="count-in-words",
        ),
        pytest.param(
            SEED_004,
            "casualties",
            {"evidence": "Twenty-two civilians were killed", "count": 20, "outcome": "killed"},
            [NUMBER_NOT_IN_EVIDENCE],
            id="wrong-count",
        ),
        pytest.param(
            SEED_002,
            "casualties",
            {
                "evidence": "5,000 to six,000 Russian troops had died",
                "count": 5000,
                "count_max": 6000,
                "outcome": "killed",
            },
            [],
            id="range-with-paraphrased-bound",
        ),
        pytest.param(
            SEED_002,
            "casualties",
            {
                "evidence": "5,000 to six,000 Russian troops had died",
                "count": 5000,
                "count_max": 7000,
                "outcome": "killed",
            },
            [NUMBER_NOT_IN_EVIDENCE],
            id="range-with-invented-bound",
        ),
        pytest.param(
            SEED_004,
            "displacement",
            {
                "evidence": "More than 1 million refugees have fled across Ukraine\u2019s borders",
                "count": 1000000,
                "movement": "fled_abroad",
            },
            [],
            id="one-million",
        ),
        pytest.param(
            SEED_004,
            "figures",
            {"evidence": "just not at 30 meters", "value": 30, "unit": "meters", "what": "table"},
            [],
            id="figure-stated",
        ),
        pytest.param(
            SEED_004,
            "figures",
            {"evidence": "Kyiv was surrounded by 40,000 troops", "value": 40000, "what": "troops"},
            [EVIDENCE_NOT_FOUND],
            id="invented-figure",
        ),
        pytest.param(
            SEED_004,
            "quotes",
            {
                "evidence": "\u201cI don\u2019t bite. What are you afraid of?\u201d",
                "speaker": "Volodymyr Zelensky",
                "text": "I don't bite. What are you afraid of?",
            },
            [],
            id="quote-straightened",
        ),
        pytest.param(
            SEED_004,
            "quotes",
            {
                "evidence": "\u201cI don\u2019t bite. What are you afraid of?\u201d",
                "speaker": "Volodymyr Zelensky",
                "text": "I do not bite. Why are you afraid?",
            },
            [QUOTE_NOT_IN_ARTICLE],
            id="quote-paraphrased",
        ),
        pytest.param(
            SEED_004,
            "people",
            {"evidence": "Ukrainian presidential adviser Mykhailo Podolyak", "name": "Podolyak"},
            [],
            id="person-by-surname",
        ),
        pytest.param(
            SEED_004_CYRILLIC,
            "people",
            {"evidence": "adviser Михайло Подоляк", "name": "Михайло Подоляк"},
            [],
            id="person-non-ascii",
        ),
        pytest.param(
            SEED_004,
            "people",
            {
                "evidence": "Ukrainian presidential adviser Mykhailo Podolyak",
                "name": "Dmytro Kuleba",
            },
            [PERSON_NOT_IN_ARTICLE],
            id="person-not-named",
        ),
    ],
)
def test_checks_fail_where_they_should(
    text: str, list_name: str, fact: dict[str, Any], checks: list[str]
) -> None:
    assert _checks(list_name, fact, text) == checks


TWICE = "Kano said 5 died. Later Kano said 5 died."


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (None, (0, 4, "exact")),  # no span: the first place the evidence is found
        ((24, 28), (24, 28, "exact")),  # the span it was built from: no search
        ((1, 5), (0, 4, "exact")),  # a span that no longer holds the evidence: searched
    ],
    ids=["searched", "built-from", "stale-span"],
)
def test_a_fact_is_grounded_where_it_was_built(
    span: tuple[int, int] | None, expected: tuple[int, int, str]
) -> None:
    from schemas.facts import Location

    fact = Location(evidence="Kano", name="Kano")
    if span is not None:
        fact.at(*span)
    entry = ground(NewsFacts(locations=[fact]), TWICE)[0]
    assert (entry.start, entry.end, entry.match) == expected


NAMED = "Kevie Durham, 24, was killed in the shooting."


@pytest.mark.parametrize(
    ("counted", "span", "checks"),
    [
        (True, (0, 28), []),  # the parse counted the one person its span names
        (False, (0, 28), [NUMBER_NOT_IN_EVIDENCE]),  # a model's 1: no numeral says it
        (True, (1, 29), [NUMBER_NOT_IN_EVIDENCE]),  # its span no longer holds: no count holds
    ],
    ids=["counted", "not-counted", "stale-span"],
)
def test_a_count_the_parse_made_is_grounded_by_its_span(
    counted: bool, span: tuple[int, int], checks: list[str]
) -> None:
    fact = Casualties(evidence="Kevie Durham, 24, was killed", count=1, outcome="killed")
    fact.at(*span)
    if counted:
        fact.counting()
    entry = ground(NewsFacts(casualties=[fact]), NAMED)[0]
    assert entry.checks == checks


def test_a_span_is_no_part_of_the_schema_or_the_json() -> None:
    from schemas.facts import Location

    fact = Location(evidence="Kano", name="Kano").at(0, 4)
    assert "span" not in fact.model_dump() and "_span" not in str(Location.model_json_schema())


def _long_article(words: int) -> str:
    """A long article of varied sentences (seed 004 repeated with its sentences numbered)."""
    sentences = [s.strip() for s in SEED_004.split(".") if s.strip()]
    out, n = [], 0
    while sum(len(s) for s in out) < words * 6:
        out.append(f"{sentences[n % len(sentences)]} ({n}).")
        n += 1
    return " ".join(out)


@pytest.mark.timeout(30)  # a hang guard: before the bound, 5,000 characters took a minute
@pytest.mark.parametrize("length", [700, 2_500, 5_000, 20_000])
def test_a_long_evidence_span_that_matches_only_fuzzily_is_found_in_bounded_time(
    length: int,
) -> None:
    text = _long_article(length * 3)
    start = text.index(" ", len(text) // 3) + 1
    end = text.index(" ", start + length)
    evidence = text[start:end]
    # a typo every 40 characters: no exact or normalised match, a 97% fuzzy one
    garbled = "".join("#" if i % 40 == 20 and c.isalpha() else c for i, c in enumerate(evidence))
    found_start, found_end, match = align(garbled, text)
    assert match == "fuzzy"
    assert found_start is not None and found_end is not None
    assert abs(found_start - start) <= 2 and abs(found_end - end) <= 2


@pytest.mark.parametrize("length", [700, 5_000])
def test_a_long_span_the_article_does_not_hold_is_not_found(length: int) -> None:
    text = _long_article(20_000)
    other = _long_article(length).upper()[::-1]
    assert align(other[:length], text)[2] == "none"
