"""The `news_facts` v1 fact schema: typed facts, each tied to a verbatim evidence span.

The field descriptions are part of the prompt: instructor sends this schema to the model
as the tool's parameters, so each description says what a value means and how to write it.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from schemas.compact_schema import CompactJsonSchema

SCHEMA_NAME = "news_facts"
SCHEMA_VERSION = "v1"
# Seed 002, the longest, names 35 locations; a list past 40 items on a news article is a loop.
MAX_ITEMS_PER_LIST = 40

OrganizationKind = Literal[
    "government", "military", "international_org", "ngo", "media", "company", "other"
]
LocationKind = Literal["city", "country", "region", "site", "other"]
NegotiationFormat = Literal["in_person", "video", "phone", "unknown"]
NegotiationOutcome = Literal["agreement", "partial_agreement", "no_agreement", "ongoing", "unknown"]
CasualtyOutcome = Literal["killed", "injured", "killed_or_injured", "missing", "rescued"]
CasualtyPopulation = Literal["civilians", "soldiers", "health_workers", "children", "people"]
Movement = Literal["fled_abroad", "evacuated", "displaced", "trapped", "sheltering"]
TargetType = Literal[
    "hospital",
    "school",
    "theater",
    "residential",
    "cultural",
    "infrastructure",
    "nuclear_plant",
    "military",
    "other",
]

EVIDENCE_DESCRIPTION = "Shortest exact span of the article stating this fact."


class Fact(BaseModel):
    """Base of every fact: closed to unknown keys, always carrying its evidence span."""

    model_config = ConfigDict(extra="forbid")

    evidence: str = Field(description=EVIDENCE_DESCRIPTION)
    # The character offsets of the span the fact was built from, like langextract's
    # char_interval: set by whoever built it from the text, never sent to or read from a
    # model (a private attribute is neither in the JSON schema nor in the JSON).
    _span: tuple[int, int] | None = PrivateAttr(default=None)
    # Set by whoever counted its number from the span's words ("Kevie Durham and a woman
    # were killed": 2), which state no numeral; private for the same reason.
    _counted: bool = PrivateAttr(default=False)

    @property
    def span(self) -> tuple[int, int] | None:
        """Where in the article the fact's evidence was read, when it was read there."""
        return self._span

    @property
    def counted(self) -> bool:
        """Whether its number is a count of the people its span names, not a numeral there."""
        return self._counted

    def counting(self) -> Self:
        """This fact, marked as counted from its span's words (`counted`)."""
        self._counted = True
        return self

    def at(self, start: int, end: int) -> Self:
        """This fact, marked as built from text[start:end] (its evidence)."""
        self._span = (start, end)
        return self


class Person(Fact):
    """A named person mentioned in the article."""

    name: str = Field(description="Full name as written in the article, fullest form used.")
    role: str | None = Field(
        default=None, description="Title or role, e.g. 'presidential adviser'."
    )
    affiliation: str | None = Field(
        default=None, description="Country or organisation the person belongs to."
    )


class Organization(Fact):
    """A named organisation: government body, army, UN agency, NGO, outlet, company."""

    name: str = Field(description="Name as written in the article.")
    kind: OrganizationKind | None = Field(default=None, description="Kind of organisation.")


class Location(Fact):
    """A named place."""

    name: str = Field(description="Place name as written in the article.")
    kind: LocationKind | None = Field(default=None, description="Kind of place.")
    country: str | None = Field(default=None, description="Country the place is in.")


class Negotiation(Fact):
    """A round of talks between parties."""

    parties: list[str] = Field(default_factory=list, description="Sides taking part.")
    round: int | None = Field(default=None, description="Round number, e.g. 2 for 'second round'.")
    format: NegotiationFormat | None = Field(default=None, description="How the talks were held.")
    venue: str | None = Field(default=None, description="Where the talks were held.")
    participants: list[str] = Field(
        default_factory=list, description="Names of negotiators present."
    )
    outcome: NegotiationOutcome | None = Field(default=None, description="Result of the talks.")
    agreements: list[str] = Field(
        default_factory=list,
        description="What was agreed, as short strings, e.g. 'humanitarian corridors'.",
    )


class Casualties(Fact):
    """A count of people killed, injured, missing or rescued."""

    count: int = Field(
        description="Number of people as an integer ('1,252' -> 1252); lower bound of a range."
    )
    count_max: int | None = Field(default=None, description="Upper bound when a range is given.")
    approximate: bool = Field(
        default=False, description="True when stated as about, at least, more than, nearly."
    )
    outcome: CasualtyOutcome = Field(description="What happened to them.")
    population: CasualtyPopulation | None = Field(default=None, description="Who they were.")
    side: str | None = Field(default=None, description="Side or nationality they belong to.")
    location: str | None = Field(default=None, description="Where it happened.")
    period: str | None = Field(
        default=None, description="Time span as written, e.g. 'in the past 24 hours'."
    )
    reported_by: str | None = Field(default=None, description="Who gave the figure.")


