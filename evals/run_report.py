"""The typed run report: what `newsfacts eval` writes as JSON, and every reader loads.

Fields that reports written by older versions of the harness lack have defaults, so every
committed run still loads; a fresh report sets every field, so its JSON has every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.datasets import SEEDS
from evals.matching import FieldVerdict
from evals.scoring import Counts
from schemas.api import Meta, RecallPasses, Strategy, UngroundedPolicy, Usage


class CountsReport(BaseModel):
    """True positives, false positives and false negatives, with P/R/F1 rounded."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, counts: Counts) -> CountsReport:
        """The counts as a report gives them (`Counts.as_dict`)."""
        return cls.model_validate(counts.as_dict())

    def counts(self) -> Counts:
        """Back to counts, to pool or to rate again."""
        return Counts(self.tp, self.fp, self.fn)


class TokensReport(BaseModel):
    """Tokens the run spent."""

    prompt: int
    completion: int


class Summary(BaseModel):
    """The run's scores, pooled over every case."""

    micro: CountsReport
    micro_f1: float
    macro_f1: float
    per_list: dict[str, CountsReport]
    field: CountsReport | None = None  # None: a run scored before fields were
    field_f1: float | None = None
    slot: CountsReport | None = None
    slot_f1: float | None = None
    fields_per_list: dict[str, CountsReport] | None = None
    fields: dict[str, CountsReport] | None = None  # by "list.field"
    grounding_rate: float | None
    match_levels: dict[str, int] | None = None  # None: a run before grounding checks
    failed_checks: dict[str, int] | None = None
    policies: dict[str, CountsReport] | None = None
    unsupported_number_rate: float | None
    schema_valid_rate: float | None
    tokens: TokensReport
    latency_ms: float


class MatchedFact(BaseModel):
    """A gold fact and the prediction matched to it, with each field's verdict."""

    gold_index: int
    label: str
    gold: dict[str, Any]
    pred: dict[str, Any]
    fields: dict[str, FieldVerdict] = Field(default_factory=dict)  # none before fields


class MissedFact(BaseModel):
    """A gold fact nothing predicted matched."""

    gold_index: int
    label: str
    gold: dict[str, Any]


class SpuriousFact(BaseModel):
    """A predicted fact that matched no gold fact."""

    label: str
    pred: dict[str, Any]


class ListOutcome(BaseModel):
    """One fact list of one case: its counts and every matched, missed and spurious fact."""

    counts: CountsReport
    matched: list[MatchedFact]
    missed: list[MissedFact]
    spurious: list[SpuriousFact]


class ScoreReport(BaseModel):
    """One evaluator's verdict on one case."""

    name: str
    value: float | None
    reason: str


class CaseReport(BaseModel):
    """One case: its error (if it failed), how it was answered, its scores and lists."""

    article_id: str
    error: str | None
    meta: Meta | None
    usage: Usage | None = None  # None: a run before usage was kept per case
    scores: list[ScoreReport]
    lists: dict[str, ListOutcome]


class RunReport(BaseModel):
    """A whole run: how it was made, its summary, then every case."""

    prompt: str
    model: str
    mode: str
    strategy: Strategy = "llm"
    ungrounded: UngroundedPolicy = "flag"
    passes: RecallPasses = "none"
    variant: str = ""
    dataset: str = SEEDS.name  # runs before datasets were all of the seeds
    created: str
    wall_s: float
    summary: Summary
    cases: list[CaseReport]

    @classmethod
    def load(cls, path: Path) -> RunReport:
        """A saved report; ValidationError (a ValueError) when the file is not one."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
