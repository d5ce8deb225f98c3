"""Counts a reader makes without a numeral: "a man was killed", "the body of a boy", "a
man and his two children were shot dead", "a double homicide".

Each is a NumberCandidate marked `unnumbered`, built only where the clause's own words say
what happened (killed, injured, shot), so the model is never asked about it: its label is
its cue. General English only: one person a harm verb was done to, named ("Kevie Durham,
24, was killed"), with "a", "an" or "another" ("a man was shot dead"), or bare in a
headline ("Man killed, boy injured"); or a "double" / "triple" killing.
"""

from __future__ import annotations

import re

from spacy.tokens import Token

from service.candidates.article import Article, NumberCandidate, entity_span
from service.candidates.people_nouns import PEOPLE_NOUNS
from service.candidates.quantities import clause_says, to_death
from service.numbers import MULTIPLES, numbers_in, ordinal_value

ONE = frozenset({"a", "an", "another"})
# Collective or plural-only nouns: "a family", "a crowd" is not one person.
NOT_ONE = frozenset({"people", "family", "crowd", "staff", "crew", "police", "elderly", "aid",
                     "dead", "youth", "children", "women", "men"})  # fmt: skip
# Police and headline English for one person: "a 21-year-old male was killed".
ONE_PERSON = PEOPLE_NOUNS | {"male", "female"}
KILLINGS = frozenset({"homicide", "murder", "killing", "slaying", "shooting", "stabbing"})
BODY = frozenset({"body", "corpse", "remains"})
# "He was pronounced dead": one person, whoever the pronoun stands for.
PRONOUNS = frozenset({"he", "she"})
PRONOUN_HARMS = frozenset({"killed", "injured", "killed_or_injured"})
MODALS = frozenset({"could", "would", "might", "may", "should", "must"})
# Words beside a harm word that say the harm killed ("shot dead", "the fatal shooting").
FATAL = frozenset({"dead", "fatally", "fatal", "deadly"})
# English agent suffixes: someone who raps, plays music, drives.
AGENT_SUFFIXES = ("er", "or", "ist", "ian")
# Common nouns of things with those endings ("his career is dead", "a character was killed
# off", "the sector"): no one.
NOT_AGENTS = frozenset(
    {"career", "character", "center", "centre", "computer", "sector", "theater", "theatre",
     "corridor", "number", "order", "border", "water", "power", "paper", "letter", "matter",
     "quarter", "river", "tower", "corner", "floor", "door", "motor", "factor", "error",
     "mirror", "monitor", "tractor", "reactor", "cancer", "danger", "winter", "summer",
     "anchor", "honor", "labor", "labour", "colour", "color", "interior", "meter", "printer",
     "trailer", "container", "poster", "chapter", "cluster", "counter", "shelter", "weather",
     "shoulder", "finger", "liver", "tumor", "tumour", "helicopter", "register", "roster",
     "ledger", "banner", "manner", "dinner", "server"}
)  # fmt: skip


def _label(words: frozenset[str]) -> str | None:
    """The casualty label a clause's lemmas give: killed over shot; shot alone is killed or
    injured (the archive's "shot"); None when they name no harm or several."""
    said = clause_says(words) - {"moved"}  # "fatally", "dead" say killed; "shot" harmed
    if "killed" in said:
        return "killed"
    if said == {"killed_or_injured"}:
        return "killed_or_injured"
    return next(iter(said)) if len(said) == 1 and said <= {"injured", "missing"} else None


def _verb_words(verb: Token) -> frozenset[str]:
    """A verb's lemma with its adverbs and complements ("shot dead", "fatally wounded", a
    violent verb's "to death")."""
    near = [c for c in verb.children if c.dep_ in ("advmod", "acomp", "oprd", "xcomp", "conj")]
    near += to_death(verb)
    return frozenset(t.lemma_.lower() for t in (verb, *near))


def _harm_of(noun: Token) -> tuple[str, Token] | None:
    """What a harm word says happened to the person the noun names, and that word: the
    subject of "was killed" / "died" / "dead", the object of "killed", "the body of" a
    person; a headline's "Man killed" (no object) and "boy injured"."""
    head = noun.head
    if any(c.dep_ == "aux" and c.lower_ in MODALS for c in head.children):
        return None  # "she could have been dead": it did not happen
    if noun.dep_ in ("nsubjpass", "dobj", "nsubj"):
        label = _label(_verb_words(head))
        headline = head.tag_ == "VBN" and not any(c.dep_ == "dobj" for c in head.children)
        if noun.dep_ == "nsubj" and head.lemma_.lower() not in ("die", "be", "dead"):
            label = label if headline and _bare(noun) else None  # "a man killed two": he did it
        return (label, head) if label else None
    acl = _participle(noun, noun, ("VBN",))
    if acl is not None and _bare(noun) and (label := _label(_verb_words(acl))):
        return label, acl
    if noun.dep_ == "pobj" and head.lower_ == "of" and head.head.lemma_.lower() in BODY:
        return "killed", head.head
    if label := attack_of(noun):
        return label, head.head  # "the fatal shooting of a woman", "the shooting death of X"
    return None


