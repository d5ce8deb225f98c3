"""Facts from candidates and the model's labels: numbers, attacks, talks, speakers, kinds.

Every number is the candidate's own value and every evidence span the candidate's own
text; a label that points at no mark, or an attack target the sentence does not contain,
is left out rather than trusted.
"""

from __future__ import annotations

from typing import Any

from schemas.facts import Attack, Casualties, Displacement, Figure, Negotiation, NewsFacts
from schemas.labels import CandidateLabels, NumberLabel
from service.candidates.article import Article, NumberCandidate
from service.extraction.assemble import entity_fact, quote_fact
from service.extraction.marks import Marks
from service.grounding import normalize

CASUALTY_LABELS = frozenset({"killed", "injured", "killed_or_injured", "missing", "rescued"})
MOVEMENT_LABELS = frozenset({"fled_abroad", "evacuated", "displaced", "trapped", "sheltering"})
# The counted noun's lemma -> the population it names (general English, any conflict).
POPULATIONS = {
    "civilian": "civilians", "resident": "civilians", "child": "children",
    "children": "children", "kid": "children", "toddler": "children", "baby": "children",
    "infant": "children", "minor": "children", "soldier": "soldiers", "troop": "soldiers",
    "serviceman": "soldiers", "servicemen": "soldiers", "fighter": "soldiers",
    "doctor": "health_workers", "nurse": "health_workers", "medic": "health_workers",
    "paramedic": "health_workers", "person": "people", "people": "people",
}  # fmt: skip
KIND_OF_NAME = {"person": "people", "organization": "organizations", "place": "locations"}


def _evidence(article: Article, span: tuple[int, int]) -> str:
    return article.text[span[0] : span[1]].strip(" ,;:-\u2013\u2014")


def _number_fact(article: Article, number: NumberCandidate, label: NumberLabel) -> Any:
    evidence = _evidence(article, number.evidence)
    count = int(number.value)
    count_max = int(number.value_max) if number.value_max is not None else None
    if label.label in CASUALTY_LABELS:
        return "casualties", Casualties(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, outcome=label.label,  # type: ignore[arg-type]
            population=POPULATIONS.get(number.noun_lemma or ""),  # type: ignore[arg-type]
            side=label.side,
        )  # fmt: skip
    if label.label in MOVEMENT_LABELS:
        return "displacement", Displacement(
            evidence=evidence, count=count, count_max=count_max,
            approximate=number.approximate, movement=label.label,  # type: ignore[arg-type]
        )  # fmt: skip
    if label.label in ("money", "other_figure"):
        unit = number.unit or ("USD" if label.label == "money" else None)
        what = number.noun or ("money" if label.label == "money" else "quantity")
        return "figures", Figure(evidence=evidence, value=number.value, unit=unit, what=what)
    return None


def _in(needle: str | None, haystack: str) -> bool:
    return bool(needle) and normalize(needle or "") in normalize(haystack)


def build_facts(article: Article, marks: Marks, labels: CandidateLabels) -> NewsFacts:
    """The article's facts: entities (kinds corrected by the model), labelled numbers,
    attacks and talks from marked sentences, quotes with their speakers."""
    lists: dict[str, list[Any]] = {
        name: [] for name in ("people", "organizations", "locations", "casualties",
                              "displacement", "attacks", "negotiations", "figures", "quotes")
    }  # fmt: skip
    kinds = {marks.names[x.e].name: x.type for x in labels.names if x.e in marks.names}
    for entity in article.entities:
        kind = kinds.get(entity.name)
        if kind == "not_a_name":
            continue
        if kind is not None:
            entity.label = KIND_OF_NAME[kind]  # type: ignore[assignment]
        lists[entity.label].append(entity_fact(article, entity))

    seen_numbers: set[int] = set()
    for label in labels.numbers:
        index = marks.numbers.get(label.n)
        if index is None or index in seen_numbers:
            continue
        seen_numbers.add(index)
        built = _number_fact(article, article.numbers[index], label)
        if built is not None:
            lists[built[0]].append(built[1])

    for attack in labels.attacks:
        events = marks.sentences.get(attack.s)
        if not events or not _in(attack.target, article.text[events[0].start : events[0].end]):
            continue
        sentence = article.text[events[0].start : events[0].end].strip()
        lists["attacks"].append(Attack(evidence=sentence, **attack.model_dump(exclude={"s"})))
    for talks in labels.talks:
        events = marks.sentences.get(talks.s)
        if not events or not talks.parties:
            continue
        sentence = article.text[events[0].start : events[0].end].strip()
        lists["negotiations"].append(
            Negotiation(evidence=sentence, **talks.model_dump(exclude={"s"}))
        )

    speakers = {x.q: x.speaker for x in labels.speakers if x.q in marks.quotes}
    by_quote = {id(q): n for n, q in marks.quotes.items()}
    for quote in article.quotes:
        speaker = quote.speaker or speakers.get(by_quote.get(id(quote), -1))
        if speaker and _in(speaker, article.text):
            lists["quotes"].append(quote_fact(article, quote, speaker))
    return NewsFacts.model_validate(lists)
