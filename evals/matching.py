"""One-to-one matching of predicted facts to gold facts, list by list, and their fields.

Each list has a key rule (from the product contract); a pair that passes it gets a score
in (0, 1], plus a small bonus for agreeing fields so ties go to the better pair. The
assignment maximises the total score (Hungarian algorithm, scipy), so each predicted fact
matches at most one gold fact and vice versa. On each matched pair every non-key field
gets a verdict (`FieldVerdict`): agreement is strict (a fragment of a role, another
country or another period disagrees) but names the gold gives aliases for, acronyms and
case, punctuation or a leading "the" do not count against a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz
from scipy.optimize import linear_sum_assignment

from evals.gold import GoldCase, normalize_name
from schemas.facts import FACT_LISTS, NewsFacts
from service.folding import normalize
from service.numbers import same_number

NAME_THRESHOLD = 0.85
QUOTE_OVERLAP = 0.6
FIELD_BONUS = 0.01
FieldVerdict = Literal["agree", "disagree", "missed", "spurious"]

# Fields compared on matched pairs (the key fields of each list are left out).
FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("role", "affiliation"),
    "organizations": ("kind",),
    "locations": ("kind", "country"),
    "negotiations": ("round", "format", "venue", "participants", "outcome", "agreements"),
    "casualties": (
        "count_max", "approximate", "population", "side", "location", "period", "reported_by",
    ),
    "displacement": (
        "count_max", "approximate", "location", "destination", "period", "reported_by",
    ),
    "attacks": ("target", "location", "when", "attributed_to", "denied_by"),
    # a figure's `what` is a free description (like evidence), not a value to agree on
    "figures": ("unit", "reported_by"),
    "quotes": ("speaker_role",),
}  # fmt: skip

_TOKENS = re.compile(r"\w+")
_UNITS = {
    "$": "usd", "usd": "usd", "dollars": "usd", "us dollars": "usd", "dollar": "usd",
    "people": "people", "persons": "people", "individuals": "people", "civilians": "people",
    "troops": "troops", "soldiers": "troops", "metres": "meters", "meters": "meters",
    "m": "meters", "body": "bodies", "bodies": "bodies", "attack": "attacks",
    "%": "percent", "percent": "percent",
}  # fmt: skip


def name_similarity(predicted: str | None, names: Iterable[str]) -> float:
    """Best similarity (0..1) between a predicted name and any gold name or alias."""
    if not predicted:
        return 0.0
    p = normalize_name(predicted)
    return max((fuzz.ratio(p, normalize_name(n)) / 100 for n in names), default=0.0)


def text_similarity(a: str | None, b: str | None) -> float:
    """Order-insensitive similarity of two short texts (0..1)."""
    if not a or not b:
        return 0.0
    return fuzz.token_set_ratio(normalize_name(a), normalize_name(b)) / 100


def token_overlap(a: str, b: str) -> float:
    """Dice overlap of the word tokens of two texts (0..1)."""
    ta, tb = set(_TOKENS.findall(normalize(a))), set(_TOKENS.findall(normalize(b)))
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def normalize_unit(unit: str | None) -> str | None:
    """A unit in canonical form ('$' and 'dollars' are 'usd')."""
    if unit is None:
        return None
    u = " ".join(normalize(unit).split())
    return _UNITS.get(u, u)


def units_agree(gold: str | None, predicted: str | None) -> bool:
    """Equal after normalisation, one containing the other, or one of them unstated."""
    g, p = normalize_unit(gold), normalize_unit(predicted)
    return g is None or p is None or g == p or g in p or p in g


def _place_names(case: GoldCase, place: str | None) -> tuple[str, ...]:
    return case.names_of(place) if place else ()


def _entity_key(gold: Any, pred: Any, case: GoldCase) -> float:
    score = name_similarity(pred.name, case.names_of(gold.name))
    return score if score >= NAME_THRESHOLD else 0.0


def _casualty_key(gold: Any, pred: Any, case: GoldCase) -> float:
    return 1.0 if gold.count == pred.count and gold.outcome == pred.outcome else 0.0


def _displacement_key(gold: Any, pred: Any, case: GoldCase) -> float:
    return 1.0 if gold.count == pred.count and gold.movement == pred.movement else 0.0


def _attack_key(gold: Any, pred: Any, case: GoldCase) -> float:
    if gold.target_type != pred.target_type:
        return 0.0
    where = name_similarity(pred.location, _place_names(case, gold.location))
    what = text_similarity(gold.target, pred.target)
    best = max(where, what)
    return best if best >= NAME_THRESHOLD else 0.0


def _party_overlap(gold: list[str], pred: list[str]) -> float:
    if not gold:
        return 0.0
    hits = sum(
        any(fuzz.partial_ratio(normalize_name(g), normalize_name(p)) >= 85 for p in pred)
        for g in gold
    )
    return hits / len(gold)


def _negotiation_key(gold: Any, pred: Any, case: GoldCase) -> float:
    parties = _party_overlap(gold.parties, pred.parties)
    if parties < 0.5:
        return 0.0
    if gold.round is None and gold.venue is None:
        return parties  # nothing else to key on (e.g. talks by video, rounds unnumbered)
    same_round = gold.round is not None and gold.round == pred.round
    venue = name_similarity(pred.venue, _place_names(case, gold.venue))
    return parties if same_round or venue >= NAME_THRESHOLD else 0.0


def _figure_key(gold: Any, pred: Any, case: GoldCase) -> float:
    ok = same_number(gold.value, pred.value) and units_agree(gold.unit, pred.unit)
    return 1.0 if ok else 0.0


def _quote_key(gold: Any, pred: Any, case: GoldCase) -> float:
    if name_similarity(pred.speaker, case.names_of(gold.speaker)) < NAME_THRESHOLD:
        return 0.0
    overlap = token_overlap(gold.text, pred.text)
    return overlap if overlap >= QUOTE_OVERLAP else 0.0


KEY_RULES: dict[str, Callable[[Any, Any, GoldCase], float]] = {
    "people": _entity_key,
    "organizations": _entity_key,
    "locations": _entity_key,
    "negotiations": _negotiation_key,
    "casualties": _casualty_key,
    "displacement": _displacement_key,
    "attacks": _attack_key,
    "figures": _figure_key,
    "quotes": _quote_key,
}


_STOP = frozenset({"the", "of", "for", "and", "on", "in", "to", "a", "an", "s"})


def _acronym(words: list[str]) -> str:
    return "".join(w[0] for w in words if w not in _STOP)


def _words(name: str) -> list[str]:
    """A name's words without "the"; an acronym written with stops ("U.N.") as one word."""
    words = [w for w in normalize_name(name).split() if w != "the"]
    return ["".join(words)] if len(words) > 1 and all(len(w) == 1 for w in words) else words