def _participle(noun: Token, after: Token, tags: tuple[str, ...]) -> Token | None:
    """The participle the parse hangs from the noun right after `after` ("people shot")."""
    return next((c for c in noun.children
                 if c.dep_ == "acl" and c.tag_ in tags and c.i == after.i + 1), None)  # fmt: skip


def participle_harm(noun: Token, after: Token | None = None) -> str | None:
    """What a harm participle right after the noun (or right after `after`) says was done
    to the people it names ("five people shot", "seven victims wounded"), else None."""
    acl = _participle(noun, after or noun, ("VBN", "VBD"))
    return _label(_verb_words(acl)) if acl is not None else None


def _person_noun(noun: Token) -> bool:
    lemma = noun.lemma_.lower()
    return noun.tag_ == "NN" and lemma not in NOT_ONE and lemma in ONE_PERSON


def _agent_noun(noun: Token) -> bool:
    """A noun naming someone by what they do ("a rapper", "a musician", "a motorist"): the
    agent suffixes of English, not a part of a whole ("a number of people")."""
    return (
        noun.tag_ == "NN"
        and len(noun.text) > 5
        and noun.lower_.endswith(AGENT_SUFFIXES)
        and noun.lemma_.lower() not in NOT_AGENTS
        and not any(c.dep_ == "prep" and c.lower_ == "of" for c in noun.children)
    )


def _bare(noun: Token) -> bool:
    """A headline's person noun with no determiner, owner, number or ordinal ("Man")."""
    return _person_noun(noun) and not any(
        c.dep_ in ("det", "poss", "nummod") or c.ent_type_ == "ORDINAL" for c in noun.children
    )


def _named(token: Token) -> bool:
    """The head word of a person's name ("Durham" of "Kevie Durham"), or of a name given
    an age ("Musician Kionn Lamothe, 25,"), whatever the entity tagger called it."""
    if token.tag_ != "NNP" or token.dep_ == "compound":
        return False
    return token.ent_type_ == "PERSON" or any(_an_age(c) for c in token.children)


def _an_age(token: Token) -> bool:
    """A number set off beside a name ("Lamothe, 25,"): an age."""
    return (
        token.dep_ == "appos"
        and bool(re.fullmatch(r"\d{1,3}", token.text))
        and 0 < int(token.text) < 110
    )


def attack_of(noun: Token) -> str | None:
    """What a shooting, stabbing or wounding "of" the noun's people did to them (`_attack_on`
    of the noun "of" hangs from), or None when the noun hangs from no "of"."""
    if noun.dep_ == "pobj" and noun.head.lower_ == "of":
        return _attack_on(noun.head.head)
    return None


def _attack_on(noun: Token) -> str | None:
    """What a shooting or stabbing "of" someone did to them: killed when "fatal" or
    "deadly" (or a "shooting death"), else killed or injured; a wounding injured. A
    "killing of" is left out: news recalls killings long past ("the killing of Gadhafi")."""
    lemma = noun.lemma_.lower()
    if lemma == "wounding":
        return "injured"
    if lemma == "death" and any(c.lower_ in ("shooting", "stabbing") for c in noun.children):
        return "killed"
    if lemma in ("shooting", "stabbing"):
        fatal = any(c.lemma_.lower() in ("fatal", "deadly") for c in noun.children)
        return "killed" if fatal else "killed_or_injured"
    return None


def _one_person(noun: Token) -> bool:
    """A person noun made one by "a" or an owner ("a man", "his brother"), or a noun of
    someone by what they do made one by "a" ("a rapper"; an owner's "his career" is none)."""
    one = _one_word(noun)
    if one is None:
        return False
    return _person_noun(noun) or (_agent_noun(noun) and one.dep_ == "det")


def _one_word(noun: Token) -> Token | None:
    """The word that makes a noun one person: "a", "an", "another", or an owner ("his
    brother", "her son")."""
    return next(
        (c for c in noun.children
         if (c.dep_ == "det" and c.lower_ in ONE) or (c.dep_ == "poss" and c.tag_ == "PRP$")),
        None,
    )  # fmt: skip


def _first(token: Token) -> Token | None:
    """Where the phrase counting one person starts (its "a", its name's first word, the
    bare noun), or None when the token counts no one."""
    if _one_person(token):
        return _one_word(token)
    if _named(token):
        span = entity_span(token)
        return span[0] if span is not None else token
    if _bare(token):
        return min((c for c in token.children if c.dep_ in ("amod", "compound")),
                   key=lambda c: c.i, default=token)  # fmt: skip
    if token.lower_ in PRONOUNS and token.tag_ == "PRP":
        return token
    return None


