"""Quotation marks read from the text alone: pairs, apostrophes, unclosed quotes."""

from __future__ import annotations

import pytest

from service.quotemarks import inside_quotes, quoted_spans


def _words(text: str) -> list[str]:
    return [text[q.start : q.end] for q in quoted_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cWe will rebuild,\u201d the mayor said.", ["We will rebuild,"]),
        ('"We will rebuild," the mayor said. "Soon."', ["We will rebuild,", "Soon."]),
        # Apostrophes are not quotes; a single-quoted scare quote is.
        ("The mayor's office called it 'a lie' on Monday.", ["a lie"]),
        ("Officials' statements differ.", []),
        # A quote left open runs to its paragraph's end, not into the next paragraph.
        ("\u201cWe will stay.\nNext paragraph \u201cnew\u201d.", ["We will stay.", "new"]),
        # A new opening mark before the old one closed ends the old one there.
        ("\u201cOne \u201cTwo\u201d", ["One", "Two"]),
        ("No quotation here.", []),
        ("\u201c\u201d empty", []),
        # A lone single quote far from any closing one is not a quotation.
        ("'" + "word " * 80 + "end", []),
    ],
)
def test_quoted_spans(text: str, expected: list[str]) -> None:
    assert _words(text) == expected


@pytest.mark.parametrize(
    ("needle", "inside"),
    [("We will rebuild", True), ("\u201cWe will rebuild,\u201d", True), ("the mayor", False)],
)
def test_inside_quotes(needle: str, inside: bool) -> None:
    text = "\u201cWe will rebuild,\u201d the mayor said."
    start = text.index(needle)
    assert inside_quotes(text, start, start + len(needle)) is inside
