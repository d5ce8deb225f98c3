"""Facts from candidates and the model's labels: numbers, attacks, talks, speakers, kinds.

Every number is the candidate's own value and every evidence span the candidate's own
text; a label that points at no mark, or an attack target the sentence does not contain,
is left out rather than trusted.
"""

from __future__ import annotations

import re
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
from schemas.labels import NameKind, NumberKind
from service.candidates.article import Article, NumberCandidate
from service.candidates.quantities import CURRENCIES
from service.extraction.assemble import entity_fact, quote_fact
from service.extraction.grounding import normalize
from service.extraction.tasks import Labels

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
CURRENCY_CODES = frozenset(CURRENCIES.values())
# Counted nouns that never name people (general English: buildings, places, vehicles,
# weapons, units, events): a casualty or displacement label on them is the model's slip.
NOT_PEOPLE = frozenset(
    {
        "house", "home", "building", "apartment", "village", "town", "city", "district",
        "province", "region", "country", "mile", "kilometre", "kilometer", "km", "meter", "metre",
        "foot", "yard", "acre", "hectare", "ton", "tonne", "litre", "liter", "truck", "truckload",
        "vehicle", "car", "bus", "tank", "aircraft", "plane", "jet", "helicopter", "drone", "ship",
        "boat", "missile", "rocket", "shell", "bomb", "round", "weapon", "gun", "attack", "strike",
        "raid", "airstrike", "explosion", "hospital", "school", "bridge", "road", "facility",
        "site", "shelter", "tent", "day", "week", "month", "year", "hour", "minute", "dollar",
        "euro", "pound", "percent",
    }
)  # fmt: skip
# What a target's own words say it is, by the schema's target types (general English).
TARGET_WORDS = {
    "hospital": "hospital", "clinic": "hospital", "maternity": "hospital",
    "health": "hospital", "medical": "hospital", "school": "school",
    "kindergarten": "school", "university": "school", "theater": "theater",
    "theatre": "theater", "home": "residential", "house": "residential",
    "apartment": "residential", "residential": "residential", "museum": "cultural",
    "church": "cultural", "mosque": "cultural", "cultural": "cultural",
    "bridge": "infrastructure", "railway": "infrastructure", "station": "infrastructure",
    "power": "infrastructure", "airport": "infrastructure", "port": "infrastructure",
    "nuclear": "nuclear_plant", "base": "military", "barracks": "military",
    "military": "military",
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_WORDS = re.compile(r"[a-z]+")
KIND_OF_NAME = {"person": "people", "organization": "organizations", "place": "locations"}


def _evidence(article: Article, span: tuple[int, int]) -> str:
    return article.text[span[0] : span[1]].strip(" ,;:-\u2013\u2014")


def _number_fact(article: Article, number: NumberCandidate, kind: NumberKind) -> Any:
    evidence = _evidence(article, number.evidence)
    count = int(number.value)
    count_max = int(number.value_max) if number.value_max is not None else None
    if kind in CASUALTY_LABELS:
        return "casualties", Casualties(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, outcome=kind.name,  # type: ignore[arg-type]
            population=POPULATIONS.get(number.noun_lemma or ""),  # type: ignore[arg-type]
        )  # fmt: skip
    if kind in MOVEMENT_LABELS:
        return "displacement", Displacement(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, movement=kind.name,  # type: ignore[arg-type]
        )  # fmt: skip
    if kind in (NumberKind.money, NumberKind.other_figure):
        money = kind is NumberKind.money
        unit = number.unit or ("USD" if money else None)
        what = number.noun or ("money" if money else "quantity")
        return "figures", Figure(evidence=evidence, value=number.value, unit=unit, what=what)
    return None


def _in(needle: str | None, haystack: str) -> bool:
    return bool(needle) and normalize(needle or "") in normalize(haystack)


def target_type(target: str) -> str | None:
    """The target type the target's own words name ("maternity hospital": hospital)."""
    for word in _WORDS.findall(normalize(target)):
        kind = TARGET_WORDS.get(word) or TARGET_WORDS.get(word.removesuffix("s"))
        if kind is not None:
            return kind
    return None


def _ordinals(sentence: str) -> set[int]:
    """The round numbers a sentence states ("second round", "round 3")."""
    words = _WORDS.findall(normalize(sentence))
    return {ORDINALS[w] for w in words if w in ORDINALS} | {
        int(n) for n in re.findall(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", sentence)
    }


def _place(
    name: str | None, sentence: str, places: dict[str, str], guess: bool = True
) -> str | None:
    """A place the article names: the model's, when it is one; else (if `guess`) the first
    place the sentence names."""
    if name and normalize(name) in places:
        return places[normalize(name)]
    if not guess:
        return None
    norm = normalize(sentence)
    found = [(norm.find(key), place) for key, place in places.items() if key in norm]
    return min(found)[1] if found else None


def merge_attacks(attacks: list[Attack]) -> list[Attack]:
    """One fact per attacked target: sentences that name the same target of the same type
    (the theater, then "attacking the theater") report one attack; the first is kept."""
    merged: list[Attack] = []
    seen: set[tuple[str | None, str]] = set()
    for attack in attacks:
        key = (attack.target_type, re.sub(r"^(the|a|an) ", "", normalize(attack.target)))
        if key not in seen:
            seen.add(key)
            merged.append(attack)
    return merged


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


def build_facts(article: Article, labels: Labels) -> NewsFacts:
    """The article's facts: entities (kinds corrected by the model), labelled numbers,
    attacks and talks from event sentences, quotes with their speakers."""
    lists: dict[str, list[Any]] = {name: [] for name in FACT_LISTS}
    for i, entity in enumerate(article.entities):
        kind = labels.names.get(i)
        if kind is NameKind.not_a_name:
            continue
        if kind is not None:
            entity.label = KIND_OF_NAME[kind]  # type: ignore[assignment]
        lists[entity.label].append(entity_fact(article, entity))

    for i, kind in sorted(labels.numbers.items()):
        number = article.numbers[i]
        # The words beside the number, when they say what happened, outrank the model.
        if number.cue is not None and kind is not NumberKind.not_a_count:
            kind = NumberKind[number.cue]
        elif number.unit in CURRENCY_CODES and kind is not NumberKind.not_a_count:
            kind = NumberKind.money  # "$100 billion" counts no people, whatever the model says
        elif (kind in CASUALTY_LABELS or kind in MOVEMENT_LABELS) and (
            number.measure or number.noun_lemma in NOT_PEOPLE
        ):
            kind = NumberKind.other_figure  # "30 meters", "5,700 houses", "43 attacks"
        built = _number_fact(article, number, kind)
        if built is not None:
            lists[built[0]].append(built[1])

    places = {normalize(e.name): e.name for e in article.entities if e.label == "locations"}
    actors = {normalize(e.name) for e in article.entities if e.label != "locations"}
    for i, attacks in sorted(labels.attacks.items()):
        event = article.events[i]
        sentence = article.text[event.start : event.end].strip()
        for attack in attacks:
            # A target the sentence does not name is made up; a person or body is no target.
            if not _in(attack.target, sentence) or normalize(attack.target) in actors:
                continue
            lists["attacks"].append(
                Attack(
                    evidence=sentence, target=attack.target,
                    target_type=target_type(attack.target) or attack.target_type,
                    location=_place(attack.location, sentence, places),
                    attributed_to=attack.attributed_to, denied_by=attack.denied_by,
                )
            )  # fmt: skip
    lists["attacks"] = merge_attacks(lists["attacks"])
    for i, talks in sorted(labels.talks.items()):
        event = article.events[i]
        if talks.parties:
            sentence = article.text[event.start : event.end].strip()
            stated = talks.round if talks.round in _ordinals(sentence) else None
            lists["negotiations"].append(
                Negotiation(
                    evidence=sentence, parties=talks.parties, round=stated,
                    format=talks.format, venue=_place(talks.venue, sentence, places, guess=False),
                    outcome=talks.outcome,
                )
            )  # fmt: skip
    lists["negotiations"] = merge_talks(lists["negotiations"])

    for i, quote in enumerate(article.quotes):
        speaker = quote.speaker or labels.speakers.get(i)
        if speaker and _in(speaker, article.text):
            lists["quotes"].append(quote_fact(article, quote, speaker))
    return NewsFacts.model_validate(lists)
