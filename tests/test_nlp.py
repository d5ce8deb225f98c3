"""The parse of a long text in pieces: the pieces join back into the text, each is short,
and the joined Doc's candidates point into the text as sent."""

from __future__ import annotations

from typing import Any

import pytest

from evals.bench.hostile_bench import UNITS, hostile_article
from service.candidates.nlp import LONG_TEXT, PIECE_CHARS, parse, pieces
from service.candidates.pipes import FINDERS
from tests.conftest import SEED_004

COPIES = LONG_TEXT // len(SEED_004) + 2  # enough copies of the seed to be cut
SHAPES = {
    **{kind: hostile_article(kind, 60_000) for kind in UNITS},
    "seed 004 repeated": "\n\n".join([SEED_004] * COPIES),
    "no space at all": "x" * 50_000,
    "double spaces": "Ten  people  were  killed.  " * 2_000,
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_long_text_is_cut_into_short_pieces_that_join_back(name: str) -> None:
    text = SHAPES[name]
    cut = pieces(text)
    assert "".join(cut) == text
    assert len(cut) > 1
    assert all(len(piece) <= PIECE_CHARS for piece in cut[:-1])


def test_a_news_length_text_is_one_piece() -> None:
    text = (SEED_004 * 2)[:LONG_TEXT]
    assert pieces(text) == [text]


@pytest.mark.parametrize("name", ["seed 004 repeated", "mixed"])
def test_candidates_of_a_long_text_point_into_it(nlp: Any, name: str) -> None:
    text = SHAPES[name]
    article = parse(text, nlp, FINDERS)
    assert article.doc.text == text
    numbers = article.doc.spans["numbers"]
    assert len(numbers) > 10
    for span in numbers:
        assert text[span.start_char : span.end_char] == span.text


def test_the_seed_parses_the_same_in_pieces_as_whole(nlp: Any) -> None:
    """Copies of seed 004 cut at paragraph breaks: every copy's entities are those of the
    seed parsed alone."""
    alone = [(e.text, e.label_) for e in parse(SEED_004, nlp).doc.ents]
    joined = parse("\n\n".join([SEED_004] * COPIES), nlp).doc
    found = [(e.text, e.label_) for e in joined.ents]
    assert len(pieces(joined.text)) > 1
    assert found == alone * COPIES
