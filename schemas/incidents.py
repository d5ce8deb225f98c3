"""Incidents across articles: the models of `POST /articles`, `GET /incidents` and `GET /series`.

An article is stored with its facts; the facts that report the same event, from any number
of articles, form an incident. Each measure (killed, injured, displaced, ...) keeps every
report of it (value, source, outlet, date, evidence and offsets) and a reconciled low / best
/ high with the rule that picked `best`. A running total ("780 civilians killed since 24
February") belongs to a series of its place and measure, never to an incident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.api import MAX_TITLE_CHARS, MAX_URL_CHARS, NOT_SPACE, no_lone_surrogates

IncidentKind = Literal["attack", "casualties", "displacement", "talks"]
ARTICLE_ID = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$"
MAX_ARTICLES_PER_REQUEST = 64
MAX_PAGE = 200


class ArticleIn(BaseModel):
    """One article to extract and store: its text and what is known of where it came from."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        pattern=ARTICLE_ID,
        description="Your id for the article; without one, the sha256 of its text names it.",
    )
    text: str = Field(
        description="The article body.", json_schema_extra={"minLength": 1, "pattern": NOT_SPACE}
    )
    title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    published: dt.datetime | dt.date | None = Field(
        default=None,
        description="When it was published (ISO date or datetime): relative "
        "dates ('on Wednesday', 'last month') are resolved against it.",
    )
    outlet: str | None = Field(
        default=None, max_length=200, description="Who published it; the URL's host when omitted."
    )

    @field_validator("published", mode="before")
    @classmethod
    def _iso_only(cls, value: object) -> object:
        if value is None or isinstance(value, str | dt.date):
            return value
        raise ValueError("published is an ISO date or datetime, as a string: '2016-07-24'")

    @field_validator("text", "title", "outlet")
    @classmethod
    def _valid_unicode(cls, value: str | None) -> str | None:
        return no_lone_surrogates(value)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty: send the article's text")
        return value


class ArticlesRequest(BaseModel):
    """Body of `POST /articles`: one article or a batch."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(min_length=1, max_length=MAX_ARTICLES_PER_REQUEST)


class Place(BaseModel):
    """A place resolved to a gazetteer entry (GeoNames, ISO 3166)."""

    name: str
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code.")
    region: str | None = Field(default=None, description="First-level region (name).")
    lat: float | None = None
    lon: float | None = None
    gazetteer_id: str | None = Field(
        default=None, description="'geonames:<id>', 'iso3166:<alpha2>' or 'iso3166-2:<code>'."
    )


class DateRange(BaseModel):
    """An ISO day or an inclusive range of days."""

    start: dt.date | None = None
    end: dt.date | None = None


class FactDate(DateRange):
    """A fact's date as resolved against the article's publication date."""

    running_total: bool = Field(
        default=False, description="A total since a date or over a period, not one event."
    )
    as_written: str | None = Field(default=None, description="The words it was read from.")
    guessed: bool = Field(
        default=False, description="No date in the text: the publication day stands in."
    )


class Normalised(BaseModel):
    """What a figure or event says, in terms a machine can compare across articles."""

    date: FactDate | None = None
    place: Place | None = None


class ArticleResult(BaseModel):
    """One stored article: its facts (figures and events with `date` and `place` beside the
    text as written) and the incidents they belong to."""

    id: str
    facts: dict[str, Any]
    incidents: list[str] = Field(default_factory=list)
    stored: bool = Field(description="False when the article was already in the store.")


class ArticlesResponse(BaseModel):
    """Answer of `POST /articles`, one result per article in request order."""

    articles: list[ArticleResult]


class FigureReport(BaseModel):
    """One article's report of a measure."""

    value: int
    value_max: int | None = None
    reported_by: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    article: str
    evidence: str
    start: int | None = None
    end: int | None = None


class Measure(BaseModel):
    """Every report of one measure of an incident, reconciled."""

    low: int
    best: int
    high: int
    rule: str
    reports: list[FigureReport]


class Conflict(BaseModel):
    """Sources whose figures disagree beyond rounding and beyond what time explains."""

    measure: str
    sources: list[str]
    values: list[int]


class Incident(BaseModel):
    """One event as reported by any number of articles."""

    id: str
    kind: IncidentKind
    place: Place | None = None
    date: DateRange = Field(default_factory=DateRange)
    articles: list[str]
    figures: dict[str, Measure] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)


class IncidentPage(BaseModel):
    """A page of incidents, newest first; `next_cursor` fetches the next page."""

    incidents: list[Incident]
    next_cursor: str | None = None


class SeriesPoint(BaseModel):
    """One running total as one article reports it."""

    date: dt.date | None
    since: dt.date | None = None
    value: int
    value_max: int | None = None
    reported_by: str | None = None
    outlet: str | None = None
    article: str
    evidence: str
    start: int | None = None
    end: int | None = None


class Series(BaseModel):
    """The running totals of one measure for one place, in date order."""

    id: str
    measure: str
    place: Place | None = None
    points: list[SeriesPoint]


class SeriesList(BaseModel):
    """Answer of `GET /series`."""

    series: list[Series]
