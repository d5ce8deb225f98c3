"""Who gave a figure, where and when, read from the parse (news text of other events)."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.nlp import parse
from service.extraction.strategies import HYBRID_STEPS


def _number(nlp: Any, text: str, words: str) -> Any:
    article = parse(text, nlp, HYBRID_STEPS)
    return next(n for n in article.numbers if text[n.start : n.end] == words)


@pytest.mark.parametrize(
    ("text", "words", "reported_by", "location", "period"),
    [
        ("At least 40 people were killed in Khartoum over the past week, the health ministry "
         "said.", "40", "health ministry", "Khartoum", "over the past week"),
        ("According to the Red Crescent, 12 people died in Derna.", "12", "Red Crescent",
         "Derna", None),
        ("Police said 9 miners were trapped in Zacatecas on Tuesday.", "9", "Police",
         "Zacatecas", None),
        ("A report by the UN agency in Geneva, Switzerland said 300 families fled.", "300",
         "UN agency", None, None),
        ("Some 2,000 houses were destroyed.", "2,000", None, None, None),
        # the person a description names is the source
        ("A spokeswoman for the Red Crescent, Amina Saleh, said 12 people drowned.", "12",
         "Amina Saleh", None, None),
        # the time of the figure's clause, not of the reporting ("said on Monday")
        ("Officials said on Monday that 2,300 migrants drowned in 2016 alone.", "2,300",
         "Officials", None, "in 2016"),
        # a span of time no date names
        ("At least 300 people have died in the fighting so far, the ministry said.", "300",
         "ministry", None, "in the fighting so far"),
        ("Some 1,200 homes have burned since the fires began.", "1,200", None, None,
         "since the fires began"),
        # the fullest name: people of a place, a title's remit; not a body's seat
        ("Doctors in the Gaza Strip say at least 40 people were killed.", "40",
         "Doctors in the Gaza Strip", None, None),
        ("The U.N. High Commissioner for Refugees says 14,000 people fled.", "14,000",
         "U.N. High Commissioner for Refugees", None, None),
        ("The UN office in Geneva says 14,000 people fled.", "14,000", "UN office", None, None),
        # the accused are no source; a headline's count the tagger read as a name is a number
        ("Indian Maoists Accused of Killing 16 Villagers in Bihar", "16", None, "Bihar", None),
    ],
    ids=["said-after", "according-to", "subject-before", "body-before-place", "no-source",
         "person-in-description", "clause-time", "so-far", "since-phrase", "people-of-a-place",
         "title-remit", "body-seat", "accused"],
)  # fmt: skip
def test_source_place_and_time(
    nlp: Any, text: str, words: str, reported_by: str | None, location: str | None,
    period: str | None,
) -> None:  # fmt: skip
    number = _number(nlp, text, words)
    assert (number.reported_by, number.location, number.period) == (
        reported_by, location, period,
    )  # fmt: skip


def test_side_from_nationality(nlp: Any) -> None:
    number = _number(nlp, "Seven Ethiopian soldiers were wounded.", "Seven")
    assert number.side == "Ethiopia"


def test_destination(nlp: Any) -> None:
    number = _number(nlp, "About 5,000 people fled to Chad last month.", "5,000")
    assert number.destination == "Chad"


@pytest.mark.parametrize(
    ("text", "words", "location"),
    [
        # the clause names none: the nearest place its sentence names
        (
            "Russian missiles struck the city of Kharkiv in Ukraine on Monday, and 12 people "
            "were killed, officials said.",
            "12",
            "Kharkiv",
        ),
        # the sentence names none: the last place its paragraph named before it
        (
            "Fighting spread through Derna overnight. Rescuers said 30 bodies were found.",
            "30",
            "Derna",
        ),
        # ... finer than a country first, as in the sentence
        (
            "An earthquake struck near Herat in western Afghanistan. Rescuers said 30 bodies "
            "were found.",
            "30",
            "Herat",
        ),
        # nor its paragraph: the place the report opens on, finer than a country first
        (
            "Storm hits Mozambique\n\nA cyclone struck the port city of Beira in Mozambique on "
            "Thursday, tearing roofs off homes and cutting power across the region.\n\nAt least "
            "40 people died, the disaster agency said.",
            "40",
            "Beira",
        ),
        # the reporting source's place is not the figure's
        ("A report by the UN agency in Geneva, Switzerland said 300 families fled.", "300", None),
        # a country that qualifies a noun says whose, not where
        (
            "The U.S. military said its airstrikes in Afghanistan killed 90 civilians.",
            "90",
            "Afghanistan",
        ),
        (
            "Officials said U.S. airstrikes killed 90 civilians in western Afghanistan.\n\n"
            "The U.S. military has insisted that only five were killed.",
            "five",
            "Afghanistan",
        ),
        # "the 5100 block of Idaho" is a street, not the state
        (
            "Officers responded to a shooting in Houston, in the 5100 block of Idaho. Five "
            "people were injured.",
            "Five",
            "Houston",
        ),
        # where a reporter files from is not where it happened
        (
            "U.S. airstrikes killed 90 civilians, the UN says. VOA's correspondent reports "
            "from Islamabad that the strikes hit a village in western Afghanistan.",
            "90",
            "Afghanistan",
        ),
        # a wire photo's caption is not where the story opens
        (
            "Flooding Worsens as Rain Returns\n\nFILE - Residents wade through water in the "
            "town of Dadu, Pakistan, Aug. 30, 2022, as rescuers carry belongings to higher "
            "ground.\n\n"
            "Floods across Pakistan have forced families from their homes for weeks, and "
            "officials warned on Monday that more rain was on the way.\n\n"
            "About 1,200 people have died, the disaster agency said.",
            "1,200",
            "Pakistan",
        ),
    ],
    ids=[
        "sentence",
        "paragraph",
        "paragraph-finer",
        "lede",
        "not-the-source",
        "whose",
        "whose-paragraph",
        "address",
        "filed-from",
        "caption",
    ],
)
def test_a_place_the_clause_does_not_name_is_inherited(
    nlp: Any, text: str, words: str, location: str | None
) -> None:
    assert _number(nlp, text, words).location == location


@pytest.mark.parametrize(
    ("text", "words", "whole"),
    [
        ("The strike killed 28 civilians, including 19 children.", "19", "28"),
        ("Rescuers said 40 people died in the floods, including 12 children.", "12", "40"),
        ("Officials said 19 children were hurt and 28 adults were killed.", "19", None),
    ],
)
def test_a_part_of_a_toll_links_to_its_whole(
    nlp: Any, text: str, words: str, whole: str | None
) -> None:
    article = parse(text, nlp, HYBRID_STEPS)
    number = next(n for n in article.numbers if text[n.start : n.end] == words)
    linked = article.numbers[number.part_of] if number.part_of is not None else None
    assert (text[linked.start : linked.end] if linked else None) == whole
