"""Facts from candidates and the model's labels: numbers, attacks, talks, speakers, kinds.

Every number is the candidate's own value and every evidence span the candidate's own
text. Where the candidate's own words say what the model was asked (a number "were
killed", a target "maternity hospital", a "second round"), the words win; a speaker the
article never names is left out rather than trusted.
"""

from __future__ import annotations

import re
import string
from typing import Any

from schemas.facts import (
    FACT_LISTS,
    Attack,
    Casualties,
    Displacement,
    Figure,
    Negotiation,
    NewsFacts,
)
from schemas.labels import NameKind, NumberKind, TalksItem
from service.candidates.article import Article, Entity, NumberCandidate, TargetCandidate
from service.candidates.names import title_case_lines
from service.candidates.organizations import describe_organization
from service.candidates.people_nouns import PEOPLE_NOUNS
from service.candidates.places import country_of, describe_places
from service.candidates.quantities import CASUALTY_CUES, words_decide
from service.extraction.assemble import entity_fact, quote_fact
from service.extraction.tasks import Labels
from service.folding import normalize

CASUALTY_LABELS = frozenset(NumberKind[k] for k in ("killed", "injured", "killed_or_injured",
                                                     "missing", "rescued"))  # fmt: skip
MOVEMENT_LABELS = frozenset(NumberKind[k] for k in ("fled_abroad", "evacuated", "displaced",
                                                    "trapped", "sheltering"))  # fmt: skip
# The counted noun's lemma -> the population it names (general English, any conflict).
POPULATIONS = {
    "civilian": "civilians", "resident": "civilians", "child": "children",
    "children": "children", "kid": "children", "toddler": "children", "baby": "children",
    "infant": "children", "minor": "children", "soldier": "soldiers", "troop": "soldiers",
    "serviceman": "soldiers", "servicemen": "soldiers", "fighter": "soldiers",
    "doctor": "health_workers", "nurse": "health_workers", "medic": "health_workers",
    "paramedic": "health_workers", "person": "people", "people": "people",
}  # fmt: skip
# What a target's own words say it is, by the schema's target types (general English).
TARGET_WORDS = {
    "hospital": "hospital", "clinic": "hospital", "maternity": "hospital",
    "health": "hospital", "medical": "hospital", "school": "school",
    "kindergarten": "school", "university": "school", "theater": "theater",
    "theatre": "theater", "home": "residential", "house": "residential",
    "apartment": "residential", "residential": "residential",
    "village": "residential", "camp": "residential", "orphanage": "residential",
    "shelter": "residential", "dormitory": "residential", "tent": "residential",
    "neighborhood": "residential", "neighbourhood": "residential", "museum": "cultural",
    "church": "cultural", "mosque": "cultural", "cultural": "cultural",
    "bridge": "infrastructure", "railway": "infrastructure", "station": "infrastructure",
    "power": "infrastructure", "airport": "infrastructure", "port": "infrastructure",
    "nuclear": "nuclear_plant", "base": "military", "barracks": "military",
    "military": "military", "position": "military", "checkpoint": "military",
    "outpost": "military", "populated": "residential",
}  # fmt: skip
_WORDS = re.compile(r"[a-z]+")
KIND_OF_NAME = {"person": "people", "organization": "organizations", "place": "locations"}


_TRIM = " \t\n,;:-\u2013\u2014"


def trimmed(article: Article, span: tuple[int, int], edges: str = _TRIM) -> tuple[int, int]:
    """A span without the spaces and punctuation (`edges`) at its ends."""
    start, end = span
    while start < end and article.text[start] in edges:
        start += 1
    while end > start and article.text[end - 1] in edges:
        end -= 1
    return start, end


def _population(number: NumberCandidate) -> str | None:
    """Who a casualty count counts: the counted noun's population; with no such noun, the
    one its clause names ("civilian casualties: 780 killed"); else "people" when the noun
    (or its absence: "17 were killed") says only that they were people."""
    known = POPULATIONS.get(number.noun_lemma or "")
    if known is None and (number.noun is None or number.people):
        named = {POPULATIONS[w] for w in number.clause_lemmas if w in POPULATIONS} - {"people"}
        known = named.pop() if len(named) == 1 else "people"
    return known


