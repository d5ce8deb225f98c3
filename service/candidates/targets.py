"""Attack targets: what the parse says an attack word hit ("missiles struck homes and a
school", "attacks on hospitals", "a building damaged by shelling", "X came under fire").

The attack words are general news usage (lemmas), the patterns are English syntax. Words
a disaster shares with an attack ("the quake struck", "homes were damaged") count only in
a sentence that names no natural hazard. (Asked per target whether the text reports it
attacked, the embedded 1.5B said yes to 24 of 25 candidates, earthquake damage included:
the parse decides, the model is not asked; evals/README.md has the figures.)
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Span, Token

from service.candidates.article import Article, TargetCandidate, opening_end
from service.candidates.people_nouns import names_people
from service.candidates.quantities import plural_before_participle

# Verbs whose object (or passive subject) is what was hit.
HIT_VERBS = frozenset(
    {
        "attack", "strike", "hit", "shell", "bomb", "bombard", "target", "pound", "raid",
        "storm", "damage", "destroy", "demolish", "flatten", "level", "torch",
        "burn", "blow", "ram", "assault", "ambush", "strafe",
    }
)  # fmt: skip
# Nouns for an attack: "attacks on", "the bombing of", "came under fire".
ATTACK_NOUNS = frozenset(
    {
        "attack", "strike", "airstrike", "shelling", "bombing", "bombardment", "raid",
        "assault", "explosion", "blast", "fire", "barrage", "missile", "rocket", "drone",
        "artillery", "gunfire",
    }
)  # fmt: skip
# Attack words no disaster uses: with one of these, a hazard in the sentence does not matter.
WEAPON_WORDS = frozenset(
    {
        "shell", "bomb", "bombard", "raid", "airstrike", "shelling", "bombing",
        "bombardment", "missile", "rocket", "drone", "artillery", "gunfire", "barrage",
    }
)  # fmt: skip
# Natural hazards and accidents (general English): what else hits, damages and destroys.
HAZARDS = frozenset(
    {
        "earthquake", "quake", "tremor", "aftershock", "storm", "hurricane", "typhoon",
        "cyclone", "tornado", "flood", "flooding", "landslide", "mudslide", "avalanche",
        "tsunami", "wildfire", "eruption", "volcano", "lightning", "drought", "heatwave",
        "wind", "rain", "snow", "wave", "crash", "accident", "collision",
    }
)  # fmt: skip
_OBJECT_PREPS = frozenset({"on", "of", "against", "at"})
# "fired on a camp", "shells landed on a house": verbs whose "on"/"at" object was hit when
# what moved was a weapon (or, for "fire", always).
FIRE_VERBS = frozenset({"fire", "shoot", "open"})
LAND_VERBS = frozenset({"land", "fall", "slam", "crash", "explode", "impact"})
PROJECTILES = WEAPON_WORDS | frozenset({"round", "shell", "mortar", "grenade", "bomb"})
_FIRE_PREPS = frozenset({"on", "at", "upon", "into"})
_LAND_PREPS = frozenset({"on", "onto", "into", "in"})
# Nouns an attack word governs in idioms, not things hit ("attacks on the ground").
NOT_HIT = frozenset({"ground", "other", "others", "one", "part", "way", "side", "path"})
_RELATIVE = frozenset({"that", "which", "who", "where"})
_DENY = frozenset({"deny", "reject", "dispute"})
_ACTORS = frozenset({"PERSON", "NORP", "ORG", "GPE"})
_HEAD_DEPS = frozenset({"relcl", "ccomp", "xcomp", "conj", "advcl"})
_PHRASE_DEPS = frozenset({"det", "amod", "compound", "nummod", "poss", "case", "nmod"})
_NOT_TARGETS = frozenset({"PERSON", "NORP", "ORG", "DATE", "TIME"})
_PLACES = frozenset({"GPE", "LOC", "FAC"})
_NOUNS = frozenset({"NOUN", "PROPN"})


def _lemma(token: Token) -> str:
    return token.lemma_.lower()


def _hit_verb(token: Token) -> bool:
    """An attack verb, or its participle tagged an adjective ("hit civilian targets")."""
    lemma = _lemma(token)
    if token.pos_ == "VERB":
        return lemma in HIT_VERBS
    stems = (lemma, lemma.removesuffix("d"), lemma.removesuffix("ed"))
    return token.pos_ == "ADJ" and any(stem in HIT_VERBS for stem in stems)


def _antecedent(token: Token) -> Token | None:
    """The noun a relative pronoun stands for ("a theater that ... had been hit")."""
    head = token.head
    while head.dep_ in _HEAD_DEPS and head.head.i != head.i:
        if head.dep_ == "relcl":
            return head.head
        head = head.head
    return None


def _generic(noun: Token) -> bool:
    """Attacks spoken of in general: the subject of a present-tense or modal verb
    ("attacks on hospitals are a violation", "attacks on clinics can be war crimes")."""
    verb = noun.head
    if noun.dep_ != "nsubj" or verb.pos_ not in ("VERB", "AUX"):
        return False
    return verb.tag_ in ("VBZ", "VBP") or any(c.tag_ == "MD" for c in verb.children)


def _negated(word: Token) -> bool:
    """ "did not bomb", "never struck": the sentence says it did not happen."""
    return any(c.dep_ == "neg" for c in word.children)


def _with_conjuncts(token: Token) -> list[Token]:
    return [token, *token.conjuncts]


def _compound_agent(word: Token) -> bool:
    """ "crisis-hit areas", "drought-hit": the hyphened word before says what hit, and it
    is no weapon."""
    doc = word.doc
    if word.i < 2 or doc[word.i - 1].text != "-" or doc[word.i - 2].whitespace_:
        return False
    return _lemma(doc[word.i - 2]) not in PROJECTILES | ATTACK_NOUNS


def _fired_at(word: Token) -> Iterator[Token]:
    """ "fired on a camp", "opened fire on the crowd", "a shell landed on a house"."""
    lemma = _lemma(word)
    if word.pos_ != "VERB":
        return
    if lemma in LAND_VERBS:
        subjects = [c for c in word.children if c.dep_ in ("nsubj", "nsubjpass")]
        if not subjects or _lemma(subjects[0]) not in PROJECTILES:
            return
        preps = _LAND_PREPS
    elif lemma in FIRE_VERBS:
        if lemma == "open" and not any(_lemma(c) == "fire" for c in word.children):
            return
        preps = _FIRE_PREPS
    else:
        return
    aimed = [c for c in word.children if c.dep_ == "prep" and _lemma(c) in preps]
    if len(aimed) > 1:  # "fired on tribesmen at the border": the "at" says where
        aimed = [c for c in aimed if _lemma(c) != "at"]
    for prep in aimed:
        for obj in prep.children:
            if obj.dep_ == "pobj":
                yield from _with_conjuncts(obj)


def _hit(word: Token) -> Iterator[Token]:
    """The tokens an attack word says were hit."""
    lemma = _lemma(word)
    yield from _fired_at(word)
    if _hit_verb(word) and not _compound_agent(word):
        passive = any(c.dep_ == "auxpass" for c in word.children)
        for child in word.children:
            if child.dep_ in ("dobj", "nsubjpass") or (passive and child.dep_ == "nsubj"):
                target = _antecedent(child) if _lemma(child) in _RELATIVE else child
                if target is not None:
                    yield from _with_conjuncts(target)
        own_subject = any(c.dep_ in ("nsubj", "nsubjpass") for c in word.children)
        if word.dep_ in ("amod", "acl") and not own_subject and word.head.pos_ in _NOUNS:
            yield from _with_conjuncts(word.head)  # "bombed buildings", "a building hit by"
    if word.pos_ == "NOUN" and lemma in ATTACK_NOUNS and not _generic(word):
        for prep in word.children:
            if prep.dep_ == "prep" and _lemma(prep) in _OBJECT_PREPS:
                for obj in prep.children:
                    if obj.dep_ == "pobj":
                        yield from _with_conjuncts(obj)
        # "Kyiv came under attack", "the city was under fire"
        head = word.head
        if word.dep_ == "pobj" and _lemma(head) == "under" and head.head.pos_ in ("VERB", "AUX"):
            for child in head.head.children:
                if child.dep_ in ("nsubj", "nsubjpass"):
                    yield from _with_conjuncts(child)


def _phrase(target: Token) -> tuple[int, int]:
    """The target's words: its left modifiers (det, adjectives, compounds) and itself; a
    place in apposition stands for the phrase ("Ukraine's capital, Kyiv")."""
    for child in target.rights:
        if child.dep_ == "appos" and child.pos_ == "PROPN":
            return child.idx, child.idx + len(child.text)
    start = target
    for child in target.lefts:
        if child.dep_ == "amod" and any(child.children):
            continue  # "increasingly hit civilian targets": the verb's words, not the target's
        if child.dep_ in _PHRASE_DEPS:
            start = child if child.dep_ == "amod" else child.left_edge
            break
    return start.idx, target.idx + len(target.text)


def _actor(tokens: Iterator[Token]) -> str | None:
    """The first named actor among tokens (a country, a people, a force, a person)."""
    for token in tokens:
        if token.ent_type_ in _ACTORS and token.pos_ in ("PROPN", "ADJ", "NOUN"):
            return token.text
    return None


def _attributed_to(word: Token) -> str | None:
    """Who the sentence says attacked: "Russian attacks", "hit by Russian forces", "missiles
    fired from ...", the subject of an active attack verb."""
    near = [t for t in word.children if t.dep_ in ("amod", "compound", "poss", "nsubj")]
    for child in word.children:  # "hit by ...", "an attack from ..." (a verb's "from" is a place)
        if _lemma(child) == "by" or (word.pos_ == "NOUN" and _lemma(child) == "from"):
            near.extend(child.subtree)
    for child in near:
        found = _actor(child.subtree)
        if found:
            return found
    return None


