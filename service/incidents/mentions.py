"""One article read for incidents: its figures and events normalised (date, place), and its
event mentions: what it reports of each event, ready to be grouped with other articles'.

An article's casualty and attack facts of one day are one mention of one violent event; its
displacement facts one of a displacement; its negotiations one of talks. A fact dated two or
more days from the article's main event (an earlier shooting recalled) is a mention of its
own. A running total is a series point, never part of a mention.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.facts import Attack, Casualties, Displacement, Fact, NewsFacts
from schemas.incidents import FactDate, IncidentKind, Normalised, Place
from service.incidents.dates import resolve_date
from service.incidents.places import article_context, resolve_place

Family = Literal["violence", "displacement", "talks"]
# A sentence ends at a stop before a capital, a digit or a quote ("From 4 a.m. on 24 March"
# goes on), or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019]?\s+(?=[A-Z0-9\"'\u201c\u2018(])|\n+")
_DATELINE = re.compile(
    r"^\s*([A-Z][A-Z .'-]{2,40}?)(?:,\s*[A-Z][A-Za-z. ]+)?\s*(?:\([^)]*\))?\s*[\u2014\u2013-]"
)
# A dateline opens the story's first paragraph, after the headline, a standfirst and a
# "Posted:" line where the page kept them.
DATELINE_PARAGRAPHS = 4
SIMILARITY_CHARS = 1500


class ArticleIntake(BaseModel):
    """What the incidents room reads of one stored article."""

    id: str
    text: str
    title: str | None = None
    published: dt.date | None = None
    outlet: str | None = None


class Report(BaseModel):
    """One article's figure for one measure of a mention."""

    measure: str
    value: int
    value_max: int | None = None
    reported_by: str | None = None
    evidence: str
    start: int | None = None
    end: int | None = None


class Mention(BaseModel):
    """What one article says of one event."""

    id: str
    article: str
    family: Family
    kind: IncidentKind
    place: Place | None = None
    date: FactDate | None = None
    published: dt.date | None = None
    outlet: str | None = None
    reports: list[Report] = Field(default_factory=list)
    text: str = ""  # headline, lede and evidence: what text similarity compares
    names: list[str] = Field(default_factory=list)
    # an event of another day than the article's own (the shooting last week it recalls)
    recalled: bool = False


class SeriesReport(BaseModel):
    """A running total as one article reports it."""

    measure: str
    place: Place | None = None
    date: FactDate
    report: Report
    article: str
    outlet: str | None = None


class Reading(BaseModel):
    """Everything the incidents room takes from one article."""

    facts: dict[str, Any]
    mentions: list[Mention]
    series: list[SeriesReport]


def sentence_at(text: str, start: int | None) -> str | None:
    """The sentence of `text` around offset `start`."""
    if start is None:
        return None
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, start)
    return text[begin : after.start() if after else len(text)]


def lede(article: ArticleIntake) -> str:
    """The headline and the opening paragraphs (what text similarity compares)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", article.text.strip()) if p.strip()]
    head = [article.title] if article.title and article.title not in paragraphs[:1] else []
    return "\n".join(head + paragraphs[:8])[:SIMILARITY_CHARS]


def _offset(spans: dict[str, tuple[int, int]], path: str) -> int | None:
    """Where the fact at `path` starts in the text (None when it was not found there)."""
    span = spans.get(path)
    return span[0] if span else None


def _in_text_order(spans: dict[str, tuple[int, int]], path: str) -> int:
    """A sort key: the fact's offset, facts found nowhere last."""
    start = _offset(spans, path)
    return start if start is not None else 1 << 30


def _measure(fact: Fact) -> str | None:
    if isinstance(fact, Casualties):
        return fact.outcome
    if isinstance(fact, Displacement):
        return "displaced" if fact.movement in ("displaced", "fled_abroad") else fact.movement
    return None


def main_place(
    article: ArticleIntake, facts: NewsFacts, spans: dict[str, tuple[int, int]]
) -> tuple[Place | None, str | None, str | None]:
    """The article's own place (its dateline, else its first place that resolves, a city
    before a wider one) and the country and US state its place names point to."""
    ordered = sorted(
        range(len(facts.locations)), key=lambda i: _in_text_order(spans, f"locations[{i}]")
    )
    names = [facts.locations[i].name for i in ordered]
    events = [f.location for f in (*facts.casualties, *facts.displacement, *facts.attacks)]
    country, region = article_context(names, article.text, events)
    dateline = _dateline(article.text)
    candidates = ([dateline] if dateline else []) + names
    places = [p for name in candidates if (p := resolve_place(name, country, region))]
    # the article's own country first: a namesake abroad ("Nippes" in a report on Haiti)
    # or where it was said is its place only when nothing at home is named
    home = [p for p in places if not country or p.country == country] or places
    cities = [p for p in home if (p.gazetteer_id or "").startswith("geonames")]
    return (cities or home or [None])[0], country, region


