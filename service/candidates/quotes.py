"""Quotes: every quotation in the text, with its speaker read from the parse around it.

The speaker is the subject of the nearest speech verb outside the quotation in its
sentence ("…," the minister said / She told reporters: "…"), or the object of
"according to". A pronoun subject is the person last named before the quote; a quote with
no cue of its own continues the previous quote's speaker when it follows it directly.
"""

from __future__ import annotations

from spacy.tokens import Token

from service.candidates.article import Article, QuoteCandidate
from service.quotemarks import Quoted, quoted_spans

# Verbs that report speech or writing in news style (lemmas).
CUE_LEMMAS = frozenset(
    [
        "say",
        "tell",
        "add",
        "state",
        "write",
        "warn",
        "note",
        "explain",
        "insist",
        "claim",
        "argue",
        "describe",
        "call",
        "announce",
        "declare",
        "ask",
        "urge",
        "tweet",
        "post",
        "reply",
        "respond",
        "continue",
        "accuse",
        "deny",
        "admit",
        "acknowledge",
        "conclude",
        "stress",
        "emphasize",
        "emphasise",
        "suggest",
        "predict",
        "vow",
        "promise",
        "report",
        "confirm",
        "recall",
        "complain",
        "lament",
        "remark",
        "observe",
        "testify",
        "cry",
        "shout",
        "plead",
        "dub",
        "label",
        "brand",
        "term",
        "quote",
        "threaten",
        "caution",
        "allege",
        "assert",
        "charge",
        "comment",
        "demand",
        "believe",
        "advise",
        "inform",
        "brief",
        "dismiss",
        "reject",
        "condemn",
        "hail",
        "praise",
    ]
)
PERSONAL_PRONOUNS = frozenset({"he", "she", "him", "her"})
SUBJECT_DEPS = ("nsubj", "nsubjpass")
# A continuation quote must start within this many characters of the previous one's end.
CONTINUATION_GAP = 400


def according_to(token: Token) -> bool:
    """Whether the token is the 'according' of 'according to'."""
    return (
        token.lower_ == "according"
        and token.i + 1 < len(token.doc)
        and (token.nbor(1).lower_ == "to")
    )


def _cue_tokens(article: Article, lo: int, hi: int, quotes: tuple[Quoted, ...]) -> list[Token]:
    """Speech verbs between two offsets that are not themselves inside a quotation."""
    span = article.doc.char_span(lo, hi, alignment_mode="contract")
    if span is None:
        return []
    found = []
    near = [q for q in quotes if q.start < hi and q.end > lo]
    for token in span:
        if any(q.start <= token.idx < q.end for q in near):
            continue
        speech = token.lemma_.lower() in CUE_LEMMAS and token.pos_ in ("VERB", "AUX")
        if speech or according_to(token):
            found.append(token)
    return found


def subject_of(verb: Token) -> Token | None:
    """The one who speaks: the verb's subject (climbing conjoined verbs), or the object of
    'according to'."""
    if according_to(verb):
        nxt = verb.doc[verb.i + 1]
        objects = [c for c in nxt.children if c.dep_ == "pobj"]
        return objects[0] if objects else None
    seen = verb
    for _ in range(4):
        for child in seen.children:
            if child.dep_ in SUBJECT_DEPS:
                return child
        for child in seen.children:  # "…," said the minister: agent after a passive
            if child.dep_ == "agent":
                objects = [c for c in child.children if c.dep_ == "pobj"]
                if objects:
                    return objects[0]
        if seen.dep_ in ("conj", "xcomp", "ccomp", "advcl") and seen.head is not seen:
            seen = seen.head
        else:
            break
    return None


def _noun_phrase(token: Token) -> str:
    """The subject as a short phrase: its modifiers and head ("Jimmy Hill's sister",
    "city council"), without a leading article or any clause after the head."""
    left = [t for t in token.subtree if t.i <= token.i]
    while left and (left[0].dep_ == "det" or left[0].is_punct):
        left = left[1:]
    left = left or [token]
    return token.doc[left[0].i : _named_by(token) + 1].text


_NAMING_PREPS = frozenset({"in", "for", "of", "at"})


def _named_by(token: Token) -> int:
    """Where the subject's name ends: its head, or the place or body a phrase after it
    names: people of a place ("doctors in the Gaza Strip"), a title's remit ("the U.N.
    High Commissioner for Refugees"); not a body's seat ("the office in Geneva")."""
    for prep in token.rights:
        if prep.dep_ != "prep" or prep.lower_ not in _NAMING_PREPS or prep.i != token.i + 1:
            continue
        if not (token.tag_ == "NNS" or (token.pos_ == "PROPN" and prep.lower_ in ("for", "of"))):
            continue
        objects = [c for c in prep.children if c.dep_ == "pobj"]
        if objects and (objects[0].pos_ == "PROPN" or objects[0].ent_type_):
            return max(t.i for t in objects[0].subtree)
    return token.i


