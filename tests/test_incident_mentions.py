"""One article read for incidents: the sentence a fact stands in."""

from __future__ import annotations

import pytest

from service.incidents.mentions import sentence_at

TEXT = (
    "From 4 a.m. on 24 February until 24 March, the Office recorded 2,788 casualties. "
    "Mr. Smith said so. \u201cIt is grim,\u201d he said.\nA new line starts here."
)


@pytest.mark.parametrize(
    ("word", "sentence"),
    [
        ("2,788", "From 4 a.m. on 24 February until 24 March, the Office recorded 2,788 "
                  "casualties."),  # an abbreviation before a lower-case word ends nothing
        ("grim", "\u201cIt is grim,\u201d he said."),
        ("new line", "A new line starts here."),
    ],
)  # fmt: skip
def test_a_fact_s_sentence_runs_from_stop_to_stop(word: str, sentence: str) -> None:
    assert sentence_at(TEXT, TEXT.index(word)) == sentence