def names_agree(gold: str, pred: str, case: GoldCase) -> bool:
    """Two names or short texts for the same thing: equal once normalised, near-equal to
    the gold or one of its aliases (fuzzy >= NAME_THRESHOLD over the whole string, so a
    fragment fails), or one the acronym of the other ("UN" / "United Nations")."""
    if name_similarity(pred, case.names_of(gold)) >= NAME_THRESHOLD:
        return True
    g, p = _words(gold), _words(pred)
    if g == p:
        return True
    return (len(p) == 1 and len(g) > 1 and p[0] == _acronym(g)) or (
        len(g) == 1 and len(p) > 1 and g[0] == _acronym(p)
    )


def field_agrees(gold: Any, pred: Any, case: GoldCase) -> bool:
    """Whether a predicted field value says what the gold one says (numbers, enums, names
    with aliases, lists item for item)."""
    if isinstance(gold, bool) or isinstance(pred, bool):
        return gold is pred
    if isinstance(gold, int | float):
        return isinstance(pred, int | float) and same_number(gold, pred)
    if isinstance(gold, list):
        pred = pred or []
        return all(any(field_agrees(g, p, case) for p in pred) for g in gold) and all(
            any(field_agrees(g, p, case) for g in gold) for p in pred
        )
    if isinstance(gold, str):
        return isinstance(pred, str) and names_agree(gold, pred, case)
    return bool(gold == pred)


def stated(value: Any) -> bool:
    """Whether a field says something: not null, not an empty list, not a False flag."""
    return value not in (None, [], False, "unknown")


def compare_fields(
    list_name: str, gold: BaseModel, pred: BaseModel, case: GoldCase
) -> dict[str, FieldVerdict]:
    """Per field either side states: agree, disagree, missed (gold only) or spurious."""
    verdicts: dict[str, FieldVerdict] = {}
    for name in FIELDS[list_name]:
        g, p = getattr(gold, name), getattr(pred, name)
        if stated(g) and stated(p):
            verdicts[name] = "agree" if field_agrees(g, p, case) else "disagree"
        elif stated(g):
            verdicts[name] = "missed"
        elif stated(p):
            verdicts[name] = "spurious"
    return verdicts


@dataclass(frozen=True)
class Pair:
    """A matched gold and predicted fact, by index, with the key score."""

    gold: int
    pred: int
    score: float
    fields: dict[str, FieldVerdict]


@dataclass(frozen=True)
class ListMatch:
    """The matching of one fact list: pairs, missed gold facts and spurious predictions."""

    list_name: str
    pairs: list[Pair]
    missed: list[int]
    spurious: list[int]
    n_gold: int
    n_pred: int


def match_list(list_name: str, gold: list[Any], pred: list[Any], case: GoldCase) -> ListMatch:
    """Best one-to-one matching of one list's predictions to its gold facts."""
    rule = KEY_RULES[list_name]
    pairs: list[Pair] = []
    if gold and pred:
        scores = np.zeros((len(gold), len(pred)))
        verdicts: dict[tuple[int, int], dict[str, FieldVerdict]] = {}
        for i, g in enumerate(gold):
            for j, p in enumerate(pred):
                key = rule(g, p, case)
                if key > 0:
                    verdicts[i, j] = compare_fields(list_name, g, p, case)
                    agreed = sum(v == "agree" for v in verdicts[i, j].values())
                    scores[i, j] = key + FIELD_BONUS * agreed / max(len(verdicts[i, j]), 1)
        rows, cols = linear_sum_assignment(scores, maximize=True)
        pairs = [
            Pair(int(i), int(j), float(scores[i, j]), verdicts[i, j])
            for i, j in zip(rows, cols, strict=True)
            if scores[i, j] > 0
        ]
    matched_gold = {p.gold for p in pairs}
    matched_pred = {p.pred for p in pairs}
    return ListMatch(
        list_name=list_name,
        pairs=pairs,
        missed=[i for i in range(len(gold)) if i not in matched_gold],
        spurious=[j for j in range(len(pred)) if j not in matched_pred],
        n_gold=len(gold),
        n_pred=len(pred),
    )


def match_facts(case: GoldCase, predicted: NewsFacts) -> dict[str, ListMatch]:
    """Match every fact list of a prediction against the case's gold facts."""
    return {
        name: match_list(name, getattr(case.facts, name), getattr(predicted, name), case)
        for name in FACT_LISTS
    }
