"""Quotes: each quotation with the speaker the sentence around it names."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.names import find_names
from service.candidates.quotes import find_quotes
from tests.conftest import read_article


def _speakers(nlp: Any, text: str) -> list[tuple[str, str | None]]:
    article = read_article(nlp, text, find_names, find_quotes)
    return [(text[q.start : q.end], q.speaker) for q in article.quotes]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The name the parse hangs on the organisation in the speaker's title.
        (
            "A spokeswoman for the Red Crescent, Amina Saleh, said \u201cwe found twelve.\u201d",
            [("we found twelve.", "Amina Saleh")],
        ),
        # Attribution after the quote, name first or verb first.
        (
            "\u201cThe water is still rising,\u201d Maria Santos said on Tuesday.",
            [("The water is still rising,", "Maria Santos")],
        ),
        (
            '"We have no power," said Tomas Berg, a local official.',
            [("We have no power,", "Tomas Berg")],
        ),
        # Attribution before the quote, with a colon.
        (
            "Health Minister Ama Owusu told reporters: \u201cThe clinics are full.\u201d",
            [("The clinics are full.", "Ama Owusu")],
        ),
        # A pronoun is the person last named as a subject, not the last name mentioned.
        (
            "Governor Liu Wei asked the army to help Chen Bo. \u201cWe cannot wait,\u201d he said.",
            [("We cannot wait,", "Liu Wei")],
        ),
        # A body or group speaks when no person is named.
        (
            "\u201cAid is on its way,\u201d the regional council said in a statement.",
            [("Aid is on its way,", "regional council")],
        ),
        # The speaker through an appositive: "the spokesman, X, wrote".
        (
            "The agency's spokesman, Omar Haddad, wrote that the claim was \u201cfalse.\u201d",
            [("false.", "Omar Haddad")],
        ),
        # A quote right after another continues its speaker.
        (
            "\u201cWe lost everything,\u201d said farmer Jose Ortiz. "
            "\u201cThe river took it.\u201d",
            [("We lost everything,", "Jose Ortiz"), ("The river took it.", "Jose Ortiz")],
        ),
        # No cue and no quote before it: no speaker.
        ("The sign read \u201cclosed\u201d all week.", [("closed", None)]),
    ],
)
def test_speakers(nlp: Any, text: str, expected: list[tuple[str, str | None]]) -> None:
    assert _speakers(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\u201cAn unclosed quote runs on\n\nand the next paragraph \u201chas one\u201d too.",
        '"""',
        "\u201d\u201d\u201c",
        "He said \u201c" + "word " * 2000,
    ],
)
def test_unbalanced_marks_give_quotes_or_none(nlp: Any, text: str) -> None:
    article = read_article(nlp, text, find_names, find_quotes)
    for quote in article.quotes:
        assert 0 <= quote.start < quote.end <= len(text)
