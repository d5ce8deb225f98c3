"""The hybrid's labelling calls: which candidates are asked about, and the words each
call shows the model."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.nlp import parse
from service.extraction.strategies import HYBRID_STEPS
from service.extraction.tasks import in_context, names_speaker, plan

TEXT = (
    "Rescuers reached the village on Monday.\n\n"
    "The mayor Ana Lusk said the road was cut. \u201cWe need help now,\u201d she added.\n\n"
    "\u201cNobody came,\u201d Ana Lusk said."
)


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (0, "[[\u201cNobody came,\u201d]] Ana Lusk said."),
        (1, "\u201cWe need help now,\u201d she added. [[\u201cNobody came,\u201d]] Ana Lusk said."),
        (
            2,
            "The mayor Ana Lusk said the road was cut. \u201cWe need help now,\u201d she added. "
            "[[\u201cNobody came,\u201d]] Ana Lusk said.",
        ),
    ],
)
def test_in_context_adds_whole_sentences_before(nlp: Any, before: int, expected: str) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    start = TEXT.index("\u201cNobody")
    end = TEXT.index(" Ana Lusk said.")
    assert in_context(article, start, end, before=before) == expected


def test_the_first_sentence_has_nothing_before_it(nlp: Any) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    start = TEXT.index("Monday")
    assert in_context(article, start, start + 6, before=3) == (
        "Rescuers reached the village on [[Monday]]."
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('The mayor Ana Lusk ordered an "all-out" search.', True),
        ('Officials promised an "all-out" search on Monday.', False),
        # a name inside the quote is no speaker
        ('"Ana Lusk will lead the search," it read.', False),
    ],
)
def test_names_speaker(nlp: Any, text: str, named: bool) -> None:
    article = parse(text, nlp, HYBRID_STEPS)
    [quote] = article.quotes
    assert names_speaker(article, quote) is named


def test_a_quote_whose_sentence_names_nobody_is_shown_with_the_sentence_before(
    nlp: Any,
) -> None:
    text = (
        'The minister Ana Lusk visited the town on Monday.\n\n"We will rebuild," the '
        "statement read."
    )
    article = parse(text, nlp, HYBRID_STEPS)
    [task] = [t for t in plan(article) if t.name == "speakers"]
    assert task.item == (
        'The minister Ana Lusk visited the town on Monday. [["We will rebuild,"]] the '
        "statement read."
    )


def test_every_number_of_a_long_article_is_asked_about_once(nlp: Any) -> None:
    text = "\n\n".join(f"Officials counted {i + 3} ambulances on day {i}." for i in range(250))
    article = parse(text, nlp, HYBRID_STEPS)
    asked = [t.index for t in plan(article) if t.name == "numbers"]
    assert len(text) > 2 * 5000 and len(article.numbers) >= 250
    assert asked == list(range(len(article.numbers)))
