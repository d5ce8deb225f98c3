"""Who gave a figure, where and when: read from the parse around a number or a target.

`reported_by` is the source the sentence attributes the figure to: the subject of a
reporting verb that governs the number's clause ("…, the health ministry said"), the
object of "according to", the agent of "was reported by", or the speaker of the quotation
the number sits in, as the fullest name the article gives. `location`, `destination`
and `period` are the places and times attached to the number's clause, as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from spacy.tokens import Span, Token

from service.candidates.article import (
    Article,
    Entity,
    NumberCandidate,
    TargetCandidate,
    ents_in,
    in_caption,
    opening_end,
)
from service.candidates.counts import attack_of, participle_harm
from service.candidates.people_nouns import names_people
from service.candidates.places import country_of
from service.candidates.quantities import (
    HARM_LEMMAS,
    HELD_NOUNS,
    HELD_VERBS,
    LAW_NOUNS,
    SUFFERING_VERBS,
    clause_says,
    lemma,
    shared_verbs,
)
from service.candidates.quotes import CUE_LEMMAS, according_to, speaker_of, subject_of

# Verbs that attribute a figure to a source (lemmas; speech verbs plus reporting ones).
REPORT_LEMMAS = CUE_LEMMAS | frozenset(
    {
        "report",
        "confirm",
        "estimate",
        "count",
        "record",
        "put",
        "cite",
        "tally",
        "show",
        "reveal",
        "disclose",
        "publish",
        "document",
        "verify",
        "register",
        "find",
    }
)
DESTINATION_PREPS = frozenset({"to", "into", "toward", "towards"})
TIME_PREPS = frozenset(
    {"since", "in", "over", "during", "within", "on", "between", "from", "by", "until",
     "after", "before", "throughout", "through"}
)  # fmt: skip
PLACE_ENTS = frozenset({"GPE", "LOC", "FAC"})
# Words that make a time a span a figure covers ("in the past 24 hours", "last year"),
# not the day it was given on ("on Tuesday").
SPAN_PREPS = frozenset({"since", "over", "during", "within", "between", "throughout", "through"})
SPAN_WORDS = frozenset(
    {"past", "last", "far", "year", "years", "month", "months", "week", "weeks", "hours",
     "days", "decade", "decades", "period", "war", "conflict"}
)  # fmt: skip
SO_FAR = frozenset({"so far", "to date", "thus far"})
RUNNING_PREPS = frozenset({"since", "during", "throughout"})  # of time only, unlike "over"
# Heads of a subject that name a document or a tally, not who gave the figure.
DOCUMENT_WORDS = frozenset({"report", "statement", "figure", "figures", "data", "tally", "toll"})
MAX_SOURCE_WORDS = 10


def _clause(token: Token) -> Token:
    """The verb of the clause a token stands in (the sentence root when none is nearer)."""
    head = token
    while head.pos_ not in ("VERB", "AUX") and head.head.i != head.i:
        head = head.head
    return head


def _ancestors(token: Token) -> Iterator[Token]:
    yield token
    yield from token.ancestors


def _source(article: Article, subject: Token, offset: int) -> str | None:
    """The source's fullest name ("a WHO report": WHO); a count, a document that names
    nobody, or a long clause taken for a subject is no source."""
    if any(t.like_num or t.lower_ in ("thousands", "hundreds", "dozens") for t in subject.subtree):
        return None
    if subject.lemma_.lower() in DOCUMENT_WORDS:
        named = [c for c in subject.children if c.dep_ in ("compound", "poss", "nmod")]
        named = [c for c in named if c.ent_type_ in ("ORG", "PERSON", "GPE")]
        return speaker_of(article, named[0], offset) if named else None
    subject = _body_before_place(subject)
    # the name after a body's description ("the French news agency AFP")
    named = (article.entity_at(t.idx) for t in subject.rights)
    found = next((e for e in named if e is not None and e.label == "organizations"), None)
    if found is not None:
        return found.name
    name = speaker_of(article, subject, offset)
    return name if name is not None and len(name.split()) <= MAX_SOURCE_WORDS else None


def _body_before_place(subject: Token) -> Token:
    """A parse that makes the place the subject ("the UN office in Geneva, Switzerland
    said"): the body before "in" is the source; a country alone ("Russia said") stays."""
    i = subject.i
    doc = subject.doc
    while i > subject.sent.start and (doc[i].ent_type_ in PLACE_ENTS or doc[i].text == ","):
        i -= 1
    if i < subject.i and doc[i].lower_ in ("in", "at") and i > subject.sent.start:
        before = doc[i - 1]
        return before if before.pos_ in ("NOUN", "PROPN") else subject
    return subject


# Reporting verbs whose passive subject is whom the words are against, not who says them.
ACCUSING = frozenset({"accuse", "blame"})


def reporter(article: Article, token: Token) -> str | None:
    """The source a sentence attributes the figure at `token` to, or None."""
    for quote in article.quotes:
        if quote.start <= token.idx < quote.end and quote.speaker:
            return quote.speaker
    sentence = token.sent
    for word in sentence:
        if according_to(word):
            subject = subject_of(word)
            if subject is not None:
                return _source(article, subject, token.idx)
    verbs = [t for t in _ancestors(token) if t.pos_ in ("VERB", "AUX")]
    verbs += [c for c in sentence.root.children if c.dep_ in ("parataxis", "ccomp")]
    verbs.append(sentence.root)
    for verb in verbs:
        if verb.lemma_.lower() not in REPORT_LEMMAS:
            continue
        subject = subject_of(verb)
        passive = verb.tag_ == "VBN" or (subject is not None and subject.dep_ == "nsubjpass")
        if passive and lemma(verb) in ACCUSING:
            continue  # "Maoists Accused of Killing 16 Villagers": the accused, not the source
        if subject is not None and not (subject.i <= token.i <= max(subject.subtree).i):
            return _source(article, subject, token.idx)
    return None


def _exclude(article: Article, token: Token) -> set[int]:
    """Token indices of the sentence's reporting subject: its places are not the figure's."""
    skip: set[int] = set()
    for verb in token.sent:
        if verb.lemma_.lower() in REPORT_LEMMAS or according_to(verb):
            subject = subject_of(verb)
            if subject is not None and not any(t.i == token.i for t in subject.subtree):
                body = _body_before_place(subject)
                skip |= {t.i for t in subject.subtree} | {t.i for t in body.subtree}
    return skip


def _ent_spans(root: Token, labels: frozenset[str], skip: set[int]) -> list[Span]:
    indices = {t.i for t in root.subtree} - skip
    return [e for e in ents_in(root.sent) if e.label_ in labels and e.start in indices]


def _nearest(ents: list[Span], token: Token) -> list[Span]:
    """Entities by their distance from the token, nearest first."""
    return sorted(ents, key=lambda e: min(abs(e.start - token.i), abs(e.end - 1 - token.i)))


def _governing_prep(ent: Span) -> Token | None:
    head = ent.root.head
    return head if head.dep_ == "prep" and head.i < ent.start else None


def _with_prep(ent: Span) -> str:
    """A time as written with the preposition that governs it ("in the past 24 hours")."""
    prep = _governing_prep(ent)
    if prep is not None and prep.lower_ in TIME_PREPS and prep.i == ent.start - 1:
        return ent.doc[prep.i : ent.end].text
    return ent.text


def _year(ent: Span) -> bool:
    """Whether a time names a year ("in 2015"; "1000" tagged a date is a count)."""
    return any(t.shape_ == "dddd" and 1800 <= int(t.text) <= 2100 for t in ent)


def _is_span(ent: Span) -> bool:
    prep = _governing_prep(ent)
    words = {t.lower_ for t in ent}
    return bool(
        (prep is not None and prep.lower_ in SPAN_PREPS) or words & SPAN_WORDS or _year(ent)
    )


def places_and_time(
    article: Article, token: Token, spans_only: bool = False
) -> tuple[str | None, str | None, str | None]:
    """The place, destination and time attached to the clause of the token: (location,
    destination, period), as written; places the article names as places only, and with
    `spans_only` a time only when it is a span ("in the past 24 hours", not "on Tuesday")."""
    clause = _clause(token)
    skip = _exclude(article, token)
    location = destination = None
    for ent in _nearest(_ent_spans(clause, PLACE_ENTS, skip), token):
        entity = article.entity_at(ent.start_char)
        if (
            entity is None
            or entity.label != "locations"
            or places_nothing(article, entity, ent.start_char, ent.end_char)
        ):
            continue
        prep = _governing_prep(ent)
        if prep is not None and prep.lower_ in DESTINATION_PREPS:
            destination = destination or ent.text
        elif location is None:
            location = ent.text
    times = [
        t for t in _nearest(_ent_spans(clause, frozenset({"DATE"}), skip), token)
        if (any(c.is_alpha for c in t) or _year(t)) and (_is_span(t) or not spans_only)
    ]  # fmt: skip
    if times:
        return location, destination, _with_prep(times[0])
    return location, destination, _running_time(clause, skip) if spans_only else None


def _running_time(clause: Token, skip: set[int]) -> str | None:
    """A span of time no date names: "so far", "to date" with the phrase before it ("in
    the war so far"), or a "since"/"during" phrase ("since the invasion began")."""
    tokens = [t for t in clause.subtree if t.i not in skip]
    doc = clause.doc
    for t in tokens:
        pair = doc[t.i : t.i + 2].text.lower()
        if pair in SO_FAR and t.i + 2 <= clause.sent.end:
            start = t.i
            prep = doc[t.i - 1] if t.i > 0 else None
            if prep is not None and prep.dep_ == "pobj" and prep.head.lower_ == "in":
                start = prep.head.i  # "in the war so far": the phrase is its span
            return doc[start : t.i + 2].text
    for t in tokens:
        if t.lower_ not in RUNNING_PREPS or t.dep_ not in ("prep", "mark"):
            continue
        # "since the start of the war" (a phrase), "since the fires began" (a clause)
        phrase = list((t if t.dep_ == "prep" else t.head).subtree)
        if len(phrase) <= MAX_SOURCE_WORDS:
            return doc[phrase[0].i : phrase[-1].i + 1].text
    return None


def _told_of_others(clause: Token, token: Token) -> set[int]:
    """The words of a relative clause on other people than the counted ones: "100 people
    gathered to remember a man who was killed" says nothing of what befell the 100 (one
    on a place does: "living in areas that are besieged")."""
    noun = _counted_noun(token)
    return {
        t.i
        for r in clause.subtree
        if r.dep_ == "relcl"
        and r.head.i != noun.i
        and names_people(r.head)
        and not r.is_ancestor(token)
        for t in r.subtree
    }


def _counted_noun(token: Token) -> Token:
    """The noun a number counts when it modifies one ("12 people": people), else itself."""
    return token.head if token.dep_ in ("nummod", "quantmod") else token


def _harmed(token: Token) -> bool:
    """Whether the counted noun is what a harm word was done to: the passive subject or
    object of "kill", "injure"… ("54 recruits were killed"), or itself a harm noun ("59
    deaths", "victims")."""
    noun = _counted_noun(token)
    if lemma(noun) in HARM_LEMMAS:
        return True
    # "were killed", "killed 12 people", "12 people are dead"
    passive = noun.dep_ in ("nsubjpass", "dobj")
    patient = passive or (noun.dep_ == "nsubj" and noun.head.pos_ == "ADJ")
    return patient and lemma(noun.head) in HARM_LEMMAS


# Verbs that move or treat the living ("two men were taken to hospital", "sending three
# people to hospital", "medics treated 12"): whom they were done to was alive then.
CARE_VERBS = frozenset(
    {"take", "send", "transport", "rush", "airlift", "carry", "hospitalize", "treat", "admit"}
)


def _treated(token: Token) -> bool:
    """Whether the counted people are what a verb of care was done to (taken, sent or
    rushed to hospital, treated, admitted), in a headline too ("Five people sent to
    hospitals")."""
    noun = _counted_noun(token)
    if noun.dep_ in ("nsubjpass", "dobj") and noun.head.lemma_.lower() in CARE_VERBS:
        return True
    # a headline's "Five people sent to area hospitals"
    return any(c.dep_ == "acl" and c.lemma_.lower() in CARE_VERBS for c in noun.children)


# Killings "of" a number of people: "the killings of at least 16 villagers". (A count
# without a numeral leaves these out: "the killing of Gadhafi" recalls a death long past.)
KILLED_OF = frozenset({"killing", "massacre", "murder", "execution", "slaying"})


def _struck(token: Token) -> str | None:
    """What a shooting, stabbing or wounding "of" the counted people did to them: "the
    fatal shooting of one man" killed, "the wounding of three others" injured, "the
    shooting of four people" killed or injured (`counts.attack_of`); "the killings of 16
    villagers" killed."""
    noun = _counted_noun(token)
    of = noun.head if noun.dep_ == "pobj" and noun.head.lower_ == "of" else None
    if of is not None and of.head.lemma_.lower() in KILLED_OF:
        return "killed"
    return attack_of(noun)


def _group_harm(token: Token) -> str | None:
    """What the participle after a partitive's whole says was done to the group: "one of
    five people shot" (killed or injured), "1 of 7 injured" (the parse hangs "injured" from
    the 1)."""
    noun = _counted_noun(token)
    label = participle_harm(noun)
    if label is None and noun is token and token.dep_ == "pobj" and token.head.lower_ == "of":
        label = participle_harm(token.head.head, after=token)
    return label


def _restated(token: Token) -> bool:
    """Whether the number is someone named before, counted as one of a group ("Durham was
    one of five people shot", "Teen who was 1 of 7 injured"): no count of its own."""
    nxt = token.nbor(1) if token.i + 1 < len(token.doc) else None
    return (
        token.dep_ == "attr"
        and token.head.lemma_.lower() == "be"
        and nxt is not None
        and nxt.lower_ == "of"
    )


def _held(token: Token) -> bool:
    """Whether the counted people are held by the law: suspects, or the subject or object
    of "arrest", "charge"… ("Five arrested", "police arrested two men")."""
    noun = _counted_noun(token)
    # "One of the suspects", a headline's "2 persons of interest arrested in …"
    nouns = [noun, *(g for c in noun.children if c.lower_ == "of" for g in c.children)]
    if any(n.lemma_.lower() in HELD_NOUNS for n in nouns):
        return True
    if noun.dep_ in ("nsubjpass", "dobj", "nsubj") and noun.head.lemma_.lower() in HELD_VERBS:
        return True
    if noun.dep_ == "nsubj" and any(  # "Four men face charges"
        c.dep_ == "dobj" and c.lemma_.lower() in HELD_VERBS for c in noun.head.children
    ):
        return True
    # a headline's "Five men arrested"
    return any(
        c.lemma_.lower() in HELD_VERBS and c.dep_ in ("acl", "relcl")
        for n in nouns
        for c in n.children
    )


def _acting(token: Token) -> bool:
    """Whether the counted people are the law's own agents doing something ("as many as
    seven officers returned fire", "two officers acted"): they are no victims."""
    noun = _counted_noun(token)
    verb = noun.head
    return (
        noun.lemma_.lower() in LAW_NOUNS
        and noun.dep_ == "nsubj"
        and verb.pos_ == "VERB"
        and verb.lemma_.lower() not in SUFFERING_VERBS | HARM_LEMMAS
    )


def _side(token: Token) -> str | None:
    """The country a counted group belongs to ("Ukrainian civilians": Ukraine)."""
    noun = _counted_noun(token)
    for child in noun.children:
        if child.ent_type_ in ("NORP", "GPE") and child.dep_ in ("amod", "compound", "poss"):
            return country_of(child.text)
    return None


def place_mentions(article: Article) -> list[tuple[int, int, Entity]]:
    """Every mention of a place the article names, in the text's order, but those that
    place nothing (`places_nothing`)."""
    return sorted(
        (start, end, e) for e in article.entities if e.label == "locations"
        for start, end in e.mentions if not places_nothing(article, e, start, end)
    )  # fmt: skip


def places_nothing(article: Article, entity: Entity, start: int, end: int) -> bool:
    """Whether a place's mention at `start`..`end` says where nothing happened: a country
    that qualifies a noun (`whose_country`), a street (`an_address`) or where a reporter
    files from (`a_filing_place`), or a photo's caption."""
    return (
        whose_country(article, entity, end)
        or an_address(article.text, start)
        or a_filing_place(article.text, start)
        or in_caption(article.text, start)
    )


# "the 5100 block of Idaho": a street named like a place (US police English).
_ADDRESS = re.compile(r"\bblock of\s+$", re.IGNORECASE)
# "VOA's correspondent reports from Islamabad": where the story was filed, not where it
# happened.
_FILED_FROM = re.compile(
    r"\b(?:report(?:s|ed|ing)?|writes|writing|wrote|files|filed|filing)\s+from\s+$",
    re.IGNORECASE,
)


def a_filing_place(text: str, start: int) -> bool:
    """Whether the place name at `start` is where a reporter files from."""
    return bool(_FILED_FROM.search(text, max(0, start - 30), start))


def an_address(text: str, start: int) -> bool:
    """Whether the place name at `start` names a street ("the 5100 block of Idaho")."""
    return bool(_ADDRESS.search(text, max(0, start - 20), start))


def whose_country(article: Article, entity: Entity, end: int) -> bool:
    """Whether a country's mention ending at `end` qualifies a noun after it ("U.S.
    airstrikes", "the U.S. military", "a U.S.-Afghan patrol"): it says whose, not where."""
    token = article.token_at(end - 1)
    return (
        entity.kind == "country"
        and token is not None
        and token.dep_ in ("compound", "amod", "nmod")
        and token.head.pos_ == "NOUN"
        and token.head.i > token.i
    )


def _paragraph_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def lede_place(article: Article, mentions: list[tuple[int, int, Entity]]) -> str | None:
    """The place a report is datelined or opens on: of the places its first paragraph of
    more than a line names (the headline's too), the first finer than a country, else the
    first."""
    end = opening_end(article.text)
    opening = _finer_first([m for m in mentions if m[0] < end])
    return article.text[opening[0][0] : opening[0][1]] if opening else None


def _finer_first(mentions: list[tuple[int, int, Entity]]) -> list[tuple[int, int, Entity]]:
    """The mentions of places finer than a country, or all of them when none is."""
    return [m for m in mentions if m[2].kind not in ("country", None)] or mentions


def inherited_place(
    article: Article,
    token: Token,
    skip: set[int],
    avoid: str | None = None,
    mentions: list[tuple[int, int, Entity]] | None = None,
) -> str | None:
    """The place a figure's clause does not name, as a reader takes it: the nearest place
    its sentence names (not the reporting source's; finer than a country first), else the
    last its paragraph named before it (finer first too), else the place the report opens
    on (its dateline or lede)."""
    skipped = {token.doc[i].idx for i in skip}
    text = article.text
    mentions = [m for m in (place_mentions(article) if mentions is None else mentions)
                if text[m[0] : m[1]] != avoid and m[0] not in skipped]  # fmt: skip
    sentence = token.sent
    here = [m for m in mentions if sentence.start_char <= m[0] < sentence.end_char]
    if here:
        nearest = min(_finer_first(here), key=lambda m: abs(m[0] - token.idx))
        return article.text[nearest[0] : nearest[1]]
    paragraph = _paragraph_start(article.text, sentence.start_char)
    before = _finer_first([m for m in mentions if paragraph <= m[0] < sentence.start_char])
    if before:
        return article.text[before[-1][0] : before[-1][1]]
    return lede_place(article, mentions)


def attribute_number(
    article: Article,
    number: NumberCandidate,
    mentions: list[tuple[int, int, Entity]] | None = None,
) -> None:
    """Fill one number's source, place, destination, time and side from the parse; a
    place its clause does not name is inherited (`inherited_place`, from `mentions`: the
    article's `place_mentions`, read once for all its numbers)."""
    token = article.token_at(number.end - 1)
    if token is None:
        return
    number.reported_by = reporter(article, token)
    found = places_and_time(article, token, spans_only=True)
    number.location, number.destination, number.period = found
    if number.location is None:
        skip = _exclude(article, token)
        number.location = inherited_place(
            article, token, skip, avoid=number.destination, mentions=mentions
        )
    number.side = _side(token)
    clause = _clause(token)
    others = _told_of_others(clause, token)
    words = [t for t in clause.subtree if t.i not in others]
    number.clause_lemmas = frozenset(lemma(t) for t in (*words, *shared_verbs(clause)))
    number.clause = clause_says(number.clause_lemmas)
    number.harmed = _harmed(token)
    number.held = _held(token) or _acting(token)
    number.treated = _treated(token)
    number.struck = _struck(token) or (_group_harm(token) if number.whole else None)
    number.restated = _restated(token)


PART_WORDS = frozenset({"include", "among"})


def _whole_of(token: Token) -> Token | None:
    """The noun (or number) a counted part hangs from: "28 civilians, including 19
    children", "the dead include 8 attackers" (None when it hangs from none)."""
    noun = _counted_noun(token)
    link = noun.head
    if link.lemma_.lower() not in PART_WORDS or link.i > noun.i:
        return None
    if link.dep_ == "prep" and link.head.pos_ in ("NOUN", "NUM", "PRON"):
        return link.head
    subject = subject_of(link) if link.pos_ == "VERB" else None
    return subject if subject is not None and subject.i < link.i else None


def link_parts(article: Article) -> None:
    """Mark each count that is part of another candidate's toll, and let it read the
    whole's clause: what happened to the whole happened to its parts."""
    counted = {}
    for i, number in enumerate(article.numbers):
        token = article.token_at(number.end - 1)
        if token is not None:
            counted[token.i] = i
            if token.dep_ in ("nummod", "quantmod"):
                counted.setdefault(token.head.i, i)
    for number in article.numbers:
        token = article.token_at(number.end - 1)
        whole = _whole_of(token) if token is not None else None
        j = counted.get(whole.i) if whole is not None else None
        if j is None or article.numbers[j] is number:
            continue
        number.part_of = j
        number.clause_lemmas |= article.numbers[j].clause_lemmas
        number.clause = clause_says(number.clause_lemmas)


def attribute_target(article: Article, target: TargetCandidate) -> None:
    """Fill when an attack on one target happened, from its clause's time words."""
    token = article.token_at(target.start)
    if token is not None:
        target.when = places_and_time(article, token)[2]


def attribute(article: Article) -> None:
    """Finder step: source, place and time of every number and target (needs
    find_names, find_quotes, find_quantities and find_targets)."""
    mentions = place_mentions(article)  # once: per number it was quadratic in long texts
    for number in article.numbers:
        attribute_number(article, number, mentions)
    link_parts(article)
    for target in article.targets:
        attribute_target(article, target)