def _denied_by(word: Token) -> str | None:
    """Who denies it, when the attack word stands under a denial ("Russia denies attacking")."""
    head = word
    for _ in range(3):
        head = head.head
        if _lemma(head) in _DENY:
            subjects = [t for t in head.children if t.dep_ == "nsubj"]
            return _actor(subjects[0].subtree) if subjects else None
        if head.head.i == head.i:
            break
    return None


def _is_actor(token: Token) -> bool:
    """A person, a people, an organisation, a pronoun, a date or a name that is no place:
    nothing hit."""
    if token.pos_ == "PROPN" and token.ent_type_ not in _PLACES:
        return True
    if names_people(token):
        return True
    return token.pos_ == "PRON" or token.ent_type_ in _NOT_TARGETS


def _hazard(sentence: Span) -> bool:
    """Whether the sentence names a natural hazard or an accident ("earthquake-hit")."""
    return any(
        _lemma(t) in HAZARDS or any(part in HAZARDS for part in _lemma(t).split("-"))
        for t in sentence
    )


def _targets(
    article: Article, sentence: Span, disaster: bool, places: set[int]
) -> Iterator[TargetCandidate]:
    hazard = disaster or _hazard(sentence)
    for word in sentence:
        if (hazard and _lemma(word) not in WEAPON_WORDS) or _negated(word):
            continue
        for hit in _hit(word):
            # "three U.N. schools housing refugees were bombed": the schools were hit
            phrase = hit.doc[hit.left_edge.i : hit.i + 1]
            target = plural_before_participle(phrase) if hit.i > hit.left_edge.i else None
            target = target or hit
            if (_is_actor(target) and target.idx not in places) or target.pos_ == "VERB":
                continue
            if _lemma(target) in ATTACK_NOUNS:
                continue
            if _lemma(target) in NOT_HIT:
                continue
            start, end = _phrase(target)
            yield TargetCandidate(
                start=start, end=end, sentence=(sentence.start_char, sentence.end_char),
                attributed_to=_attributed_to(word), denied_by=_denied_by(word),
            )  # fmt: skip


