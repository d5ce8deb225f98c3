"""Names: entities merged under their fullest form, with roles, places by how they are used."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.names import find_names
from service.folding import name_key
from tests.conftest import read_article

STORY = (
    "Kenyan President William Ruto visited Nairobi on Monday. Ruto met officials of the "
    "World Health Organization. Mr. Ruto later flew to Mombasa, where the Red Cross said "
    "floods had displaced residents.\n\nThe governor of the region, Abdulswamad Nassir, "
    "said roads in Mombasa were closed."
)


def _by_name(article: Any) -> dict[str, Any]:
    return {e.name: e for e in article.entities}


def _organisations(nlp: Any, text: str) -> set[str]:
    return {e.name for e in read_article(nlp, text, find_names).entities
            if e.label == "organizations"}  # fmt: skip


def test_surname_and_title_fold_into_the_full_name(nlp: Any) -> None:
    entities = _by_name(read_article(nlp, STORY, find_names))
    ruto = entities["William Ruto"]
    assert ruto.label == "people"
    assert "Ruto" in ruto.aliases
    assert len(ruto.mentions) == 3
    assert "Ruto" not in entities


def test_role_and_affiliation_from_the_words_before_the_name(nlp: Any) -> None:
    ruto = _by_name(read_article(nlp, STORY, find_names))["William Ruto"]
    assert ruto.role == "President"
    assert ruto.affiliation == "Kenya"  # the nationality as its country
    assert STORY[ruto.start : ruto.end] == "Kenyan President William Ruto"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Nairobi", "locations"),
        ("Mombasa", "locations"),
        ("World Health Organization", "organizations"),
        ("Red Cross", "organizations"),
        ("Abdulswamad Nassir", "people"),
    ],
)
def test_labels(nlp: Any, name: str, label: str) -> None:
    entities = _by_name(read_article(nlp, STORY, find_names))
    assert entities[name].label == label


def test_every_mention_is_a_span_of_the_text(nlp: Any) -> None:
    article = read_article(nlp, STORY, find_names)
    for entity in article.entities:
        assert STORY[entity.start : entity.end].endswith(entity.name) or (
            name_key(STORY[entity.start : entity.end]) == name_key(entity.name)
        )
        for start, end in entity.mentions:
            assert name_key(entity.name).endswith(name_key(STORY[start:end]).split()[-1])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no capitals or names at all here",
        "Die Regierung in Berlin teilte am Montag mit, dass die Gespräche weitergehen.",
        "\x00\x07 control \x1b characters \x7f",
    ],
)
def test_odd_text_gives_entities_or_none(nlp: Any, text: str) -> None:
    article = read_article(nlp, text, find_names)
    assert all(text[e.start : e.end] for e in article.entities)


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        # a headline's capitalised words are no organisation unless the text names it again
        ("French Troops Prepare to Evacuate Foreigners\n\nFrench soldiers began moving "
         "foreigners out of the city on Monday, the Red Cross said.", ["Red Cross"],
         ["French Troops Prepare", "Evacuate Foreigners"]),
        ("Red Cross Warns of Cholera\n\nThe Red Cross said cases were rising.", ["Red Cross"],
         []),
    ],
)  # fmt: skip
def test_organisations_named_only_in_a_headline_are_dropped(
    nlp: Any, text: str, kept: list[str], dropped: list[str]
) -> None:
    names = _organisations(nlp, text)
    assert set(kept) <= names and not names & set(dropped)


@pytest.mark.parametrize(
    ("text", "person"),
    [
        # spaCy's small model cuts a long name in two: the halves are one person
        ("Houthi rebels fought the government of President Abdu Rabu Mansour Hadi.",
         "Abdu Rabu Mansour Hadi"),
        ("Kenyan President William Ruto visited Nairobi on Monday.", "William Ruto"),
    ],
)  # fmt: skip
def test_a_name_cut_in_two_is_one_person(nlp: Any, text: str, person: str) -> None:
    people = [e.name for e in read_article(nlp, text, find_names).entities if e.label == "people"]
    assert people == [person]


def test_a_name_the_text_calls_a_village_or_district_is_a_place(nlp: Any) -> None:
    # spaCy's small model tags "Qana" ORG in most of its mentions; "the village of Qana"
    # says what it is
    text = (
        "ICRC: 28 bodies pulled from rubble after airstrike, Qana\n\n"
        "An air strike demolished a building in the village of Qana in southern Lebanon. "
        "Rescuers searched Qana through the night."
    )
    entities = _by_name(read_article(nlp, text, find_names))
    assert entities["Qana"].label == "locations"


@pytest.mark.parametrize(
    ("text", "group"),
    [
        # a name written before what its members are called is an armed group's
        ("Witnesses said the M18 rebels entered the town of Rutshuru on Sunday.", "M18"),
        ("Al-Shabaab fighters stormed the base near the border, officials said.", "Al-Shabaab"),
        ("The army said al-Qaida-linked militants fired on a convoy on Tuesday.", "al-Qaida"),
        ("Residents said Ansar Dine gunmen had taken the market.", "Ansar Dine"),
        ("Police said FDLR proxy militias burned two villages in the east.", "FDLR"),
    ],
)  # fmt: skip
def test_a_name_before_rebels_or_militants_is_an_organisation(
    nlp: Any, text: str, group: str
) -> None:
    entities = _by_name(read_article(nlp, text, find_names))
    assert entities[group].label == "organizations"
    assert entities[group].kind == "other"


@pytest.mark.parametrize(
    "text",
    [
        # a nationality, a place or an unnamed group is no organisation
        "Syrian rebels shelled the outskirts of the city on Monday.",
        "Kachin rebels and government troops clashed in the north, residents said.",
        "They were fleeing fighting between an ethnic Tuareg militia and the army.",
        "Opposition fighters withdrew from the hill overnight.",
        "On Monday rebels attacked the garrison, officials said.",
    ],
)
def test_no_organisation_from_a_nationality_place_or_unnamed_group(nlp: Any, text: str) -> None:
    assert _organisations(nlp, text) == set()


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        # a nationality tagged as an organisation is none; a ministry named by its
        # country's adjective stays one
        ("Aid workers registered 4,000 Burkinabe and 1,500 Sierra Leoneans on Friday.",
         [], ["Sierra Leoneans"]),
        ("Russian Foreign Ministry spokeswoman Maria Zakharova denied the report.",
         ["Russian Foreign Ministry"], []),
        ("Pakistani Taliban spokesman Ehsanullah Ehsan denied the report.",
         ["Pakistani Taliban"], []),
        # a common word opening a sentence is no name where the text writes it plain
        ("The refugee camp is full. Refugee agency workers are moving families to "
         "a second site, the agency said.", [], ["Refugee"]),
        # two halves of one name joined by "and"
        ("The International Federation of Red Cross and Red Crescent Societies appealed "
         "for funds on Monday.",
         ["International Federation of Red Cross and Red Crescent Societies"], []),
        # ... not a body the text names alone too
        ("Officials of the Ministry of Health and Hamas met on Monday. Hamas said the talks "
         "would go on.", ["Hamas"], ["Ministry of Health and Hamas"]),
    ],
)  # fmt: skip
def test_organisation_mentions_kept_and_dropped(
    nlp: Any, text: str, kept: list[str], dropped: list[str]
) -> None:
    names = _organisations(nlp, text)
    assert set(kept) <= names and not names & set(dropped)
