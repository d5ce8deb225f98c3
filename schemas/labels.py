"""What the model answers in the `hybrid` strategy: labels for candidates spaCy found.

The model reads the article with its candidates marked ([N1] numbers, [S1] event
sentences, [Q1] quotations with no speaker, [E1] doubtful names) and labels them; it
copies no number and no span, so every fact keeps its candidate's own evidence.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.facts import NegotiationFormat, NegotiationOutcome, TargetType

NumberLabelKind = Literal[
    "killed", "injured", "killed_or_injured", "missing", "rescued",
    "fled_abroad", "evacuated", "displaced", "trapped", "sheltering",
    "money", "other_figure", "not_a_count",
]  # fmt: skip
NameType = Literal["person", "organization", "place", "not_a_name"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NumberLabel(_Closed):
    """What one marked number counts."""

    n: int = Field(description="The number's mark, e.g. 3 for [N3].")
    label: NumberLabelKind = Field(
        description="killed/injured/... for people harmed; fled_abroad/evacuated/displaced/"
        "trapped/sheltering for people moved; money; other_figure for any other count; "
        "not_a_count for dates, ages, ranks, phone numbers and the like."
    )
    side: str | None = Field(default=None, description="Nationality of the people counted.")


class NameLabel(_Closed):
    """What one marked name is."""

    e: int = Field(description="The name's mark, e.g. 2 for [E2].")
    type: NameType


class SpeakerLabel(_Closed):
    """Who spoke one marked quotation."""

    q: int = Field(description="The quotation's mark, e.g. 1 for [Q1].")
    speaker: str = Field(description="Who said it, name as written in the article.")


class AttackLabel(_Closed):
    """One attack a marked sentence reports."""

    s: int = Field(description="The sentence's mark, e.g. 2 for [S2].")
    target: str = Field(description="What was hit, words copied from the sentence.")
    target_type: TargetType
    location: str | None = Field(default=None, description="Place of the target.")
    attributed_to: str | None = Field(default=None, description="Who is said to have attacked.")
    denied_by: str | None = Field(default=None, description="Who denies it.")


class TalksLabel(_Closed):
    """One round of talks a marked sentence reports as held."""

    s: int = Field(description="The sentence's mark, e.g. 4 for [S4].")
    parties: list[str] = Field(description="Countries or organisations talking.")
    round: int | None = Field(default=None, description="Round number ('second round' -> 2).")
    format: NegotiationFormat | None = None
    venue: str | None = Field(default=None, description="Where they met.")
    outcome: NegotiationOutcome | None = None


class CandidateLabels(_Closed):
    """Labels for the marked candidates of one article."""

    names: list[NameLabel] = Field(default_factory=list)
    numbers: list[NumberLabel] = Field(default_factory=list)
    speakers: list[SpeakerLabel] = Field(default_factory=list)
    attacks: list[AttackLabel] = Field(default_factory=list)
    talks: list[TalksLabel] = Field(default_factory=list)
