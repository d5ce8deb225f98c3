"""Talks sentences: found by general news vocabulary, naming at least one side."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.events import find_events
from service.candidates.names import find_names
from tests.conftest import read_article


@pytest.mark.parametrize(
    ("sentence", "kinds"),
    [
        ("Negotiators met in Doha for a third round of talks.", ["talks"]),
        ("The Sudanese delegations agreed on a ceasefire after the strikes.", ["talks"]),
        ("Envoys from Chile and Peru held a summit on water.", ["talks"]),
        ("Our delegation made a colossal effort.", []),  # no side named: nothing to label
        # talks wanted, planned or proposed are not talks held
        ("Kenya said it is willing to negotiate with the rebels.", []),
        ("Serbia and Kosovo will meet in Brussels next week.", []),
        ("The UN urged Ethiopia to hold talks with Tigray.", []),
        ("Artillery shelled the hospital overnight.", []),
        ("Rain fell all day and the river rose.", []),
        # an agreement signed is talks held
        ("The government and the rebels signed a peace deal in Helsinki.", ["talks"]),
        # "according to" is no accord
        ("According to the Red Cross, 28 civilians died in Qana.", []),
    ],
)
def test_event_kinds(nlp: Any, sentence: str, kinds: list[str]) -> None:
    article = read_article(nlp, sentence, find_events)
    assert sorted(e.kind for e in article.events) == kinds
    for event in article.events:
        assert sentence[event.start : event.end].strip() == sentence


@pytest.mark.parametrize(
    ("sentence", "round_", "format_", "venue"),
    [
        ("Negotiators from Sudan met in Jeddah for a second round of talks.", 2, None, "Jeddah"),
        ("Israeli and Hamas envoys held talks by video link on Monday.", None, "video", None),
        (
            "Colombian rebels met government envoys face-to-face in Havana.",
            None,
            "in_person",
            "Havana",
        ),
        ("Armenia and Azerbaijan held round 3 of the peace talks.", 3, None, None),
        ("Sudan peace talks in Jeddah", None, None, "Jeddah"),  # a headline: no verb at all
        ("The French president spoke to Zelensky by phone about a ceasefire.", None, "phone", None),
    ],
)
def test_what_a_talks_sentence_states(
    nlp: Any, sentence: str, round_: int | None, format_: str | None, venue: str | None
) -> None:
    [event] = read_article(nlp, sentence, find_events).events
    assert (event.round, event.format, event.venue) == (round_, format_, venue)


@pytest.mark.parametrize(
    ("text", "sides_before"),
    [
        # "they" are named by the sentence before, which the model is then shown
        (
            "Sudan and South Sudan signed a border deal on Thursday. They held four days of "
            "talks in Addis Ababa.",
            [False, True],
        ),
        ("Rice arrived in Tbilisi on Friday. The pair met for five hours.", [True]),
        # no one before to name them: nothing to label
        ("They held four days of talks.", []),
    ],
)
def test_talks_whose_sides_the_sentence_before_names(
    nlp: Any, text: str, sides_before: list[bool]
) -> None:
    article = read_article(nlp, text, find_names, find_events)
    assert [e.sides_before for e in article.events] == sides_before
