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


@pytest.mark.parametrize(
    ("text", "first"),
    [
        # a headline with no full stop, then the lede: two sentences
        (
            "Man fatally shot on East Side\n\nA male was killed Monday.",
            "Man fatally shot on East Side",
        ),
        (
            "Teen in critical condition after shooting\n\n\nFour teens were shot.",
            "Teen in critical condition after shooting",
        ),
        ("Photo: Pro 21 Video\r\n\r\nTwo men were wounded.", "Photo: Pro 21 Video"),
    ],
)
def test_a_blank_line_ends_a_sentence(nlp: Any, text: str, first: str) -> None:
    lede = text.index(text.split("\n")[-1])
    assert [s.text.strip() for s in nlp(text).sents if s.start_char < lede] == [first]


def test_a_single_line_break_leaves_the_sentence_to_the_parser(nlp: Any) -> None:
    text = "Police said two men\nwere shot on Monday."
    assert len(list(nlp(text).sents)) == 1


def test_a_paragraphs_first_word_is_no_sentence_of_its_own(nlp: Any) -> None:
    text = "Four Shot Overnight in Wilmington\n\nFour people were shot and wounded early Monday."
    lede = [s.text.strip() for s in nlp(text).sents][-1]
    assert lede == "Four people were shot and wounded early Monday."


def test_a_figure_alone_runs_on_into_its_label(nlp: Any) -> None:
    text = (
        "Numbers At A Glance\n\n5,582\n\nEstimated Fatalities Resulting from the Earthquake"
        "\n\n2.8 million\n\nEstimated Number of People Displaced"
    )
    sents = [s.text for s in nlp(text).sents]
    assert any(s.startswith("5,582\n\nEstimated Fatalities") for s in sents)
    assert any(s.startswith("2.8 million\n\nEstimated Number") for s in sents)
