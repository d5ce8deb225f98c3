"""The shared article object every finder reads and adds to, and the candidate types."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from spacy.tokens import Doc, Span, Token

EntityLabel = Literal["people", "organizations", "locations"]


@dataclass
class Entity:
    """A named person, organisation or place, its mentions merged under the fullest name."""

    label: EntityLabel
    name: str
    start: int  # evidence: the first mention of the fullest form (or its role phrase)
    end: int
    spacy_label: str
    aliases: list[str] = field(default_factory=list)
    mentions: list[tuple[int, int]] = field(default_factory=list)
    role: str | None = None
    affiliation: str | None = None
    kind: str | None = None  # places: city, country, region, site, other
    country: str | None = None  # places: the country it is in


@dataclass
class QuoteCandidate:
    """Words between quotation marks, and who the text says spoke them."""

    start: int  # the quoted words, marks excluded
    end: int
    open_at: int  # the opening mark
    close_at: int | None  # the closing mark (None: the quote runs to its paragraph's end)
    speaker: str | None = None
    evidence_start: int = 0  # the marks and, when adjacent, the attribution
    evidence_end: int = 0


@dataclass
class NumberCandidate:
    """A stated quantity: its phrase, value, range, approximation and what it counts."""

    start: int
    end: int
    value: float
    value_max: float | None = None
    approximate: bool = False
    unit: str | None = None  # "USD", "percent", or the noun counted ("troops", "bodies")
    noun: str | None = None  # the noun the number counts, as written
    noun_lemma: str | None = None
    evidence: tuple[int, int] = (0, 0)  # the number with what it counts and its verb
    cue: str | None = None  # what the evidence's own words say happened ("killed", ...)
    measure: bool = False  # spaCy reads it as a quantity, percentage or sum: never people
    people: bool | None = None  # whether the counted noun names people (None: no noun)
    whole: bool = False  # the M of "N of the M": the whole a part is of, not a casualty
    reported_by: str | None = None  # the source the sentence attributes it to
    location: str | None = None  # places and time attached to its clause, as written
    destination: str | None = None
    period: str | None = None
    side: str | None = None  # the country the counted people belong to
    clause: frozenset[str] = frozenset()  # the labels whose words its clause has (+ "moved")
    clause_lemmas: frozenset[str] = frozenset()  # every word of its clause, as lemmas
    harmed: bool = False  # what it counts is what a harm word was done to ("were killed")
    held: bool = False  # suspects, what an arrest word was done to, or officers acting
    treated: bool = False  # what it counts was taken to hospital or treated: alive then
    struck: str | None = None  # what a shooting "of" them did ("the fatal shooting of one man")
    part_of: int | None = None  # the toll it is part of ("28 civilians, including 19 children")
    definite: bool = False  # "the two sides": things the text has named, not a new count
    unnumbered: bool = False  # "a man was killed": counted by a reader, labelled by its words
    restated: bool = False  # "Durham was one of five people shot": someone named, no count


@dataclass
class TargetCandidate:
    """Something an attack word says was hit: its words, sentence, attacker and denier."""

    start: int
    end: int
    sentence: tuple[int, int]
    attributed_to: str | None = None
    denied_by: str | None = None
    when: str | None = None  # the time attached to the attack's clause, as written


EventKind = Literal["talks"]


@dataclass
class EventCandidate:
    """A sentence that may report talks, by the words that signal it, with what its words
    state: the round ("second round"), format ("by video link") and venue ("met in Doha")."""

    kind: EventKind
    start: int
    end: int
    round: int | None = None
    format: str | None = None
    venue: str | None = None
    sides_before: bool = False  # "They held talks": the sentence before names the sides
    signers: list[str] = field(default_factory=list)  # "X and Y signed a peace deal"


CANDIDATE_LISTS = ("entities", "quotes", "numbers", "targets", "events")
"""The finders' lists, each a `Doc` extension (`doc._.numbers`) and a span group
(`doc.spans["numbers"]`)."""

for _name in CANDIDATE_LISTS:
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=[])  # spaCy copies a mutable default per doc
if not Doc.has_extension("source_text"):
    Doc.set_extension("source_text", default=None)

# A span's label names the list its candidate is in (an entity's label, an event's kind, or
# the list's name less its "s"); its id is the candidate's index there.
_LIST_OF_LABEL = {
    "people": "entities", "organizations": "entities", "locations": "entities",
    "quote": "quotes", "number": "numbers", "target": "targets", "talks": "events",
}  # fmt: skip
SPAN_FIELDS = (
    "kind", "country", "role", "affiliation", "speaker", "value", "reported_by", "location",
    "period", "side", "attributed_to", "denied_by", "when",
)  # fmt: skip
"""What the fillers write, readable on each candidate's span (`span._.country`)."""


def candidate_of(span: Span) -> object | None:
    """The candidate a span of `doc.spans` stands for (None for any other span, such as
    spaCy's own entities)."""
    name = _LIST_OF_LABEL.get(span.label_)
    found = getattr(span.doc._, name) if name else []
    return found[span.id] if 0 <= span.id < len(found) else None