def place_offsets(article: Article) -> set[int]:
    """Every character offset of a place's mention: a name the article reads as a place can
    be hit ("the bombing of Qana", where spaCy's small model tags "Qana" an organisation)."""
    return {
        i for e in article.entities if e.label == "locations"
        for start, end in e.mentions for i in range(start, end)
    }  # fmt: skip


def _disaster(article: Article) -> bool:
    """Whether the report opens on a natural hazard (its headline and first paragraph name
    one and no weapon): then "destroyed", "hit" and "damaged" say what the hazard did."""
    opening = article.doc.char_span(0, opening_end(article.text), alignment_mode="contract")
    if opening is None:
        return False
    lemmas = {_lemma(t) for t in opening} | {p for t in opening for p in _lemma(t).split("-")}
    return bool(lemmas & HAZARDS) and not lemmas & (WEAPON_WORDS | {"attack"})


def find_targets(article: Article) -> None:
    """Add a TargetCandidate for each thing an attack word in a sentence says was hit."""
    disaster = _disaster(article)
    places = place_offsets(article)
    for sentence in article.doc.sents:
        seen: set[tuple[int, int]] = set()
        for candidate in _targets(article, sentence, disaster, places):
            if (candidate.start, candidate.end) not in seen:
                seen.add((candidate.start, candidate.end))
                article.targets.append(candidate)
