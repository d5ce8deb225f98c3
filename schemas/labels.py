"""What the model answers in the `hybrid` strategy: labels for candidates spaCy found.

Each labelling task is a tool whose fields are the candidates themselves (`n1`, `n2`, …),
each described by its own words in the article, so the answer is aligned with the
candidates by construction and holds only the labels: the model copies no number and no
span, and every fact keeps its candidate's evidence. Task models are built per article
(`task_model`) from the item types below.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from schemas.facts import NegotiationFormat, NegotiationOutcome, TargetType


class NumberKind(StrEnum):
    """What a number counts, in words a small model reads as meant."""

    killed = "people killed"
    injured = "people injured"
    killed_or_injured = "people killed or injured"
    missing = "people missing"
    rescued = "people rescued"
    fled_abroad = "refugees who fled abroad"
    evacuated = "people evacuated"
    displaced = "people displaced"
    trapped = "people trapped"
    sheltering = "people sheltering"
    money = "money"
    other_figure = "another count"
    not_a_count = "not a count"


class NameKind(StrEnum):
    """What a name names."""

    person = "person"
    organization = "organization"
    place = "place"
    not_a_name = "not a name"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttackItem(_Closed):
    """One attack a sentence reports: what was hit, where, by whom."""

    target: str = Field(description="What was hit, words copied from the sentence.")
    target_type: TargetType
    location: str | None = Field(default=None, description="Place of the target.")
    attributed_to: str | None = Field(default=None, description="Who is said to have attacked.")
    denied_by: str | None = Field(default=None, description="Who denies it.")


class TalksItem(_Closed):
    """One round of talks a sentence reports as held."""

    parties: list[str] = Field(description="Countries or organisations talking.")
    round: int | None = Field(default=None, description="Round number ('second round' -> 2).")
    format: NegotiationFormat | None = None
    venue: str | None = Field(default=None, description="Where they met.")
    outcome: NegotiationOutcome | None = None


def task_model(name: str, doc: str, fields: dict[str, tuple[Any, str]]) -> type[BaseModel]:
    """A closed model named `name` with one required field per candidate key, each typed
    and described by the candidate's words."""
    model = create_model(  # type: ignore[call-overload]
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=doc,
        **{key: (kind, Field(description=words)) for key, (kind, words) in fields.items()},
    )
    return model  # type: ignore[no-any-return]