def _number_fact(article: Article, number: NumberCandidate, kind: NumberKind) -> Any:
    span = trimmed(article, number.evidence)
    evidence = article.text[span[0] : span[1]]
    count = int(number.value)
    count_max = int(number.value_max) if number.value_max is not None else None
    where = {"location": number.location, "period": number.period,
             "reported_by": number.reported_by}  # fmt: skip
    if kind in CASUALTY_LABELS:
        fact = Casualties(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, outcome=kind.name,  # type: ignore[arg-type]
            population=_population(number),  # type: ignore[arg-type]
            side=number.side, **where,
        ).at(*span)  # fmt: skip
        return "casualties", fact.counting() if number.unnumbered else fact
    if kind in MOVEMENT_LABELS:
        return "displacement", Displacement(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, movement=kind.name,  # type: ignore[arg-type]
            destination=number.destination, **where,
        ).at(*span)  # fmt: skip
    single = number.value == 1 and number.value_max is None
    few = number.value <= 10 and (number.noun is None or number.definite)
    # a number written with a decimal point is a measurement ("magnitude 6.3", "at 7.0")
    measured = "." in article.text[number.start : number.end]
    if kind is NumberKind.other_figure and (single or few) and not measured:
        return None  # "only one city", "is one", "the two sides": words, not figures to report
    if kind in (NumberKind.money, NumberKind.other_figure):
        money = kind is NumberKind.money
        unit = number.unit or ("USD" if money else None)
        what = number.noun or ("money" if money else "quantity")
        return "figures", Figure(
            evidence=evidence, value=number.value, unit=unit, what=what,
            reported_by=number.reported_by,
        ).at(*span)  # fmt: skip
    return None


# Who else can sit at a table, unnamed ("the government", "the opposition")
SIDE_NOUNS = frozenset(
    {"government", "opposition", "army", "military", "authority", "side", "party", "force",
     "delegation", "negotiator", "mediator", "militia"}
)  # fmt: skip
ABROAD_WORDS = frozenset({"abroad", "border", "country", "neighbor", "neighbour", "overseas"})


def _movement(number: NumberCandidate) -> NumberKind:
    """The movement a clause's words name: its one movement label, "fled" across a border
    or to other countries as refugees, any other flight as displacement."""
    labels = number.clause - CASUALTY_CUES - {"moved"}
    if len(labels) == 1:
        return NumberKind[next(iter(labels))]
    if number.clause_lemmas & ABROAD_WORDS or (
        number.destination and country_of(number.destination)
    ):
        return NumberKind.fled_abroad
    return NumberKind.displaced


_HURT = frozenset({"killed", "injured", "killed_or_injured"})


def read_number(number: NumberCandidate, kind: NumberKind) -> NumberKind:
    """The label a number gets: the model's, unless the text's words say otherwise. A
    count is a casualty only when its clause says what harmed those people, and a
    displacement only when it says they moved; "casualties" only for words that say
    killed-or-injured; people held, swapped, employed or surveyed are figures."""
    if kind is NumberKind.not_a_count:
        return kind
    # "22 civilians were killed", "$100 billion": the words beside the number say what
    # happened (but not of a count of things or a measure: "43 attacks killed …")
    decided = words_decide(number)
    if decided is not None:
        return NumberKind[decided]
    harm = number.clause & CASUALTY_CUES
    moved = number.clause - CASUALTY_CUES
    # a noun that names no people ("5,700 houses", "43 attacks"), unless it is what the
    # harm word was done to ("54 recruits … were killed", "59 deaths")
    unpeopled = number.people is False and not (number.harmed and kind in CASUALTY_LABELS)
    if (kind in CASUALTY_LABELS or kind in MOVEMENT_LABELS) and (
        number.measure or unpeopled or number.whole
    ):
        # "30 meters", "5,700 houses", "43 attacks", "150 of the village's 1,800 residents"
        return NumberKind.other_figure
    if kind is NumberKind.other_figure and number.people and harm:
        # "the dead include … eight attackers", "54 recruits … were killed": people the
        # clause says were harmed are casualties, whatever the model called the count
        return _harm(harm)
    if kind in CASUALTY_LABELS and not harm:
        return _movement(number) if moved else NumberKind.other_figure
    if kind in MOVEMENT_LABELS and not moved:
        return NumberKind.other_figure
    if kind is NumberKind.killed and "injured" in harm and "killed" not in harm:
        return NumberKind.injured  # "four people were shot and wounded": no death word
    if kind is NumberKind.killed_or_injured or (
        kind in (NumberKind.killed, NumberKind.injured) and harm == {"killed_or_injured"}
    ):
        # "four people were shot", "ten victims": the words say harmed, not which way;
        # "two men were taken to hospital with wounds": no death word, no death
        return _harm(harm)
    if kind in (NumberKind.killed, NumberKind.injured) and not harm & _HURT:
        # the clause says missing or rescued, nothing of dead or hurt ("50,000 troops were
        # deployed to assist in rescue efforts" read as killed)
        kind = _harm(harm)
    if kind is NumberKind.rescued and not number.harmed:
        return NumberKind.other_figure  # "50,000 troops … in rescue efforts": rescuers
    if kind is NumberKind.displaced and number.destination and country_of(number.destination):
        return NumberKind.fled_abroad  # "fled to Chad": to another country
    return kind


