"""Talks sentences: sentences that may report talks, found by news vocabulary.

The words are general news usage (lemmas of nouns and verbs), not any article's names;
the LLM reads each sentence found and says what talks, if any, it reports held.
(Attacks are found by what was hit: `service.candidates.targets`.)
"""

from __future__ import annotations

import re

from spacy.tokens import Span, Token

from service.candidates.article import Article, EventCandidate, EventKind, ents_in
from service.candidates.places import country_of
from service.numbers import numbers_in

TRIGGERS: dict[EventKind, frozenset[str]] = {
    "talks": frozenset(
        [
            "talk",
            "negotiation",
            "negotiate",
            "negotiator",
            "meeting",
            "meet",
            "summit",
            "ceasefire",
            "truce",
            "delegation",
            "mediate",
            "mediator",
            "dialogue",
            "accord",
            "agreement",
            "deal",
            "pact",
            "treaty",
        ]
    ),
}
TRIGGER_POS = frozenset({"NOUN", "VERB"})


# How talks were held, by the words that say so (general English).
FORMATS: dict[str, re.Pattern[str]] = {
    "in_person": re.compile(r"face[- ]to[- ]face|in[- ]person", re.I),
    "video": re.compile(r"\bvideo|\bvirtual(?:ly)?\b|\bonline\b", re.I),
    "phone": re.compile(r"\b(?:tele)?phone\b", re.I),
}
# Who talks: a sentence about talks names at least one side (a country, a people, a body,
# a person); "Our delegation made a colossal effort" alone reports no talks to label.
PARTY_LABELS = frozenset({"GPE", "NORP", "ORG", "PERSON"})
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# Talks wanted, planned or proposed, not held: the words above a talks word that say so.
INTENT = frozenset(
    {
        "intend", "plan", "want", "hope", "propose", "offer", "consider", "request", "urge",
        "call", "ready", "willing", "prepare", "expect", "seek", "try", "aim", "demand",
        "insist", "refuse", "reject", "ask", "invite",
    }
)  # fmt: skip
MODALS = frozenset({"will", "would", "could", "should", "may", "might", "can", "shall", "must"})
# What two sides sign when talks end in one ("signed a historic peace deal").
AGREEMENTS = frozenset(
    {"deal", "agreement", "accord", "treaty", "pact", "ceasefire", "truce", "armistice"}
)


def _sides_named(subject: Token) -> list[str]:
    """The bodies and countries a subject's words name, in order ("the Indonesian
    government and rebels from the Free Aceh Movement": Indonesia, Free Aceh Movement)."""
    sides = []
    for ent in ents_in(subject.doc[subject.left_edge.i : subject.right_edge.i + 1]):
        if ent.label_ in ("ORG", "GPE"):
            sides.append(ent.text.removeprefix("the "))
        elif ent.label_ == "NORP" and (country := country_of(ent.text)):
            sides.append(country)
    return list(dict.fromkeys(sides))


def signing(sentence: Span) -> tuple[list[str], str | None]:
    """The sides of "X and Y signed a peace deal" (a joined subject naming two or more) and
    the first place named after the verb (where it was signed): talks held that ended in an
    agreement, as the sentence's own parse says; no sides when it does not say so."""
    for verb in sentence:
        if verb.lemma_.lower() != "sign" or verb.pos_ != "VERB" or _unrealised(verb):
            continue
        if not any(c.dep_ == "dobj" and c.lemma_.lower() in AGREEMENTS for c in verb.children):
            continue
        for subject in (c for c in verb.children if c.dep_ == "nsubj" and c.conjuncts):
            sides = _sides_named(subject)
            if len(sides) >= 2:
                after = (e for e in ents_in(sentence) if e.start > verb.i)
                return sides, next((e.text for e in after if e.label_ in _PLACE_LABELS), None)
    return [], None


