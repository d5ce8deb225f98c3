"""Places' kind and country: the gazetteers decide, the article's words win (news text of
many places, none of them the seeds')."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.names import find_names
from service.candidates.places import country_of, describe_places
from tests.conftest import read_article


@pytest.mark.parametrize(
    ("text", "name", "kind", "country"),
    [
        ("Floods hit Peru on Monday.", "Peru", "country", "Peru"),
        ("Rockets struck Mosul.", "Mosul", "city", "Iraq"),
        # a namesake: the Tripoli in the country the article names
        ("Clashes erupted in Tripoli as Libya's rival forces fought.", "Tripoli", "city", "Libya"),
        ("Clashes erupted in Tripoli, the Lebanese port, as Lebanon mourned.", "Tripoli",
         "city", "Lebanon"),
        # pycountry's subdivision, known by its first word ("Borno" state)
        ("Militants attacked villages in Borno state.", "Borno", "region", "Nigeria"),
        ("Rain fell across Sichuan province, China said.", "Sichuan province", "region",
         "China"),
        # a town no gazetteer knows, placed by the text
        ("Gunmen raided Kukawa, Nigeria, on Friday.", "Kukawa", "city", "Nigeria"),
        ("Water is a lake: boats sank on Lake Victoria in Uganda.", "Lake Victoria", "other",
         None),
        ("Ministers met in Europe.", "Europe", "region", None),
        # a region spanning countries takes none of them, however often one is named
        ("Floods hit the Balkans, and Serbia said Serbia needed help.", "Balkans", "region",
         None),
    ],
    ids=["country", "city", "namesake-libya", "namesake-lebanon", "subdivision",
         "region-word", "text-country", "water", "continent", "spanning-region"],
)  # fmt: skip
def test_kind_and_country(nlp: Any, text: str, name: str, kind: str, country: str | None) -> None:
    article = read_article(nlp, text, find_names, describe_places)
    place = next(e for e in article.entities if e.name == name)
    assert (place.kind, place.country) == (kind, country)


@pytest.mark.parametrize(
    ("word", "country"),
    [("Ukrainian", "Ukraine"), ("Sudanese", "Sudan"), ("Britain", "United Kingdom"),
     ("Chinese", "China"), ("Burma", "Myanmar"), ("Houthi", None), ("officials", None)],
)  # fmt: skip
def test_nationality_to_country(word: str, country: str | None) -> None:
    assert country_of(word) == country