def number_kinds(article: Article, labels: Labels) -> dict[int, NumberKind]:
    """Each labelled number's kind (`read_number`); a part of a toll ("including 19
    children") takes the whole's, when the whole counts people harmed or moved."""
    kinds = {i: read_number(article.numbers[i], kind) for i, kind in labels.numbers.items()}
    for i, number in enumerate(article.numbers):
        decided = words_decide(number) if i not in kinds else None
        if decided is not None:  # never asked: its words decide (`tasks.plan`)
            kinds[i] = NumberKind[decided]
    for i in kinds:
        number = article.numbers[i]
        whole = kinds.get(number.part_of) if number.part_of is not None else None
        if whole in CASUALTY_LABELS | MOVEMENT_LABELS and number.people is not False:
            kinds[i] = whole
        if kinds[i] in CASUALTY_LABELS and number.held and not number.harmed:
            kinds[i] = NumberKind.other_figure  # "Five arrested in the shooting": suspects
        if number.restated and kinds[i] in CASUALTY_LABELS:
            kinds[i] = NumberKind.not_a_count  # "Durham was one of five people shot": Durham
        if number.struck and kinds[i] in CASUALTY_LABELS | {NumberKind.other_figure}:
            kinds[i] = NumberKind[number.struck]  # "the wounding of three others": injured
        if kinds[i] is NumberKind.killed and number.treated and not number.harmed:
            kinds[i] = NumberKind.injured  # "two men were taken to hospital": alive then
    return kinds


def _harm(harm: frozenset[str]) -> NumberKind:
    """The casualty label a clause's harm words give: "killed or injured" for both or for
    "casualties"; killed beside missing or rescued ("dead or missing"); else its one
    label; "casualties" when they say several other things."""
    if "killed_or_injured" in harm or {"killed", "injured"} <= harm:
        return NumberKind.killed_or_injured
    if "killed" in harm:
        return NumberKind.killed  # "dead or missing", "killed or rescued": a toll of the dead
    return NumberKind[next(iter(harm))] if len(harm) == 1 else NumberKind.killed_or_injured


def _in(needle: str | None, haystack: str) -> bool:
    return bool(needle) and normalize(needle or "") in normalize(haystack)


def target_type(target: str) -> str | None:
    """The target type the target's own words name ("maternity hospital": hospital)."""
    for word in _WORDS.findall(normalize(target)):
        kind = TARGET_WORDS.get(word) or TARGET_WORDS.get(word.removesuffix("s"))
        if kind is not None:
            return kind
    return None


def _place(
    name: str | None, sentence: str, places: dict[str, str], guess: bool = True
) -> str | None:
    """A place the article names: `name`, when it is one of them; else (if `guess`) the
    first place the sentence names."""
    if name and normalize(name) in places:
        return places[normalize(name)]
    if not guess:
        return None
    norm = normalize(sentence)
    found = [
        (m.start(), place)
        for key, place in places.items()
        if (m := re.search(rf"\b{re.escape(key)}\b", norm))  # "Russia", not in "Russian"
    ]
    return min(found)[1] if found else None


def _target_words(attack: Attack) -> frozenset[str]:
    return frozenset(_WORDS.findall(normalize(attack.target))) - {"the", "a", "an"}


def distinct(facts: list[Any], *fields: str) -> list[Any]:
    """The facts with no repeat (a headline's "Eight killed" and the body's "killed at
    least eight people"): a fact repeats a kept one when each field is the same or unknown
    in one of them (of a toll of several, a population of "people" says no more than none:
    "Killing 16 Villagers", then "16 villagers, including children"; one driver and one
    woman killed are two people); the first is kept."""

    def same(a: Any, b: Any) -> bool:
        vague = (None, "people") if getattr(a, "count", 0) > 1 else (None,)
        pairs = [(getattr(a, f), getattr(b, f)) for f in fields]
        return all(x == y or x in vague or y in vague for x, y in pairs)

    kept: list[Any] = []
    for fact in facts:
        first = next((k for k in kept if same(fact, k)), None)
        if first is None:
            kept.append(fact)
            continue
        # the repeat tells what the first left out ("17 killed", then "at least 17 …, police said")
        first.approximate = first.approximate or fact.approximate
        for name in ("location", "period", "reported_by", "side", "destination"):
            if getattr(first, name, None) is None and getattr(fact, name, None) is not None:
                setattr(first, name, getattr(fact, name))
    return kept


