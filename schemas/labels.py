"""What the model answers in the `hybrid` strategy: a label for one candidate spaCy found.

One call per candidate, each with a fixed small tool (one per kind of candidate), so the
answer is a label and nothing else: the model copies no number and no span, and every
fact keeps its candidate's evidence.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.facts import NegotiationOutcome


class NumberKind(StrEnum):
    """What a number counts: one distinct word each, so that a small model's first token
    already chooses (labels that share a first word pull its choice to the first of them)."""

    killed = "killed"
    injured = "injured"
    killed_or_injured = "casualties"
    missing = "missing"
    rescued = "rescued"
    fled_abroad = "refugees"
    evacuated = "evacuated"
    displaced = "displaced"
    trapped = "trapped"
    sheltering = "sheltering"
    money = "money"
    other_figure = "other"
    not_a_count = "none"


class NameKind(StrEnum):
    """What a name names."""

    person = "person"
    organization = "organization"
    place = "place"
    not_a_name = "not a name"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TalksItem(_Closed):
    """Talks a sentence reports as held: who talked and what came of it (the round, format
    and venue are read from the sentence's words)."""

    parties: list[str] = Field(description="Countries or organisations talking.")
    outcome: NegotiationOutcome | None = None


class NumberAnswer(_Closed):
    """What the number counts."""

    counts: str = Field(
        description="What the number counts, a few words from the item, e.g. 'civilians killed'."
    )
    label: NumberKind


class NameAnswer(_Closed):
    """What the name names."""

    kind: NameKind


class SpeakerAnswer(_Closed):
    """Who spoke the quotation."""

    speaker: str = Field(description="The speaker as the article names them.")


class TalksAnswer(_Closed):
    """The talks the sentence reports as held (null when none)."""

    talks: TalksItem | None
