"""Mentions of many articles grouped into incidents.

Which decides what, for two mentions of the same family (violence, displacement, talks):

1. **Date window** (a gate): their days at most `DAY_WINDOW` apart, one more when either
   day is only the publication day (the text gave none); a report's publication day and
   the day before count as its days too. Undated mentions pass. A follow-up passes too: the
   same or a near place, cosine ≥ `FOLLOW_UP_COSINE` (or a link score, below, of
   `FOLLOW_UP_SCORE`), within `FOLLOW_UP_DAYS`.
2. **Place** (normalised to the gazetteer): the same entry is a match; a city and the region
   or country that holds it, two cities within `NEAR_KM` (a suburb and its city), or one side
   unplaced, a partial match; two cities farther apart a mismatch.
3. **Text similarity**: TF-IDF cosine (scikit-learn) of headline, lede and evidence; and
   shared names (rapidfuzz) count as text.
4. **Figures**: the same killed and injured figures, or the same figure of 4 or more.

Linked when the window passes and the cosine plus what the place, a shared figure and a
shared name add (`Weights`) reaches `Weights.link`; or when both report one natural hazard
(an earthquake, a cyclone, floods) in one country within `DISASTER_DAYS`, whatever towns
they name (`same_disaster`); or when a report months later names the same town with the
same figures (`_retrospective`). Incidents are the connected components of the links
(scipy).

The baseline of the eval (`same_place_same_day`) links the same gazetteer entry on the same
day, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from schemas.incidents import Place
from service.incidents.mentions import Mention

DAY_WINDOW = 1
FOLLOW_UP_DAYS = 14
FOLLOW_UP_COSINE = 0.35
FOLLOW_UP_SCORE = 0.55  # or text, place, figures and names together
NEAR_KM = 40.0  # two cities closer than this are one metro area: a partial match
_COMPARED = ("killed", "injured")
RARE = 4
# A disaster's situation reports run for weeks and name whichever towns were hit; two
# earthquakes (or cyclones, or floods) in one country within a month are one disaster.
DISASTER_DAYS = 30
HAZARDS = {
    "earthquake": "earthquake", "quake": "earthquake", "tsunami": "tsunami",
    "cyclone": "storm", "hurricane": "storm", "typhoon": "storm", "flood": "flood",
    "flooding": "flood", "landslide": "landslide", "mudslide": "landslide",
    "eruption": "eruption", "wildfire": "wildfire",
}  # fmt: skip
_WORDS = re.compile(r"[a-z]+")
# A report months later (a trial, an anniversary) names the town and repeats the figures.
RETROSPECTIVE_DAYS = 365
RETROSPECTIVE_COSINE = 0.15
# How far from a mention's days another mention can be and still be linked to it.
REACH_DAYS = max(DAY_WINDOW + 1, FOLLOW_UP_DAYS, DISASTER_DAYS, RETROSPECTIVE_DAYS)


@dataclass(frozen=True)
class Weights:
    """What each signal adds to two mentions' text similarity; linked at `link` or more."""

    same_place: float = 0.25
    partial_place: float = 0.1
    different_place: float = -0.2
    shared_figure: float = 0.15
    shared_name: float = 0.15
    link: float = 0.3


def _place_agreement(a: Place | None, b: Place | None) -> str:
    """'same', 'partial' or 'different'."""
    if a is None or b is None or not a.gazetteer_id or not b.gazetteer_id:
        return "partial"
    if a.gazetteer_id == b.gazetteer_id:
        return "same"
    cities = [p for p in (a, b) if p.gazetteer_id and p.gazetteer_id.startswith("geonames")]
    if len(cities) == 2:  # a suburb and its city, a neighbourhood read as a town: near
        return "partial" if _km(a, b) <= NEAR_KM else "different"
    wider = b if cities and cities[0] is a else a
    narrower = a if wider is b else b
    if wider.country != narrower.country:
        return "different"
    if wider.region and narrower.region and wider.gazetteer_id.startswith("iso3166-2"):
        return "partial" if wider.region == narrower.region else "different"
    return "partial"


def _days(m: Mention) -> set[dt.date]:
    """The days a mention may be about: the one its text gives, and (a report being news)
    its publication day and the day before, unless it is an event the report recalls from
    another day (the shooting last week)."""
    days = {m.date.start} if m.date is not None and m.date.start is not None else set()
    if m.published is not None and not (m.recalled and days):
        days |= {m.published, m.published - dt.timedelta(days=1)}
    return days


def _km(a: Place, b: Place) -> float:
    """Great-circle distance between two places with coordinates (haversine)."""
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))  # type: ignore[arg-type]
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _day_gap(a: Mention, b: Mention) -> int | None:
    """The fewest days between any day of one mention and any day of the other (None when
    either has no day)."""
    days_a, days_b = _days(a), _days(b)
    if not days_a or not days_b:
        return None
    return min(abs((x - y).days) for x in days_a for y in days_b)


def within_window(a: Mention, b: Mention) -> bool:
    """Whether the two mentions' days are close enough to be one event: the days their
    texts give, or their publication days (a misread date does not split a news cycle)."""
    gap = _day_gap(a, b)
    slack = DAY_WINDOW + (1 if (a.date and a.date.guessed) or (b.date and b.date.guessed) else 0)
    return gap is None or gap <= slack


def _shared_names(a: Mention, b: Mention) -> bool:
    return any(
        fuzz.token_set_ratio(x, y) >= 90
        for x in a.names
        for y in b.names
        if len(x) > 3 and len(y) > 3
    )


def _figures(m: Mention) -> dict[str, int]:
    return {r.measure: r.value for r in m.reports if r.measure in _COMPARED and r.value}