def _with_conjuncts(noun: Token) -> tuple[int, Token] | None:
    """One for the noun, plus each conjoined "his two children" (a number) or "a woman"
    (one); None when a conjunct counts no one can say ("and others")."""
    total, last = 1, noun
    for conj in noun.conjuncts:
        if conj.i < noun.i:
            return None
        nums = [c for c in conj.children if c.dep_ == "nummod" and c.like_num]
        if _one_person(conj) or _named(conj):
            total += 1
        elif nums and (values := numbers_in(nums[0].text)):
            total += int(values[0])
        else:
            return None
        last = conj
    return total, last


def _candidate(article: Article, first: Token, last: Token, count: int, label: str,
               verb: Token, noun: Token) -> NumberCandidate:  # fmt: skip
    """The count's candidate: its phrase is its span, its evidence the phrase and verb."""
    said = [verb, *(c for c in verb.children if c.lemma_.lower() in FATAL)]
    lo = min(first.idx, *(t.idx for t in said))
    hi = max(last.idx + len(last.text), *(t.idx + len(t.text) for t in said))
    return NumberCandidate(
        start=first.idx, end=last.idx + len(last.text), value=count, unit=noun.lower_,
        noun=noun.text, noun_lemma=noun.lemma_.lower(), evidence=(lo, hi), cue=label,
        people=True, harmed=True, unnumbered=True,
    )  # fmt: skip


def _ordinal_count(noun: Token) -> tuple[int, Token, Token] | None:
    """The toll an ordinal gives a death ("a third person has died", "The fifth man was
    pronounced dead": 3, 5; "2nd body found": 2): the count, where its phrase starts, and
    the word that says the death. A wounded "second victim" is victim number two of any
    number, so only a death or a body counts."""
    if noun.tag_ != "NN":
        return None
    ordinals = [(c, v) for c in noun.children if c.dep_ == "amod" and c.i < noun.i
                and (v := ordinal_value(c.text) or 0) >= 2]  # fmt: skip
    if not ordinals:
        return None
    ordinal, value = ordinals[0]
    start = _one_word(noun) or ordinal
    if noun.lemma_.lower() in BODY and noun.dep_ in ("nsubj", "nsubjpass", "dobj"):
        return value, start, noun.head
    if noun.lemma_.lower() not in ONE_PERSON:
        return None
    harm = _harm_of(noun)
    return (value, start, harm[1]) if harm is not None and harm[0] == "killed" else None


def _one_more(article: Article, token: Token) -> tuple[Token, str, Token] | None:
    """A victim an ordinal adds to a count just given, harmed another way: "Three people
    are dead and a fourth is wounded", "shooting three people to death and injuring a
    fourth" (one injured). Where the phrase starts, the harm, and the word that says it."""
    value = ordinal_value(token.text) or 0
    det = next((c for c in token.children if c.dep_ == "det" and c.lower_ in ("a", "an")), None)
    if value < 2 or det is None or token.tag_ != "JJ":
        return None  # ("a third man was wounded" is one person already: `_one_person`)
    start = token.sent.start_char
    if not any(start <= n.start < det.idx and n.value == value - 1 for n in article.numbers):
        return None
    harm = _harm_of(token)
    if harm is None or harm[0] == "killed":
        return None  # "two died and a third died": the ordinal numbers the dead (a toll)
    return det, *harm


def find_counts(article: Article) -> None:
    """Add a candidate per count a reader makes without a numeral (after find_quantities)."""
    taken = {(n.start, n.end) for n in article.numbers}
    found: list[NumberCandidate] = []
    for token in article.doc:
        if token.lower_ in MULTIPLES and token.head.lemma_.lower() in KILLINGS:
            killing = token.head
            label = "killed_or_injured" if killing.lemma_ in ("shooting", "stabbing") else "killed"
            found.append(_candidate(article, token, killing, MULTIPLES[token.lower_], label,
                                    killing, killing))  # fmt: skip
            continue
        if (toll := _ordinal_count(token)) is not None:
            value, start, verb = toll
            found.append(_candidate(article, start, token, value, "killed", verb, token))
            continue
        if (more := _one_more(article, token)) is not None:
            det, label, verb = more
            found.append(_candidate(article, det, token, 1, label, verb, token))
            continue
        first = _first(token) if token.dep_ != "conj" else None
        harm = _harm_of(token) if first is not None else None
        summed = _with_conjuncts(token) if harm is not None else None
        if first is None or harm is None or summed is None:
            continue
        if token.lower_ in PRONOUNS and harm[0] not in PRONOUN_HARMS:
            continue
        if harm[0] not in ("killed", "injured") and not _person_noun(token) and _agent_noun(token):
            continue  # "a helicopter was shot down": a thing can be shot, not killed
        found.append(_candidate(article, first, summed[1], summed[0], harm[0], harm[1], token))
    article.numbers.extend(n for n in found if (n.start, n.end) not in taken)