def _dateline(text: str) -> str | None:
    """The town of the story's dateline ("BATON ROUGE, La. (AP) -"), title-cased."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    for paragraph in paragraphs[:DATELINE_PARAGRAPHS]:
        if found := _DATELINE.match(paragraph):
            return found.group(1).title()
    return None


def _fact_reading(
    fact: Casualties | Displacement | Attack,
    start: int | None,
    article: ArticleIntake,
    opening: str,
    context: tuple[Place | None, str | None, str | None],
) -> Normalised:
    main, country, region = context
    own = fact.when if isinstance(fact, Attack) else fact.period
    date = resolve_date(article.published, own, sentence_at(article.text, start), opening)
    return Normalised(
        date=date, place=_narrowest(resolve_place(fact.location, country, region), main, country)
    )


def _narrowest(place: Place | None, main: Place | None, country: str | None) -> Place | None:
    """The fact's own place, unless the article's place is the same area named more closely
    (a state or country holding the article's city), or the fact's place is in another
    country than the article's (where it was said, or a name read as a place): then the
    article's place."""
    if place is None or main is None or place.gazetteer_id == main.gazetteer_id:
        return place or main
    wide = (place.gazetteer_id or "").startswith("iso3166")
    if wide and place.country == main.country and (place.region in (None, main.region)):
        return main
    if country and place.country != country and main.country == country:
        return main  # a place in another country than the article's: where it was said
    return place


def read_article(
    article: ArticleIntake, facts: NewsFacts, spans: dict[str, tuple[int, int]]
) -> Reading:
    """The article's facts with `date` and `place` beside each figure and event, its event
    mentions and its running totals."""
    context = main_place(article, facts, spans)
    opening = lede(article)
    dumped = facts.model_dump(mode="json")
    items: list[tuple[str, Fact, Normalised]] = []
    for kind in ("casualties", "displacement", "attacks"):
        for i, fact in enumerate(getattr(facts, kind)):
            path = f"{kind}[{i}]"
            norm = _fact_reading(fact, _offset(spans, path), article, opening, context)
            dumped[kind][i].update(norm.model_dump(mode="json"))
            items.append((path, fact, norm))
    for i, _figure in enumerate(facts.figures):
        sentence = sentence_at(article.text, _offset(spans, f"figures[{i}]"))
        date = resolve_date(article.published, sentence=sentence, lede=opening)
        dumped["figures"][i].update(Normalised(date=date, place=context[0]).model_dump(mode="json"))
    mentions, series = _mentions(article, opening, facts, items, spans, context[0])
    return Reading(facts=dumped, mentions=mentions, series=series)


def _report(path: str, fact: Fact, spans: dict[str, tuple[int, int]]) -> Report | None:
    measure = _measure(fact)
    if measure is None or not isinstance(fact, Casualties | Displacement):
        return None
    start, end = spans.get(path, (None, None))
    return Report(
        measure=measure,
        value=fact.count,
        value_max=fact.count_max,
        reported_by=fact.reported_by,
        evidence=fact.evidence,
        start=start,
        end=end,
    )


def _mentions(
    article: ArticleIntake,
    opening: str,
    facts: NewsFacts,
    items: list[tuple[str, Fact, Normalised]],
    spans: dict[str, tuple[int, int]],
    main: Place | None,
) -> tuple[list[Mention], list[SeriesReport]]:
    series: list[SeriesReport] = []
    groups: dict[tuple[Family, dt.date | None], list[tuple[str, Fact, Normalised]]] = {}
    items = sorted(items, key=lambda x: _in_text_order(spans, x[0]))
    main_day = _main_day(items, article.published)
    for path, fact, norm in items:
        report = _report(path, fact, spans)
        if norm.date is not None and norm.date.running_total:
            if report is not None:
                series.append(
                    SeriesReport(
                        measure=report.measure,
                        place=norm.place,
                        date=norm.date,
                        report=report,
                        article=article.id,
                        outlet=article.outlet,
                    )
                )
            continue
        day = norm.date.start if norm.date and not norm.date.guessed else None
        if day is not None and main_day is not None and abs((day - main_day).days) <= 1:
            day = main_day
        family = "displacement" if isinstance(fact, Displacement) else "violence"
        groups.setdefault((family, day or main_day), []).append((path, fact, norm))
    mentions = [
        _mention(article, opening, facts, family, day, members, spans, main, n)
        for n, ((family, day), members) in enumerate(groups.items())
    ]
    for mention, (_family, day) in zip(mentions, groups, strict=True):
        mention.recalled = day != main_day
    mentions += _talks(article, opening, facts, spans, main, len(mentions))
    # An attack told without a figure is an event of its own, unless the report totals its
    # figures over a period: then its attacks describe how the total came about ("most
    # casualties were caused by shelling and air strikes").
    events = ("talks",) if series else ("attack", "talks")
    return [m for m in mentions if m.reports or m.kind in events], series


def _main_day(
    items: list[tuple[str, Fact, Normalised]], published: dt.date | None
) -> dt.date | None:
    for _path, _fact, norm in items:  # in text order: the first dated fact is the main event
        if norm.date and norm.date.start and not norm.date.guessed and not norm.date.running_total:
            return norm.date.start
    return published


def _mention(
    article: ArticleIntake,
    opening: str,
    facts: NewsFacts,
    family: Family,
    day: dt.date | None,
    members: list[tuple[str, Fact, Normalised]],
    spans: dict[str, tuple[int, int]],
    main: Place | None,
    n: int,
) -> Mention:
    reports = [r for path, fact, _ in members if (r := _report(path, fact, spans))]
    kind: IncidentKind = (
        "attack"
        if any(isinstance(f, Attack) for _, f, _ in members)
        else "displacement"
        if family == "displacement"
        else "casualties"
    )
    place = most_named([n.place for _, _, n in members if n.place]) or main
    guessed = not any(n.date and not n.date.guessed for _, _, n in members)
    date = FactDate(start=day, end=day, guessed=guessed) if day else None
    evidence = " ".join(f.evidence for _, f, _ in members)
    return Mention(
        id=f"{article.id}#{n}",
        article=article.id,
        family=family,
        kind=kind,
        place=place,
        date=date,
        published=article.published,
        outlet=article.outlet,
        reports=_first_stated(reports),
        text=f"{opening}\n{evidence}"[: 2 * SIMILARITY_CHARS],
        names=sorted({p.name for p in facts.people} | _small_places(facts)),
    )


def most_named(places: list[Place]) -> Place | None:
    """The place a mention's facts name most, a city before a wider one (a street named
    after a state, "the 5100 block of Idaho" in a Houston report, is read as the state)."""
    cities = [p for p in places if (p.gazetteer_id or "").startswith("geonames")] or places
    if not cities:
        return None
    top = Counter(p.gazetteer_id or p.name for p in cities).most_common(1)[0][0]
    return next(p for p in cities if (p.gazetteer_id or p.name) == top)


def _small_places(facts: NewsFacts) -> set[str]:
    """The towns the article names that no gazetteer holds (a village): two reports naming
    the same one tell of one event, as a victim's name does."""
    return {p.name for p in facts.locations if p.kind == "city" and resolve_place(p.name) is None}


def stated_at(report: Report) -> int:
    """Where the article states the report (one without an offset after every other)."""
    return report.start if report.start is not None else 1 << 30


def _first_stated(reports: list[Report]) -> list[Report]:
    """One report per measure: the article's first (a headline or lede states the toll;
    the parts of a toll, earlier events and other counts come later); the injured read as the
    shot less the killed when the article gives no injured figure, or gives one after the
    shot figure."""
    first: dict[str, Report] = {}
    for report in sorted(reports, key=stated_at):
        first.setdefault(report.measure, report)
    shot, killed, injured = (first.get(m) for m in ("killed_or_injured", "killed", "injured"))
    dead = killed.value if killed else 0
    # an injured figure after the shot one is a part of them ("Five people were shot ...
    # two police officers were wounded"); before it, the article's own count of injured
    told_after = injured is None or (shot is not None and stated_at(shot) < stated_at(injured))
    if shot is not None and shot.value > dead and told_after:
        derived = shot.value - dead
        first["injured"] = shot.model_copy(
            update={"measure": "injured", "value": derived, "value_max": None}
        )
    return list(first.values())


def _talks(
    article: ArticleIntake,
    opening: str,
    facts: NewsFacts,
    spans: dict[str, tuple[int, int]],
    main: Place | None,
    first: int,
) -> list[Mention]:
    if not facts.negotiations:
        return []
    talk = facts.negotiations[0]
    sentence = sentence_at(article.text, _offset(spans, "negotiations[0]"))
    date = resolve_date(article.published, sentence=sentence, lede=opening)
    return [
        Mention(
            id=f"{article.id}#{first}",
            article=article.id,
            family="talks",
            kind="talks",
            place=resolve_place(talk.venue) or main,
            date=date,
            published=article.published,
            outlet=article.outlet,
            text=f"{opening}\n{talk.evidence}",
            names=sorted({*talk.parties, *talk.participants}),
        )
    ]