def merge_attacks(attacks: list[Attack]) -> list[Attack]:
    """One fact per attacked target: sentences that name the same target of the same type
    ("a theater", then "attacking the theater"; "the maternity hospital", then "the
    hospital"; "a school", then "the Ain Jalout school") at one place report one attack;
    the first is kept, with the fullest name of the target and the others' details."""
    merged: list[Attack] = []
    for attack in attacks:
        words = _target_words(attack)
        same = next(
            (m for m in merged
             if m.target_type == attack.target_type
             and (words <= _target_words(m)
                  or (_target_words(m) <= words and _one_place(m, attack)))),
            None,
        )  # fmt: skip
        if same is None:
            merged.append(attack)
            continue
        if not words <= _target_words(same):
            # "a school", then "the Ain Jalout school": the fuller fact is kept, with its
            # evidence, and takes the first one's details
            merged[merged.index(same)], same, attack = attack, attack, same
        for name in ("location", "attributed_to", "denied_by"):
            if getattr(same, name) is None:
                setattr(same, name, getattr(attack, name))
    return merged


def _not_a_toll_again(
    text: str, lists: dict[str, list[Any]], counted: list[tuple[Any, Any]]
) -> list[Any]:
    """The figures but those that count, in people or bodies, the number a casualty or
    displacement fact counts, in a headline or in the toll's paragraph: a headline's "28
    bodies, 19 children" is the body's toll of 28 killed, 19 of them children, said again
    ("28 soldiers were deployed" elsewhere is not)."""
    headlines = title_case_lines(text)
    first = text.find("\n")
    if 0 < first <= 200:  # the first line, short: the headline, in whatever case
        headlines.append((0, first))

    def paragraph(fact: Any) -> int:
        return text.rfind("\n", 0, fact.span[0] if fact.span else 0)

    tolls = {(f.count, paragraph(f)) for f in [*lists["casualties"], *lists["displacement"]]}
    counts = {count for count, _ in tolls}
    again = set()
    for fact, number in counted:
        if fact.__class__.__name__ != "Figure" or not (
            number.people or number.noun_lemma == "body"
        ):
            continue
        in_headline = any(lo <= number.start < hi for lo, hi in headlines)
        if (fact.value in counts and in_headline) or (fact.value, paragraph(fact)) in tolls:
            again.add(id(fact))
    return [f for f in lists["figures"] if id(f) not in again]


def _one_place(a: Attack, b: Attack) -> bool:
    """Whether two attacks may be at one place: the same, or one of them placed nowhere."""
    return a.location is None or b.location is None or a.location == b.location


def _a_side(party: str) -> bool:
    """Whether a party the model names can talk: a name, or people ("rebels"), not a thing
    ("the press conference")."""
    if any(c.isupper() for c in party):
        return True
    last = party.split()[-1].lower() if party.split() else ""
    singular = last[:-3] + "y" if last.endswith("ies") else last.removesuffix("s")
    return bool({last, singular} & (PEOPLE_NOUNS | SIDE_NOUNS))


def _talks(article: Article, labels: Labels, places: dict[str, str]) -> list[Negotiation]:
    """A negotiation per talks sentence between two sides or more: the model's, else those
    that signed ("X and Y signed a peace deal": the parse names them)."""
    found = []
    for i, event in enumerate(article.events):
        talks = labels.talks.get(i) or TalksItem(parties=[])
        own = [p for p in talks.parties if _a_side(p)]
        parties = own if len(own) >= 2 else event.signers
        if len(parties) < 2:
            continue  # talks are between sides: one alone held none
        span = trimmed(article, (event.start, event.end), string.whitespace)
        sentence = article.text[span[0] : span[1]]
        found.append(
            Negotiation(
                evidence=sentence, parties=parties, round=event.round,
                format=event.format,  # type: ignore[arg-type]
                venue=_place(event.venue, sentence, places, guess=False),
                outcome=talks.outcome if parties is own else "agreement",
            ).at(*span)
        )  # fmt: skip
    return found