def _round(sentence: Span) -> int | None:
    """The round the sentence numbers: "the second round", "round 3", "a 4th round"."""
    for token in sentence:
        if token.lower_ != "round":  # spaCy tags "hold round 3" an adverb
            continue
        near = [t for t in token.children if t.i < token.i] + list(
            token.doc[token.i + 1 : token.i + 2]
        )
        for word in near:
            values = numbers_in(word.lower_.rstrip("."))  # "second", "3", "4th", "three"
            if len(values) == 1 and values[0].is_integer() and 0 < values[0] < 100:
                return int(values[0])
    return None


def _format(sentence: Span) -> str | None:
    """How the talks were held, when the sentence's words say it ("via video link")."""
    return next((name for name, words in FORMATS.items() if words.search(sentence.text)), None)


def _venue(sentence: Span, words: list[Token]) -> str | None:
    """Where the talks were held: a place the sentence puts in or at the clause of one of
    its talks words ("met in Doha")."""
    for ent in ents_in(sentence):
        prep = ent.root.head
        if (
            ent.label_ not in _PLACE_LABELS
            or ent.root.dep_ != "pobj"
            or prep.lower_ not in ("in", "at")
        ):
            continue
        # where the talks were: in the clause of a talks word ("met ... in Doha", "held
        # talks in Doha"), not of another verb ("attacks on cities in Ukraine continue")
        clause = _clause(prep)
        if any(_clause(t).i == clause.i for t in words):
            return ent.text
    return None


def _unrealised(token: Token) -> bool:
    """Talks only wanted, planned or proposed: "intends to meet", "is willing to negotiate",
    "talks will be held", "consider participating in talks"."""
    for _ in range(4):
        if token.lemma_.lower() in INTENT or any(
            c.dep_ == "aux" and c.lower_ in MODALS for c in token.children
        ):
            return True
        if token.head.i == token.i:
            break
        token = token.head
    return False


def _clause(token: Token) -> Token:
    """The verb heading the token's clause (itself, when it is one; the root at worst)."""
    while token.pos_ not in ("VERB", "AUX") and token.head.i != token.i:
        token = token.head
    return token


def _trigger(token: Token, lemmas: frozenset[str]) -> bool:
    """A talks word: not "according to" (whose lemma is "accord")."""
    if token.pos_ not in TRIGGER_POS or token.lemma_.lower() not in lemmas:
        return False
    following = token.doc[token.i + 1] if token.i + 1 < len(token.doc) else None
    return not (token.lower_ == "according" and following is not None and following.lower_ == "to")


SIDES = frozenset({"pair", "side", "party"})


def sides_unnamed(sentence: Span) -> bool:
    """Whether a sentence's main subject names no one: a pronoun ("They held four days of
    talks"), or "the pair", "both sides" (the subject of its root or of a verb joined to
    it)."""
    verbs = [sentence.root, *sentence.root.conjuncts]
    return any(
        t.dep_ in ("nsubj", "nsubjpass")
        and (t.pos_ == "PRON" or (t.lemma_.lower() in SIDES and t.ent_type_ == ""))
        for verb in verbs
        for t in verb.children
    )


def _names_a_side(sentence: Span) -> bool:
    return any(e.label_ in PARTY_LABELS for e in ents_in(sentence))


def find_events(article: Article) -> None:
    """Add an EventCandidate per sentence whose words signal talks held (not only wanted
    or planned) and that names a side (or whose "they" the sentence before names), with
    the round, format and venue its words state."""
    previous: Span | None = None
    for sentence in article.doc.sents:
        before, previous = previous, sentence
        unnamed = sides_unnamed(sentence) and before is not None and _names_a_side(before)
        if not (_names_a_side(sentence) or unnamed):
            continue
        for kind, lemmas in TRIGGERS.items():
            words = [t for t in sentence if _trigger(t, lemmas)]
            if words and not all(_unrealised(t) for t in words):
                sides, signed_in = signing(sentence)
                article.events.append(
                    EventCandidate(
                        kind, sentence.start_char, sentence.end_char, round=_round(sentence),
                        format=_format(sentence), venue=_venue(sentence, words) or signed_in,
                        sides_before=unnamed, signers=sides,
                    )
                )  # fmt: skip
