"""Scores of one case and of a whole run, from matched facts (pydantic_evals style).

Each evaluator is a small function of a case's outcome that returns a score with a reason;
run-level metrics pool the per-list counts over every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from evals.gold import GoldCase
from evals.matching import FIELDS, FieldVerdict, ListMatch, match_facts, stated
from schemas.api import Grounding, Meta, Usage
from schemas.facts import FACT_LISTS, NewsFacts
from service.extraction.grounding import CHECKS, drop_ungrounded, ground
from service.numbers import numbers_in, same_number

NUMBER_FIELDS = {
    "casualties": ("count", "count_max"),
    "displacement": ("count", "count_max"),
    "figures": ("value",),
}


@dataclass
class Counts:
    """True positives, false positives and false negatives, with P/R/F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        """Matched predictions over predictions (0 when nothing was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Matched gold facts over gold facts (0 when there is no gold)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def empty(self) -> bool:
        """No gold and no predictions: the list says nothing about quality."""
        return self.tp + self.fp + self.fn == 0

    def as_dict(self) -> dict[str, float]:
        """Counts and rates, rounded for reports."""
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }  # fmt: skip


@dataclass
class Ratio:
    """A share: hits over total."""

    hits: int = 0
    total: int = 0

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.hits + other.hits, self.total + other.total)

    @property
    def rate(self) -> float | None:
        """hits/total, or None when there is nothing to count."""
        return self.hits / self.total if self.total else None


@dataclass(frozen=True)
class EvalScore:
    """One evaluator's verdict on one case."""

    name: str
    value: float | None
    reason: str


@dataclass
class CaseOutcome:
    """What one case produced: the prediction (or the error) and how it matched."""

    case: GoldCase
    predicted: NewsFacts | None
    meta: Meta | None = None
    error: str | None = None
    matches: dict[str, ListMatch] = field(default_factory=dict)
    failed_usage: Usage | None = None  # tokens a failed case spent before it failed

    @classmethod
    def build(
        cls, case: GoldCase, predicted: NewsFacts | None, meta: Meta | None = None,
        error: str | None = None, failed_usage: Usage | None = None,
    ) -> CaseOutcome:  # fmt: skip
        """Match the prediction (an empty one when the case failed) against the gold."""
        facts = predicted if predicted is not None else NewsFacts()
        return cls(case, predicted, meta, error, match_facts(case, facts), failed_usage)

    @property
    def usage(self) -> Usage:
        """Tokens this case spent, failed attempts included."""
        return self.meta.usage if self.meta else self.failed_usage or Usage()

    def counts(self, list_name: str) -> Counts:
        """P/R/F1 counts of one fact list."""
        m = self.matches[list_name]
        return Counts(tp=len(m.pairs), fp=len(m.spurious), fn=len(m.missed))

    def overall(self) -> Counts:
        """Counts over every list of this case."""
        total = Counts()
        for name in FACT_LISTS:
            total = total + self.counts(name)
        return total

    def fields(self) -> dict[tuple[str, str], Counts]:
        """Per (list, field), on matched facts: agreeing fields are true positives; a
        disagreeing one costs precision and recall; gold-only is missed, prediction-only
        spurious."""
        out: dict[tuple[str, str], Counts] = {}
        for name, m in self.matches.items():
            for pair in m.pairs:
                for field_name, verdict in pair.fields.items():
                    key = (name, field_name)
                    out[key] = out.get(key, Counts()) + VERDICT_COUNTS[verdict]
        return out

    def field_counts(self) -> Counts:
        """Field counts over every matched fact of the case."""
        return sum(self.fields().values(), Counts())

    def slots(self) -> Counts:
        """Facts x fields: each fact is one slot for its key and one per stated field; a
        matched fact's key slot is a hit and its fields count as in `fields`; a missed or
        spurious fact loses every slot it has."""
        total = self.field_counts()
        gold, pred = self.case.facts, self.predicted or NewsFacts()
        for name, m in self.matches.items():
            total = total + Counts(tp=len(m.pairs))
            for i in m.missed:
                total = total + Counts(fn=_slot_count(name, getattr(gold, name)[i]))
            for j in m.spurious:
                total = total + Counts(fp=_slot_count(name, getattr(pred, name)[j]))
        return total

    @cached_property
    def grounded(self) -> list[Grounding]:
        """The service's grounding of the prediction: match level and failed checks per fact."""
        return ground(self.predicted, self.case.text) if self.predicted is not None else []

    def grounding(self) -> Ratio:
        """Predicted facts whose evidence is found in the article."""
        return Ratio(sum(e.match != "none" for e in self.grounded), len(self.grounded))

    def dropped(self) -> CaseOutcome:
        """This case as the `drop` policy would have answered it: failed facts removed."""
        if self.predicted is None:
            return self
        kept, _, _ = drop_ungrounded(self.predicted, self.grounded)
        return CaseOutcome.build(self.case, kept, self.meta, self.error, self.failed_usage)

    def unsupported_numbers(self) -> Ratio:
        """Predicted numbers (counts, values) that the article never states."""
        if self.predicted is None:
            return Ratio()
        stated = numbers_in(self.case.text)
        values = [
            getattr(fact, attr)
            for name, attrs in NUMBER_FIELDS.items()
            for fact in getattr(self.predicted, name)
            for attr in attrs
            if getattr(fact, attr) is not None
        ]
        missing = [v for v in values if not any(same_number(v, s) for s in stated)]
        return Ratio(len(missing), len(values))