def merge_talks(talks: list[Negotiation]) -> list[Negotiation]:
    """One fact per round of talks: sentences about talks between the same parties are the
    same talks unless they name different rounds; the first keeps the others' details."""
    merged: list[Negotiation] = []
    for item in talks:
        parties = {normalize(p) for p in item.parties}
        same = next(
            (m for m in merged
             if {normalize(p) for p in m.parties} == parties
             and (m.round is None or item.round is None or m.round == item.round)),
            None,
        )  # fmt: skip
        if same is None:
            merged.append(item)
            continue
        for name in ("round", "format", "venue", "outcome"):
            if getattr(same, name) in (None, "unknown") and getattr(item, name) is not None:
                setattr(same, name, getattr(item, name))
    return merged


def _attack_fact(article: Article, target: TargetCandidate, places: dict[str, str]) -> Attack:
    """The attack on a target the parse found: its type from the target's own words,
    its place the first the article names from the target on (else in its sentence)."""
    hi = target.sentence[1]
    words = article.text[target.start : target.end]
    span = trimmed(article, target.sentence, string.whitespace)
    sentence = article.text[span[0] : span[1]]
    return Attack(
        evidence=sentence, target=words, target_type=target_type(words) or "other",
        location=_place(None, article.text[target.start : hi], places)
        or _place(None, sentence, places),
        attributed_to=_actor(target.attributed_to), denied_by=_actor(target.denied_by),
        when=target.when,
    ).at(*span)  # fmt: skip


def _actor(name: str | None) -> str | None:
    """An attacker or denier named by a nationality ("Russian") as its country."""
    if name is None or " " in name:
        return name
    return country_of(name) or name


def _person_named(answer: str | None, article: Article) -> str | None:
    """The person the model's speaker answer names, by the article's own name for them
    ("Chinese President Xi Jinping" -> "Xi Jinping"); the answer as given otherwise."""
    if not answer:
        return answer
    named = [
        e.name
        for e in article.entities
        if e.label == "people"
        and any(re.search(rf"\b{re.escape(n)}\b", answer) for n in (e.name, *e.aliases))
    ]
    return named[0] if len(named) == 1 else answer


def build_facts(article: Article, labels: Labels) -> NewsFacts:
    """The article's facts: entities (kinds corrected by the model), labelled numbers,
    attacks on the targets found, talks from talks sentences, quotes with their speakers."""
    lists: dict[str, list[Any]] = {name: [] for name in FACT_LISTS}
    relabelled: list[Entity] = []
    for i, entity in enumerate(article.entities):
        kind = labels.names.get(i)
        if kind is NameKind.not_a_name:
            continue
        # News introduces a person by full name: a lone word spaCy reads as an organisation
        # ("Twitter", a club, a brand) is not made a person by the model's label.
        if kind is NameKind.person and entity.label == "organizations":
            kind = None
        if kind is not None and KIND_OF_NAME[kind] != entity.label:
            entity.label = KIND_OF_NAME[kind]  # type: ignore[assignment]
            entity.kind = entity.country = None
            relabelled.append(entity)
    describe_places(article, [e for e in relabelled if e.label == "locations"])
    for entity in relabelled:
        if entity.label == "organizations":
            describe_organization(entity)
    for i, entity in enumerate(article.entities):
        if labels.names.get(i) is not NameKind.not_a_name:
            lists[entity.label].append(entity_fact(article, entity))

    counted: list[tuple[Any, NumberCandidate]] = []
    for i, kind in sorted(number_kinds(article, labels).items()):
        built = _number_fact(article, article.numbers[i], kind)
        if built is not None:
            lists[built[0]].append(built[1])
            counted.append((built[1], article.numbers[i]))
    lists["figures"] = _not_a_toll_again(article.text, lists, counted)

    lists["casualties"] = distinct(lists["casualties"], "count", "outcome", "population")
    lists["displacement"] = distinct(lists["displacement"], "count", "movement")
    places = {normalize(e.name): e.name for e in article.entities if e.label == "locations"}
    lists["attacks"] = [_attack_fact(article, target, places) for target in article.targets]
    lists["attacks"] = merge_attacks(lists["attacks"])
    lists["negotiations"] = merge_talks(_talks(article, labels, places))

    for i, quote in enumerate(article.quotes):
        speaker = quote.speaker or _person_named(labels.speakers.get(i), article)
        if speaker and _in(speaker, article.text):
            lists["quotes"].append(quote_fact(article, quote, speaker))
    return NewsFacts.model_validate(lists)