def _main_subject(token: Token) -> bool:
    """Whether a name is the subject of its sentence's main verb, directly or through the
    title it stands beside ("presidential adviser Mykhailo Podolyak said")."""
    for _ in range(3):
        if token.dep_ in ("appos", "compound") and token.head.i != token.i:
            token = token.head
    return token.dep_ in SUBJECT_DEPS and token.head.dep_ == "ROOT"


def _last_subject_before(article: Article, offset: int) -> str | None:
    """The person last named as a subject before an offset (or, failing that, the person
    last named at all): who 'he' or 'she' most likely is."""
    best: tuple[int, int, str] | None = None  # (is subject, start, name)
    # A subject counts as recent within about four sentences of the quote.
    recent_from = article.sentence_of(offset).start_char - 600
    for entity in article.entities:
        if entity.label != "people":
            continue
        for start, end in entity.mentions:
            if start >= offset:
                continue
            span = article.doc.char_span(start, end, alignment_mode="expand")
            subject = span is not None and _main_subject(span.root)
            recent = article.sentence_of(start).start_char >= recent_from
            key = (int(subject and recent), start, entity.name)
            if best is None or key > best:
                best = key
    return best[2] if best else None


def speaker_of(article: Article, subject: Token, offset: int) -> str | None:
    """Resolve a speaker's subject token to the fullest name the article gives ("he": the
    person last named as a subject before `offset`)."""
    if subject.lower_ in PERSONAL_PRONOUNS:
        return _last_subject_before(article, offset)
    if subject.pos_ == "PRON":
        return None
    entity = article.entity_at(subject.idx)
    if entity is not None and entity.label in ("people", "organizations"):
        return entity.name
    # "the press secretary, Jen Psaki, wrote"; "a spokeswoman for the Red Cross, Umo Okon,
    # said" (the parse hangs the name on the organisation)
    for token in subject.subtree:
        named = article.entity_at(token.idx) if token.dep_ == "appos" else None
        if named is not None and named.label == "people":
            return named.name
    if subject.pos_ == "PROPN":
        for token in subject.subtree:
            entity = article.entity_at(token.idx)
            if entity is not None and entity.label == "people":
                return entity.name
    return _noun_phrase(subject)


def _attribute(article: Article, quote: Quoted, quotes: tuple[Quoted, ...]) -> QuoteCandidate:
    text = article.text
    end_mark = quote.close_at + 1 if quote.close_at is not None else quote.end
    candidate = QuoteCandidate(
        start=quote.start, end=quote.end, open_at=quote.open_at, close_at=quote.close_at,
        evidence_start=quote.open_at, evidence_end=end_mark,
    )  # fmt: skip
    after_sentence = article.sentence_of(max(end_mark - 1, quote.start))
    after_end = text.find("\n", end_mark)
    after_end = min(after_sentence.end_char, after_end if after_end >= 0 else len(text))
    nxt = [q.open_at for q in quotes if q.open_at >= end_mark]
    if nxt:
        after_end = min(after_end, nxt[0])
    before_sentence = article.sentence_of(quote.open_at)
    para_start = text.rfind("\n", 0, quote.open_at) + 1
    before_start = max(before_sentence.start_char, para_start)
    candidates = _cue_tokens(article, end_mark, after_end, quotes)
    candidates += list(reversed(_cue_tokens(article, before_start, quote.open_at, quotes)))
    for cue in candidates:
        subject = subject_of(cue)
        if subject is None:
            continue
        found = speaker_of(article, subject, quote.open_at)
        if found is not None:
            candidate.speaker = found
            if cue.idx >= end_mark:  # '"…," he said': the attribution is part of the span
                candidate.evidence_end = max(end_mark, cue.idx + len(cue.text), subject.idx
                                             + len(subject.text))  # fmt: skip
            return candidate
    return candidate


def find_quotes(article: Article) -> None:
    """Add a QuoteCandidate per quotation, its speaker where the text says who spoke."""
    quotes = quoted_spans(article.text)
    previous: QuoteCandidate | None = None
    for quote in quotes:
        candidate = _attribute(article, quote, quotes)
        if candidate.speaker is None and previous is not None and previous.speaker:
            gap = quote.open_at - previous.evidence_end
            if 0 <= gap <= CONTINUATION_GAP:
                candidate.speaker = previous.speaker
        article.quotes.append(candidate)
        previous = candidate
