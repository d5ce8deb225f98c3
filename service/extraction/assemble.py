"""Facts built from candidates: each carries its candidate's own span as evidence."""

from __future__ import annotations

from schemas.facts import Location, NewsFacts, Organization, Person, Quote
from service.candidates.article import Article, Entity, QuoteCandidate


def entity_fact(article: Article, entity: Entity) -> Person | Organization | Location:
    """The fact of one named entity, its evidence the mention it was read from."""
    evidence = article.text[entity.start : entity.end]
    span = entity.start, entity.end
    if entity.label == "people":
        return Person(
            evidence=evidence, name=entity.name, role=entity.role, affiliation=entity.affiliation
        ).at(*span)
    if entity.label == "organizations":
        kind = entity.kind
        return Organization(evidence=evidence, name=entity.name, kind=kind).at(*span)  # type: ignore[arg-type]
    return Location(
        evidence=evidence,
        name=entity.name,
        kind=entity.kind,
        country=entity.country,  # type: ignore[arg-type]
    ).at(*span)


def quote_fact(article: Article, quote: QuoteCandidate, speaker: str) -> Quote:
    """The fact of one quotation: its words, its marks and attribution as evidence."""
    person = next((e for e in article.entities if e.label == "people" and e.name == speaker), None)
    return Quote(
        evidence=article.text[quote.evidence_start : quote.evidence_end],
        speaker=speaker,
        speaker_role=person.role if person else None,
        text=article.text[quote.start : quote.end],
    ).at(quote.evidence_start, quote.evidence_end)


def entity_facts(article: Article) -> NewsFacts:
    """People, organisations and places, and every quote whose speaker the text names."""
    lists: dict[str, list[object]] = {"people": [], "organizations": [], "locations": []}
    for entity in article.entities:
        lists[entity.label].append(entity_fact(article, entity))
    quotes = [quote_fact(article, q, q.speaker) for q in article.quotes if q.speaker]
    return NewsFacts.model_validate({**lists, "quotes": quotes})
