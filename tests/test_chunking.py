"""Splitting long articles on paragraph and sentence boundaries, and merging their facts."""

from __future__ import annotations

import itertools
import re

import pytest

from schemas.facts import NewsFacts
from service.extraction.chunking import merge_facts, split_text
from tests.conftest import SEED_004, SEEDS

SEED_002 = (SEEDS / "002_a80b65d11d26ffdc.txt").read_text(encoding="utf-8")
PARAGRAPHS = [p.strip() for p in re.split(r"\n\s*\n|\n", SEED_002) if p.strip()]


def test_a_text_that_fits_is_one_piece_unchanged() -> None:
    assert split_text(SEED_004, 5000) == [SEED_004]


@pytest.mark.parametrize("max_chars", [1500, 3000, 5000])
def test_pieces_cover_every_paragraph_and_overlap(max_chars: int) -> None:
    pieces = split_text(SEED_002, max_chars)
    assert len(pieces) >= len(SEED_002) // max_chars
    assert all(len(p) <= max_chars + 2 * len(PARAGRAPHS) for p in pieces)
    for paragraph in PARAGRAPHS:
        if len(paragraph) <= max_chars:
            assert any(paragraph in piece for piece in pieces)
    # Each piece after the first starts with the paragraph that ended the one before.
    for before, after in itertools.pairwise(pieces):
        first = after.split("\n\n")[0]
        assert before.endswith(first)


def test_a_paragraph_longer_than_a_piece_is_cut_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(200))
    pieces = split_text(text, 1000)
    assert len(pieces) > 1
    assert all(len(p) <= 1100 for p in pieces)
    assert all(p.rstrip().endswith(".") for p in pieces)


def test_merge_keeps_one_of_each_fact_in_order() -> None:
    person = {"evidence": "adviser Mykhailo Podolyak", "name": "Mykhailo Podolyak"}
    same_person = {"evidence": "Podolyak, who accompanied", "name": "MYKHAILO  Podolyak"}
    cas = {"evidence": "2,000 civilians have been killed", "count": 2000, "outcome": "killed"}
    other = {"evidence": "Twenty-two civilians were killed", "count": 22, "outcome": "killed"}
    quote = {
        "evidence": "\u201cI don\u2019t bite.\u201d",
        "speaker": "Zelensky",
        "text": "I don\u2019t bite.",
    }
    same_quote = {"evidence": '"I don\'t bite."', "speaker": "Zelensky", "text": "I don't bite."}
    a = NewsFacts.model_validate({"people": [person], "casualties": [cas], "quotes": [quote]})
    b = NewsFacts.model_validate(
        {"people": [same_person], "casualties": [cas, other], "quotes": [same_quote]}
    )
    merged = merge_facts([a, b])
    assert [p.name for p in merged.people] == ["Mykhailo Podolyak"]
    assert [c.count for c in merged.casualties] == [2000, 22]
    assert len(merged.quotes) == 1