VERDICT_COUNTS: dict[FieldVerdict, Counts] = {
    "agree": Counts(tp=1),
    "disagree": Counts(fp=1, fn=1),
    "missed": Counts(fn=1),
    "spurious": Counts(fp=1),
}


def _slot_count(list_name: str, fact: object) -> int:
    return 1 + sum(stated(getattr(fact, f)) for f in FIELDS[list_name])


def list_f1(list_name: str) -> Callable[[CaseOutcome], EvalScore]:
    """Evaluator: F1 of one fact list, with what was matched, missed and spurious."""

    def evaluate(outcome: CaseOutcome) -> EvalScore:
        c = outcome.counts(list_name)
        reason = f"{c.tp} matched, {c.fn} missed, {c.fp} spurious"
        return EvalScore(f"{list_name}_f1", None if c.empty else c.f1, reason)

    return evaluate


def overall_f1(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: F1 over every fact of the case."""
    c = outcome.overall()
    return EvalScore(
        "f1", c.f1, f"P {c.precision:.2f} R {c.recall:.2f} over {c.tp + c.fn} gold facts"
    )


def field_f1(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: F1 of the fields of the facts that matched a gold fact."""
    c = outcome.field_counts()
    reason = f"{c.tp} fields right, {c.fn} gold fields not given right, {c.fp} wrong or extra"
    return EvalScore("field_f1", None if c.empty else c.f1, reason)


def slot_f1(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: F1 over facts x fields, missed and spurious facts included."""
    c = outcome.slots()
    return EvalScore(
        "slot_f1", c.f1, f"P {c.precision:.2f} R {c.recall:.2f} over {c.tp + c.fn} gold slots"
    )


def schema_valid(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: 1 when the model produced schema-valid facts, else 0 with the error."""
    ok = outcome.predicted is not None
    return EvalScore("schema_valid", float(ok), "valid" if ok else f"failed: {outcome.error}")


def grounding_rate(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: share of predicted facts whose evidence is found in the article."""
    r = outcome.grounding()
    return EvalScore("grounding_rate", r.rate, f"{r.hits}/{r.total} evidence spans found")


def unsupported_number_rate(outcome: CaseOutcome) -> EvalScore:
    """Evaluator: share of predicted numbers that the article does not state."""
    r = outcome.unsupported_numbers()
    return EvalScore("unsupported_number_rate", r.rate, f"{r.hits}/{r.total} numbers not in text")


EVALUATORS: list[Callable[[CaseOutcome], EvalScore]] = [
    overall_f1,
    field_f1,
    slot_f1,
    *(list_f1(name) for name in FACT_LISTS),
    grounding_rate,
    unsupported_number_rate,
    schema_valid,
]


def evaluate_case(outcome: CaseOutcome) -> list[EvalScore]:
    """Every evaluator's score for one case."""
    return [evaluator(outcome) for evaluator in EVALUATORS]


@dataclass
class RunSummary:
    """Run-level metrics, pooled over every case."""

    per_list: dict[str, Counts]
    micro: Counts
    macro_f1: float
    fields: dict[tuple[str, str], Counts]  # per (list, field), on matched facts
    field_micro: Counts
    slots: Counts
    grounding: Ratio
    unsupported_numbers: Ratio
    schema_valid: Ratio
    match_levels: dict[str, int]
    failed_checks: dict[str, int]
    dropped_micro: Counts  # micro counts had the `drop` policy removed every failed fact
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float


def summarize(outcomes: list[CaseOutcome]) -> RunSummary:
    """Pool the counts of every case: micro-F1 (headline), macro-F1 over lists, rates."""
    per_list = {name: Counts() for name in FACT_LISTS}
    fields: dict[tuple[str, str], Counts] = {}
    slots = Counts()
    grounding, numbers, valid = Ratio(), Ratio(), Ratio()
    levels = dict.fromkeys(("exact", "normalized", "fuzzy", "none"), 0)
    checks = dict.fromkeys(CHECKS, 0)
    dropped = Counts()
    prompt_tokens = completion_tokens = 0
    latency = 0.0
    for o in outcomes:
        for name in FACT_LISTS:
            per_list[name] = per_list[name] + o.counts(name)
        for key, counts in o.fields().items():
            fields[key] = fields.get(key, Counts()) + counts
        slots = slots + o.slots()
        grounding = grounding + o.grounding()
        for entry in o.grounded:
            levels[entry.match] += 1
            for check in entry.checks:
                checks[check] += 1
        dropped = dropped + o.dropped().overall()
        numbers = numbers + o.unsupported_numbers()
        valid = valid + Ratio(int(o.predicted is not None), 1)
        prompt_tokens += o.usage.prompt_tokens
        completion_tokens += o.usage.completion_tokens
        if o.meta is not None:
            latency += o.meta.latency_ms
    micro = Counts()
    for counts in per_list.values():
        micro = micro + counts
    scored = [c.f1 for c in per_list.values() if not c.empty]
    return RunSummary(
        per_list=per_list,
        micro=micro,
        macro_f1=sum(scored) / len(scored) if scored else 0.0,
        fields=dict(sorted(fields.items())),
        field_micro=sum(fields.values(), Counts()),
        slots=slots,
        grounding=grounding,
        unsupported_numbers=numbers,
        schema_valid=valid,
        match_levels=levels,
        failed_checks=checks,
        dropped_micro=dropped,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_ms=latency,
    )
