"""Event sentences: attacks and talks found by general news vocabulary."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.events import find_events
from tests.conftest import read_article


@pytest.mark.parametrize(
    ("sentence", "kinds"),
    [
        ("Artillery shelled the hospital overnight.", ["attack"]),
        ("An airstrike destroyed two schools in the north.", ["attack"]),
        ("Rebels attacked a convoy near the border.", ["attack"]),
        ("Negotiators met in Doha for a third round of talks.", ["talks"]),
        ("The delegations agreed on a ceasefire after the strikes.", ["attack", "talks"]),
        ("Rain fell all day and the river rose.", []),
    ],
)
def test_event_kinds(nlp: Any, sentence: str, kinds: list[str]) -> None:
    article = read_article(nlp, sentence, find_events)
    assert sorted(e.kind for e in article.events) == kinds
    for event in article.events:
        assert sentence[event.start : event.end].strip() == sentence
