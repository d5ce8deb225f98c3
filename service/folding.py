"""How text is folded, one way for every part, on the ground floor: names for comparing
(`name_key`) and for the gazetteer (`place_key`); evidence and articles for matching
(`normalize`, and `normalize_with_map`, which keeps each folded character's offset)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def name_key(name: str) -> str:
    """A name folded for comparison: case, accents, punctuation and spacing ignored."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]*\b")


def lower_case_words(text: str) -> set[str]:
    """The words a text writes in lower case somewhere: a capitalised one among them is a
    common word opening a sentence ("Refugee agency workers", "the Council"), not a name."""
    return set(_LOWER_WORD.findall(text))


def place_key(name: str) -> str:
    """A place name as the gazetteer's index keys it: `name_key`, a leading "the" dropped."""
    key = name_key(name)
    return key[4:] if key.startswith("the ") else key


_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")


# One article is normalised once per grounding, not once per fact; the few kept are the
# articles being grounded now (a 100,000-character one holds about 4 MB of offsets).
@lru_cache(maxsize=4)
def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Casefold, strip accents, unify quotes/dashes, collapse whitespace; map output to input."""
    out: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, char in enumerate(text):
        # NFKD then dropping combining marks: "Médecins" and "Me\u0301decins" match "Medecins".
        decomposed = unicodedata.normalize("NFKD", char.translate(_TRANSLATE)).casefold()
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        if folded.isspace() or not folded:
            if previous_space or not folded:
                continue
            folded = " "
            previous_space = True
        else:
            previous_space = False
        for piece in folded:
            out.append(piece)
            index.append(i)
    return "".join(out), index


SHORT_CHARS = 1000  # names and evidence are kept normalised; whole articles are not


def normalize(text: str) -> str:
    """The normalised form used for matching, without the offset map."""
    if len(text) <= SHORT_CHARS:
        return _normalize_short(text)
    return _SPACE.sub(" ", normalize_with_map(text)[0]).strip()


@lru_cache(maxsize=4096)
def _normalize_short(text: str) -> str:
    return _SPACE.sub(" ", normalize_with_map.__wrapped__(text)[0]).strip()