def _shared_figure(a: Mention, b: Mention) -> bool:
    """Both give the same killed and injured figures, or the same figure of a size that is
    rare (`RARE`+): one or two dead is too common to tell two events apart."""
    ours, theirs = _figures(a), _figures(b)
    if len(ours) == 2 and ours == theirs:
        return True
    return any(v >= RARE and theirs.get(k) == v for k, v in ours.items())


def similarity(mentions: Sequence[Mention]) -> np.ndarray:
    """Pairwise TF-IDF cosine of the mentions' texts."""
    if len(mentions) < 2:
        return np.ones((len(mentions), len(mentions)))
    vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1).fit_transform(
        [m.text or m.id for m in mentions]
    )
    return (vectors @ vectors.T).toarray()


def link_score(a: Mention, b: Mention, cosine: float, weights: Weights = Weights()) -> float:
    """Text similarity plus what places, figures and names add."""
    place = {
        "same": weights.same_place,
        "partial": weights.partial_place,
        "different": weights.different_place,
    }[_place_agreement(a.place, b.place)]
    return (
        cosine
        + place
        + weights.shared_figure * _shared_figure(a, b)
        + weights.shared_name * _shared_names(a, b)
    )


def linked(a: Mention, b: Mention, cosine: float, weights: Weights = Weights()) -> bool:
    """Whether two mentions report one event."""
    if a.family != b.family or a.article == b.article:
        return False
    if same_disaster(a, b):
        return True
    if _retrospective(a, b, cosine):
        return True
    if not within_window(a, b) and not _follow_up(a, b, cosine):
        return False
    return link_score(a, b, cosine, weights) >= weights.link


@lru_cache(maxsize=4096)
def _hazards(text: str) -> frozenset[str]:
    """The natural hazards a mention's text names (read once per text: `group` asks of
    every pair)."""
    words = _WORDS.findall(text.lower())
    found = (*words, *(w.removesuffix("s") for w in words))
    return frozenset(HAZARDS[w] for w in found if w in HAZARDS)


def same_disaster(a: Mention, b: Mention) -> bool:
    """Both report the same natural hazard in the same country within `DISASTER_DAYS`."""
    country = a.place.country if a.place is not None else None
    if country is None or b.place is None or b.place.country != country:
        return False
    gap = _day_gap(a, b)
    return (gap is None or gap <= DISASTER_DAYS) and bool(_hazards(a.text) & _hazards(b.text))


def _follow_up(a: Mention, b: Mention, cosine: float) -> bool:
    """A later report of the same story: the same place (or near), clearly the same text
    (or text, place, figures and names that add up to `FOLLOW_UP_SCORE`), within
    `FOLLOW_UP_DAYS` (a toll revised, an investigation's findings)."""
    if _place_agreement(a.place, b.place) == "different" or a.recalled or b.recalled:
        return False  # an event a report recalls is dated by its text, not by the news cycle
    if cosine < FOLLOW_UP_COSINE and link_score(a, b, cosine) < FOLLOW_UP_SCORE:
        return False
    gap = _day_gap(a, b)
    return gap is not None and gap <= FOLLOW_UP_DAYS


def _retrospective(a: Mention, b: Mention, cosine: float) -> bool:
    """A report long after the event (a trial, an anniversary, a toll revised): the same
    town, the same killed and injured (or the same four or more killed), text in common,
    within `RETROSPECTIVE_DAYS`. Injuries alone are too common in a city to tell."""
    if a.place is None or b.place is None or a.place.gazetteer_id != b.place.gazetteer_id:
        return False
    if not (a.place.gazetteer_id or "").startswith("geonames"):
        return False  # a country or a region holds too many events with these figures
    ours, theirs = _figures(a), _figures(b)
    # the same killed and injured, and a name in common (a victim's, a suspect's): in a
    # big city "1 killed, 3 injured" recurs within months
    both = len(ours) == 2 and ours == theirs and _shared_names(a, b)
    deaths = ours.get("killed", 0) >= RARE and theirs.get("killed") == ours["killed"]
    if cosine < RETROSPECTIVE_COSINE or not (both or deaths):
        return False
    gap = _day_gap(a, b)
    return gap is not None and gap <= RETROSPECTIVE_DAYS


def same_place_same_day(a: Mention, b: Mention, _cosine: float) -> bool:
    """The baseline: the same gazetteer entry on the same day."""
    if a.family != b.family or a.place is None or b.place is None:
        return False
    days = (a.date.start if a.date else None, b.date.start if b.date else None)
    return a.place.gazetteer_id == b.place.gazetteer_id and days[0] == days[1]


def group(
    mentions: Sequence[Mention],
    rule: Callable[[Mention, Mention, float], bool] = linked,
    settled: Sequence[str | None] | None = None,
) -> list[list[Mention]]:
    """The mentions as connected components of `rule`'s links, each in input order.

    `settled` gives each mention the incident it is already part of (None for a new one):
    mentions of one incident stay together and two settled mentions are not compared again,
    so adding an article only merges what it links (an incremental union of components).
    """
    n = len(mentions)
    if n == 0:
        return []
    keys = list(settled) if settled is not None else [None] * n
    cosine = similarity(mentions)
    rows, cols = [], []
    first: dict[str, int] = {}
    for i in range(n):
        if keys[i] is not None:
            j = first.setdefault(keys[i], i)  # type: ignore[arg-type]
            if j != i:
                rows.append(j)
                cols.append(i)
        for j in range(i + 1, n):
            if keys[i] is not None and keys[j] is not None:
                continue
            if rule(mentions[i], mentions[j], float(cosine[i, j])):
                rows.append(i)
                cols.append(j)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    components: list[list[Mention]] = [[] for _ in range(count)]
    for mention, label in zip(mentions, labels, strict=True):
        components[label].append(mention)
    return components
