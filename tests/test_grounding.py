"""Evidence alignment: exact, then normalised, then fuzzy, with offsets into the text."""

from __future__ import annotations

import pytest

from schemas.facts import NewsFacts
from service.grounding import align, ground, normalize
from tests.conftest import FACTS_004, SEED_004


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
