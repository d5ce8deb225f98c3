"""Scores of incidents against gold: grouping (B³, MUC, CEAF-e, CoNLL F1 of articles to
incidents), each incident's killed and injured (exact and within ±10 %), the gold's
conflicts found, and running totals kept out of incidents.

Evaluators are small functions returning a score with its counts (the reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field
from scipy.optimize import linear_sum_assignment

from evals.incident_sets import GoldIncident, IncidentGold
from schemas.incidents import Incident

Clusters = Sequence[frozenset[str]]


class Prf(BaseModel):
    """Precision, recall and F1."""

    p: float
    r: float
    f1: float


def _prf(p_num: float, p_den: float, r_num: float, r_den: float) -> Prf:
    p = p_num / p_den if p_den else 0.0
    r = r_num / r_den if r_den else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Prf(p=round(p, 4), r=round(r, 4), f1=round(f1, 4))


def b_cubed(gold: Clusters, predicted: Clusters) -> Prf:
    """B³ (Bagga and Baldwin): per item, the overlap of its gold and predicted clusters."""
    of_gold = {x: c for c in gold for x in c}
    of_pred = {x: c for c in predicted for x in c}
    items = [x for x in of_gold if x in of_pred]
    p = sum(len(of_gold[x] & of_pred[x]) / len(of_pred[x]) for x in items)
    r = sum(len(of_gold[x] & of_pred[x]) / len(of_gold[x]) for x in items)
    return _prf(p, len(items), r, len(items))


def muc(gold: Clusters, predicted: Clusters) -> Prf:
    """MUC (Vilain et al.): the links a clustering needs, found."""

    def score(keys: Clusters, responses: Clusters) -> tuple[int, int]:
        of_resp = {x: i for i, c in enumerate(responses) for x in c}
        num = den = 0
        for key in keys:
            parts = {of_resp.get(x, ("alone", x)) for x in key}
            num += len(key) - len(parts)
            den += len(key) - 1
        return num, den

    r_num, r_den = score(gold, predicted)
    p_num, p_den = score(predicted, gold)
    return _prf(p_num, p_den, r_num, r_den)


def ceaf_e(gold: Clusters, predicted: Clusters) -> Prf:
    """CEAF-e (Luo): the best one-to-one alignment of clusters by their Dice similarity."""
    if not gold or not predicted:
        return _prf(0, 0, 0, 0)
    sim = np.array([[2 * len(g & p) / (len(g) + len(p)) for p in predicted] for g in gold])
    rows, cols = linear_sum_assignment(-sim)
    total = float(sim[rows, cols].sum())
    return _prf(total, len(predicted), total, len(gold))


def conll(gold: Clusters, predicted: Clusters) -> dict[str, Prf | float]:
    """MUC, B³, CEAF-e and their mean F1 (the CoNLL score)."""
    parts = {
        "muc": muc(gold, predicted),
        "b3": b_cubed(gold, predicted),
        "ceaf_e": ceaf_e(gold, predicted),
    }
    return {**parts, "conll_f1": round(sum(p.f1 for p in parts.values()) / 3, 4)}


class FigureCheck(BaseModel):
    """One gold incident's measure against the incident its articles mostly went to."""

    incident: str
    measure: str
    gold: int
    predicted: int | None
    exact: bool
    within_10: bool


class ConflictCheck(BaseModel):
    """One gold conflict: found when the matched incident names a conflict on the measure
    between at least two of the gold's sources."""

    incident: str
    measure: str
    sources: list[str]
    found: bool


class Rate(BaseModel):
    """How many of the asked answer yes."""

    hits: int
    asked: int
    rate: float | None


def rate(answers: Sequence[bool]) -> Rate:
    """The share of yes among the answers."""
    hits = sum(answers)
    return Rate(
        hits=hits, asked=len(answers), rate=round(hits / len(answers), 4) if answers else None
    )


class MethodScores(BaseModel):
    """Everything scored of one way of grouping."""

    b3: Prf
    muc: Prf
    ceaf_e: Prf
    conll_f1: float
    killed_exact: Rate
    killed_within_10: Rate
    injured_exact: Rate
    injured_within_10: Rate
    conflicts_found: Rate
    predicted_conflicts: int
    series_kept_apart: Rate
    incidents: int
    figures: list[FigureCheck] = Field(default_factory=list)
    conflicts: list[ConflictCheck] = Field(default_factory=list)


def _matched(
    gold: GoldIncident, assigned: Mapping[str, str], by_id: Mapping[str, Incident]
) -> Incident | None:
    votes: dict[str, int] = {}
    for article in gold.articles:
        if article in assigned:
            votes[assigned[article]] = votes.get(assigned[article], 0) + 1
    if not votes:
        return None
    return by_id.get(max(votes, key=lambda k: (votes[k], k)))


def _figure(gold: GoldIncident, measure: str, incident: Incident | None) -> FigureCheck | None:
    want = gold.figures.get(measure)
    if want is None:
        return None
    got = incident.figures.get(measure) if incident else None
    value = got.best if got else (0 if incident is not None else None)
    exact = value == want.best
    within = value is not None and abs(value - want.best) <= 0.1 * want.best
    return FigureCheck(
        incident=gold.id,
        measure=measure,
        gold=want.best,
        predicted=value,
        exact=exact,
        within_10=within or exact,
    )


def score_method(
    gold: IncidentGold,
    incidents: Sequence[Incident],
    assigned: Mapping[str, str],
    series_articles_in_incidents: Sequence[bool],
) -> MethodScores:
    """A grouping's scores: `assigned` maps each article to its predicted incident (an
    article found in none is an incident of its own)."""
    gold_clusters = [frozenset(i.articles) for i in gold.incidents]
    scored = {a for c in gold_clusters for a in c}
    predicted: dict[str, set[str]] = {}
    for article in scored:
        predicted.setdefault(assigned.get(article, f"alone:{article}"), set()).add(article)
    predicted_clusters = [frozenset(c) for c in predicted.values()]
    grouping = conll(gold_clusters, predicted_clusters)
    by_id = {i.id: i for i in incidents}
    figures, conflicts = [], []
    for g in gold.incidents:
        match = _matched(g, assigned, by_id)
        figures += [f for m in ("killed", "injured") if (f := _figure(g, m, match))]
        for c in g.conflicts:
            found = match is not None and any(
                x.measure == c.measure and len(set(x.sources) & set(c.sources)) >= 2
                for x in match.conflicts
            )
            conflicts.append(
                ConflictCheck(incident=g.id, measure=c.measure, sources=c.sources, found=found)
            )
    killed = [f for f in figures if f.measure == "killed"]
    injured = [f for f in figures if f.measure == "injured"]
    return MethodScores(
        b3=grouping["b3"],
        muc=grouping["muc"],
        ceaf_e=grouping["ceaf_e"],
        conll_f1=grouping["conll_f1"],
        killed_exact=rate([f.exact for f in killed]),
        killed_within_10=rate([f.within_10 for f in killed]),
        injured_exact=rate([f.exact for f in injured]),
        injured_within_10=rate([f.within_10 for f in injured]),
        conflicts_found=rate([c.found for c in conflicts]),
        predicted_conflicts=sum(len(i.conflicts) for i in incidents),
        series_kept_apart=rate([not x for x in series_articles_in_incidents]),
        incidents=len(incidents),
        figures=figures,
        conflicts=conflicts,
    )
