"""How a name is folded, one way for every part: for comparing names (`name_key`) and for
looking places up in the gazetteer (`place_key`)."""

from __future__ import annotations

import re
import unicodedata


def name_key(name: str) -> str:
    """A name folded for comparison: case, accents, punctuation and spacing ignored."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def place_key(name: str) -> str:
    """A place name as the gazetteer's index keys it: `name_key`, a leading "the" dropped."""
    key = name_key(name)
    return key[4:] if key.startswith("the ") else key
