"""Places as written resolved to gazetteer entries, namesakes settled by the article."""

from __future__ import annotations

import pytest

from service.incidents.places import article_context, resolve_place


@pytest.mark.parametrize(
    ("text", "country", "region", "name", "gazetteer_id"),
    [
        ("Chicago", None, None, "Chicago", "geonames:4887398"),
        ("Englewood, Chicago", "US", "IL", "Englewood", "geonames:4891176"),
        ("Englewood", "US", "NJ", "Englewood", "geonames:5097672"),  # the article's state
        ("Houston, Texas", None, None, "Houston", "geonames:4699066"),
        ("northern Syria", None, None, "Syria", "iso3166:SY"),
        ("Aleppo", None, None, "Aleppo", "geonames:170063"),
        ("Texas", None, None, "Texas", "iso3166-2:US-TX"),
        ("the United States", None, None, "United States", "iso3166:US"),
        # a state's name is the state, not a town of that name, nor a namesake abroad
        ("Oregon", "US", None, "Oregon", "iso3166-2:US-OR"),  # not Oregon, Ohio
        ("Virginia", "US", None, "Virginia", "iso3166-2:US-VA"),  # not Virginia, South Africa
        ("Florida", None, None, "Florida", "iso3166-2:US-FL"),  # not Florida, Colombia
        ("New York", None, None, "New York City", "geonames:5128581"),  # a great city
        ("Springfield, Oregon", None, None, "Springfield", "geonames:5754005"),
        # a feature named after its place, when the whole name is in no gazetteer
        ("Beirut Port", None, None, "Beirut", "geonames:276781"),
        ("the Kathmandu Valley", None, None, "Kathmandu", "geonames:1283240"),
        ("Shindand district", "AF", None, "Shīnḏanḏ", "geonames:1125155"),
        ("Kansas City", None, None, "Kansas City", "geonames:4393217"),  # a city's own name
    ],
)  # fmt: skip
def test_a_place_resolves_to_its_gazetteer_entry(
    text: str, country: str | None, region: str | None, name: str, gazetteer_id: str
) -> None:
    place = resolve_place(text, country, region)
    assert place is not None
    assert (place.name, place.gazetteer_id) == (name, gazetteer_id)


@pytest.mark.parametrize(
    "text",
    [
        "the 5400 block of South Ashland",
        "Back of the Yards",
        "",
        None,
        "the rubble",
        "South Asia",  # a continent's part, not the Philippine town "Asia"
        "South America",  # not "America", the United States
    ],
)
def test_what_no_gazetteer_holds_is_no_place(text: str | None) -> None:
    assert resolve_place(text, "US", "IL") is None


def test_a_city_in_another_state_than_the_articles_is_not_taken() -> None:
    assert resolve_place("Ashland", "US", "IL") is None  # Ashland, California is not it


def test_the_article_context_is_its_most_named_country_and_state() -> None:
    assert article_context(["Chicago", "Illinois", "Englewood"]) == ("US", "IL")
    # a name three towns share tells nothing; the city that tells decides
    assert article_context(["Englewood", "Chicago"]) == ("US", "IL")
    assert article_context(["Springfield"]) == (None, None)
    assert article_context(["Kathmandu", "Nepal"]) == ("NP", None)
    assert article_context([]) == (None, None)


def test_a_tie_goes_to_the_country_whose_city_or_state_is_named() -> None:
    # "June Jordan high school" in San Francisco: a city tells more than a country's name
    assert article_context(["Jordan", "San Francisco"]) == ("US", "CA")
    assert article_context(["Afghanistan", "Kabul", "United States"]) == ("AF", None)


@pytest.mark.parametrize(
    ("names", "text", "events", "country"),
    [
        # Nippes is a Haitian department the gazetteer lacks, and a district of Cologne: the
        # article's events are in Haiti
        (["Haiti", "Nippes"], "", ["Haiti"], "HT"),
        # no event placed: the names the text repeats decide
        (["Haiti", "Nippes"], "Haiti quake. Haiti's south. Nippes hit.", [], "HT"),
        # neither: a city tells more than a country's name alone
        (["Jordan", "San Francisco"], "", [], "US"),
    ],
)
def test_a_tie_goes_to_the_events_country_then_the_most_named(
    names: list[str], text: str, events: list[str], country: str
) -> None:
    assert article_context(names, text, events)[0] == country