def _field_getter(name: str) -> Callable[[Span], object]:
    return lambda span: getattr(candidate_of(span), name, None)


if not Span.has_extension("candidate"):
    Span.set_extension("candidate", getter=candidate_of)
    for _field in SPAN_FIELDS:
        Span.set_extension(_field, getter=_field_getter(_field))


class Article:
    """One article as the finders see it: a view over its parsed `Doc`, whose extensions
    hold the candidates found so far (`doc._.entities`, `doc._.numbers`, ...)."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc

    @property
    def text(self) -> str:
        """The article as sent (the doc's text has control characters as spaces)."""
        return self.doc._.source_text or self.doc.text

    @property
    def entities(self) -> list[Entity]:
        """People, organisations and places, mentions merged (`find_names`)."""
        return self.doc._.entities  # type: ignore[no-any-return]

    @property
    def quotes(self) -> list[QuoteCandidate]:
        """Quotations and their speakers (`find_quotes`)."""
        return self.doc._.quotes  # type: ignore[no-any-return]

    @property
    def numbers(self) -> list[NumberCandidate]:
        """Stated quantities (`find_quantities`)."""
        return self.doc._.numbers  # type: ignore[no-any-return]

    @property
    def targets(self) -> list[TargetCandidate]:
        """What attack words say was hit (`find_targets`)."""
        return self.doc._.targets  # type: ignore[no-any-return]

    @property
    def events(self) -> list[EventCandidate]:
        """Sentences that may report talks (`find_events`)."""
        return self.doc._.events  # type: ignore[no-any-return]

    def mark_spans(self, name: str) -> None:
        """Write one list's candidates as the span group `doc.spans[name]`, each span
        labelled with its kind and carrying its candidate (`span._.candidate`)."""
        spans = []
        for i, found in enumerate(getattr(self, name)):
            label = getattr(found, "label", None) or getattr(found, "kind", None) or name[:-1]
            span = self.doc.char_span(found.start, max(found.end, found.start + 1),
                                      label=label, alignment_mode="expand", span_id=i)  # fmt: skip
            if span is not None:
                spans.append(span)
        self.doc.spans[name] = spans

    def keep_first(self, name: str, count: int) -> None:
        """Drop all but the first `count` candidates of one list, and their spans."""
        del getattr(self, name)[count:]
        self.mark_spans(name)

    def token_at(self, offset: int) -> Token | None:
        """The token holding a character offset (None past the end or in whitespace)."""
        span = self.doc.char_span(offset, offset + 1, alignment_mode="expand")
        return span[0] if span is not None and len(span) else None

    def sentence_of(self, offset: int) -> Span:
        """The sentence holding a character offset (the last one past the end)."""
        token = self.token_at(offset)
        return self.doc[-1].sent if token is None else token.sent

    def entity_at(self, offset: int) -> Entity | None:
        """The entity (of any kind) whose mention covers this offset."""
        for entity in self.entities:
            if any(s <= offset < e for s, e in entity.mentions):
                return entity
        return None


# A wire photo's caption: "FILE - A rebel fighter stands ...", "FILE PHOTO: ...", "PHOTO: ..."
CAPTION = re.compile(r"^(?:FILE(?: PHOTO)?|PHOTO)\s*[-\u2013\u2014:]", re.MULTILINE)


def opening_end(text: str) -> int:
    """Where a report's opening ends: after its first paragraph of more than a line, not a
    photo's caption (the headline and dateline before it included); the whole text when
    it has none."""
    for body in re.finditer(r"[^\n]{120,}", text):
        if not CAPTION.match(text, body.start()):
            return body.end()
    return len(text)


def in_caption(text: str, offset: int) -> bool:
    """Whether the offset is in a paragraph that captions a photo ("FILE - ...")."""
    return CAPTION.match(text, text.rfind("\n", 0, offset) + 1) is not None


def entity_span(token: Token) -> Span | None:
    """The named-entity span spaCy put the token in, if any.

    Read from the tokens' IOB tags: `doc.ents` builds every entity of the document, so a
    lookup per candidate was quadratic on long articles.
    """
    if not token.ent_type_:
        return None
    doc, start = token.doc, token.i
    while doc[start].ent_iob_ == "I" and start > 0:
        start -= 1
    return Span(doc, start, _entity_end(doc, start), label=doc[start].ent_type_)


def _entity_end(doc: Doc, start: int) -> int:
    end = start + 1
    while end < len(doc) and doc[end].ent_iob_ == "I":
        end += 1
    return end


def ents_in(span: Span) -> list[Span]:
    """The named entities wholly inside a span, as `span.ents` gives them, without the
    scan of every entity of the document that `span.ents` makes (quadratic per sentence)."""
    doc, found, i = span.doc, [], span.start
    while i < span.end:
        if doc[i].ent_iob_ != "B":
            i += 1
            continue
        end = _entity_end(doc, i)
        if end <= span.end:
            found.append(Span(doc, i, end, label=doc[i].ent_type_))
        i = end
    return found


Step = Callable[[Article], None]