class Displacement(Fact):
    """A count of people who fled, were evacuated, displaced, trapped or sheltering."""

    count: int = Field(
        description="Number of people as an integer ('3.2 million' -> 3200000); lower bound."
    )
    count_max: int | None = Field(default=None, description="Upper bound when a range is given.")
    approximate: bool = Field(
        default=False, description="True when stated as about, some, at least, more than."
    )
    movement: Movement = Field(description="What kind of movement.")
    location: str | None = Field(default=None, description="Where they came from or are.")
    destination: str | None = Field(default=None, description="Where they went.")
    period: str | None = Field(default=None, description="Time span as written.")
    reported_by: str | None = Field(default=None, description="Who gave the figure.")


class Attack(Fact):
    """A strike, shelling or assault on a target."""

    target: str = Field(description="What was hit, as written.")
    target_type: TargetType | None = Field(default=None, description="Kind of target.")
    location: str | None = Field(default=None, description="Where the target is.")
    when: str | None = Field(default=None, description="When, as written, e.g. 'on Wednesday'.")
    attributed_to: str | None = Field(default=None, description="Who is said to have attacked.")
    denied_by: str | None = Field(default=None, description="Who denies carrying it out.")


class Figure(Fact):
    """Any other stated quantity (money, troops, bodies, attack counts)."""

    # Refused unless finite: JSON has no inf (a model's `1e999`, or 400 digits, parses to
    # one), and a response would carry it as null, a batch row as Infinity.
    value: float = Field(
        description="The number ('$100 billion' -> 100000000000).", allow_inf_nan=False
    )
    unit: str | None = Field(
        default=None, description="Unit, e.g. USD, people, troops, attacks, bodies, percent."
    )
    what: str = Field(description="What is counted or measured.")
    reported_by: str | None = Field(default=None, description="Who gave the figure.")


class Quote(Fact):
    """A direct quotation."""

    speaker: str = Field(description="Who said it, name as written.")
    speaker_role: str | None = Field(default=None, description="Speaker's role or title.")
    text: str = Field(description="The quoted words verbatim, without the quotation marks.")


class NewsFacts(BaseModel):
    """Every fact the article states, by kind. Unknown values are null, never invented."""

    model_config = ConfigDict(extra="forbid", title="NewsFacts")

    people: list[Person] = Field(default_factory=list, description="Named people.")
    organizations: list[Organization] = Field(
        default_factory=list, description="Named organisations."
    )
    locations: list[Location] = Field(default_factory=list, description="Named places.")
    negotiations: list[Negotiation] = Field(default_factory=list, description="Talks.")
    casualties: list[Casualties] = Field(
        default_factory=list, description="Killed/injured/missing/rescued counts."
    )
    displacement: list[Displacement] = Field(
        default_factory=list, description="Fled/evacuated/displaced/trapped counts."
    )
    attacks: list[Attack] = Field(default_factory=list, description="Attacks on targets.")
    figures: list[Figure] = Field(default_factory=list, description="Other quantities.")
    quotes: list[Quote] = Field(default_factory=list, description="Direct quotations.")

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool = True,
        ref_template: str = "#/$defs/{model}",
        schema_generator: type[GenerateJsonSchema] = CompactJsonSchema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The compact schema: every fact list required, each capped at MAX_ITEMS_PER_LIST.

        The cap is advice to the model (a grammar-constrained server enforces it), not a
        validation rule: it bounds the runaway repetition a small model can fall into.
        """
        # Generating it takes milliseconds and every LLM call asks for it: keep one per
        # class and arguments, and hand out copies (callers add to what they get).
        key = (cls, by_alias, ref_template, schema_generator, mode)
        if kwargs or key not in _SCHEMAS:
            schema = super().model_json_schema(
                by_alias, ref_template, schema_generator, mode, **kwargs
            )
            schema["required"] = list(cls.model_fields)
            for name in cls.model_fields:
                schema["properties"][name]["maxItems"] = MAX_ITEMS_PER_LIST
            if kwargs:
                return schema
            _SCHEMAS[key] = schema
        return copy.deepcopy(_SCHEMAS[key])


_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


FACT_LISTS: tuple[str, ...] = tuple(NewsFacts.model_fields)
