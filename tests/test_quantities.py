"""Numbers: values, ranges, approximations and units; dates, ages and times left out."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.quantities import find_quantities
from tests.conftest import read_article


def _numbers(nlp: Any, text: str) -> list[tuple[float, float | None, bool, str | None]]:
    article = read_article(nlp, text, find_quantities)
    return [(n.value, n.value_max, n.approximate, n.unit) for n in article.numbers]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At least 1,252 people were injured.", [(1252, None, True, "people")]),
        ("Some 3.2 million residents fled the floods.", [(3_200_000, None, True, "residents")]),
        ("Twenty-two miners were trapped.", [(22, None, False, "miners")]),
        ("Officials said 5,000 to 6,000 troops had died.", [(5000, 6000, False, "troops")]),
        # what was counted: the remains of people, a quake's magnitude
        ("The bodies of 27 children were found.", [(27, None, False, "bodies")]),
        ("Scientists measured the quake at magnitude 6.3.", [(6.3, None, False, "magnitude")]),
        ("A 4.6 magnitude quake shook Ravenna.", [(4.6, None, False, "magnitude")]),
        ("The storm caused $4 billion in damage.", [(4e9, None, False, "USD")]),
        ("Prices rose 12 percent.", [(12, None, False, "percent")]),
        # A paraphraser's "six,000" reads as 6000.
        ("Nearly six,000 homes were flooded.", [(6000, None, True, "homes")]),
        # a share is no count; a part of a group the text counts is one
        ("Nine out of ten residents have left the town.", []),
        ("One out of every five children is malnourished.", []),
        (
            "Rescuers said 12 out of the 40 on board survived.",
            [(12, None, False, None), (40, None, False, None)],
        ),
        # the plural before a participle is what is counted, not the participle's object
        (
            "The strike came after three U.N. depots housing refugees were bombed on Tuesday.",
            [(3, None, False, "depots")],
        ),
        # Dates, years, clock times and ages are not quantities.
        ("On March 3, 2022, at 10 a.m., a 45-year-old man was hurt.", []),
        ("The quake struck in 2023.", []),
        ("The second round of talks began.", []),
        ("Medics gave first aid on the fourth day.", []),
        ("Thousands fled; 1000's more were trapped.", []),
        # dates written with a month or as ISO days
        ("Bangkok 08 November 2010", []),
        ("Troops prepare to leave - 2002-09-26", []),
        # an age at death, not a toll that stood at a number
        (
            "He was shot to death three years ago at 24 on the same block.",
            [],
        ),
        ("She died at 90.", []),
        ("The death toll stood at 24 on Monday.", [(24, None, False, None)]),
        # an age after a name
        ("Trevor Williams, 33, died at the scene.", []),
        # ages in a list, or after two names
        ("Three men, ages 26, 27 and 34, were hurt.", [(3, None, False, "men")]),
        ("Eli Jones and Sam Poe, both 16, were killed.", []),
        # ages in a range
        ("The victims range in age from 21 to 36.", []),
        ("Two women, ages 51 and 21, were shot.", [(2, None, False, "women")]),
        # a gallery's counter and ratios
        ("Shooting on South Side 1 / 8 Back to Gallery", []),
        ("The clinic is open 24/7 for 300 patients.", [(300, None, False, "patients")]),
        ("Four men between the ages of 18 and 25 were shot.", [(4, None, False, "men")]),
        ("It spread from 21 to 36 districts.", [(21, 36, False, "districts")]),  # no age
        # a range's low end written without the high end's thousands
        ("As many as 3-4,000 people sat under trees.", [(3000, 4000, True, "people")]),
        ("Some 5 to 6 million people fled.", [(5e6, 6e6, True, "people")]),
        # a number word the tagger calls a name ("Seven" under a headline) still counts;
        # the headline's "7 shot" counts people shot, not shots (the parse's noun "shot")
        (
            "7 shot in West Garfield Park\n\nSeven people were shot in Chicago's West Garfield "
            "Park neighborhood Friday night.",
            [(7, None, False, None), (7, None, False, "people")],
        ),
        # a name's number word is none; a headline's noun under another line stays its own,
        # and hard-wrapped prose keeps its counted noun across the line break
        ("The Chicago Seven were tried in 1969.", []),
        ("Heavy rain fell.\nGunmen Kill 12 Villagers in Nigeria", [(12, None, False, "villagers")]),
        (
            "Officials said 28 displaced\ncivilians were killed on Monday.",
            [(28, None, False, "civilians")],
        ),
        # a number ending the text, alone or after a word (found by the service's fuzz test)
        ("7", [(7, None, False, None)]),
        ("Killed: 7", [(7, None, False, None)]),
        # a fact sheet's figure counts nothing on the lines below it
        (
            "Pakistan 73,320 dead\n69,392 injured\n2.8 million homeless\nGovernment of Pakistan",
            [(73320, None, False, None), (69392, None, False, None), (2.8e6, None, False, None)],
        ),
        # a photo gallery's caption and a broadcaster's name are no counts
        ("Photo: Metro Video Image 3 of 8 Caption Close", []),
        ("CBS 58 reports that 5 men died.", [(5, None, False, "men")]),
        ("Photo: Pro 21 Video Image 2 of 8 Caption Close", []),  # a credit's name
        ("KSAT 12 News said 3 people were shot.", [(3, None, False, "people")]),
        ("HE SPOKE TO NEWS 4 JAX ON SUNDAY.", []),  # a station, in a transcript's capitals
    ],
)
def test_quantities(
    nlp: Any, text: str, expected: list[tuple[float, float | None, bool, str | None]]
) -> None:
    assert _numbers(nlp, text) == expected


def test_evidence_states_the_number_and_what_happened(nlp: Any) -> None:
    text = "Officials said 14 civilians were killed in the shelling on Friday."
    [number] = read_article(nlp, text, find_quantities).numbers
    assert text[number.evidence[0] : number.evidence[1]] == "14 civilians were killed"


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("Officials said 14 civilians were killed.", ["killed"]),
        # the harm word right after a number is its own, whatever else the clause says
        ("Shootout at a St. Louis tavern leaves 1 dead, injures five", ["killed", "injured"]),
        # a headline's verb before a number with no noun ("Kills 18 at School")
        ("Syrian Air Strike Kills 18 at School", ["killed"]),
        ("The blast left 2 dead and injured 14 others.", ["killed", "injured"]),
        # two verbs share one object: both are said of it; one with its own object is not
        ("The blast killed and injured 18 members of the force.", ["killed_or_injured"]),
        ("Gunmen killed the driver and injured 18 others.", ["injured"]),
        # "wound up" is ended up, no wound: its words decide nothing (the model reads it)
        ("Three people wound up dead after the gunfire.", [None]),
        ("The strike killed at least 28 displaced civilians.", [None]),  # describes a noun
        ("At least 900 people were injured.", ["injured"]),
        ("Some 2,000 residents were evacuated.", ["evacuated"]),
        # spaCy lemmatizes "are missing" to "miss": the adjective is meant
        ("Officials say up to 10,000 people are missing.", ["missing"]),
        ("Another 3,000 are missing, he said.", ["missing"]),
        ("The flood left 40 villages under water.", [None]),
        # the level of a tally the sentence names: "the death toll rose to", "estimates of
        # deaths ranging between"; a tally of things says no harm
        ("The death toll rose to 1,200 on Monday.", ["killed"]),
        ("The number of injured reached 5,000.", ["injured"]),
        (
            "Casualty figures are difficult to predict, with estimates of deaths today ranging "
            "between 18,000 and 30,000.",
            ["killed"],
        ),
        ("The number of schools reached 40.", [None]),
        # a fact sheet's row: the label before the figure on its line says what it counts,
        # the source after it counts nothing; a sentence's opening word is no label
        (
            "NUMBERS AT A GLANCE\n\nEstimated Deaths 112,405 GoH - January 31\nPeople Displaced "
            "in Port-au-Prince 700,000 GoH - January 31",
            ["killed", "displaced"],
        ),
        ("Gaza.\nNearly 1,200 Palestinians have been killed.", ["killed"]),
        # a fact sheet's lines: the word ending a figure's line is said of it
        (
            "The most affected are\n\nPakistan 73,320 dead\n69,392 injured\n2.8 million homeless\n"
            "Government of Pakistan (GOP) - November 15",
            ["killed", "injured", None],
        ),
        # In "N of the M", the verb is said of the part, not of the whole.
        ("At least 150 of the town's 1,800 residents were killed.", ["killed", None]),
    ],
)
def test_cue_from_the_numbers_own_words(nlp: Any, text: str, cues: list[str | None]) -> None:
    assert [n.cue for n in read_article(nlp, text, find_quantities).numbers] == cues


@pytest.mark.parametrize(
    ("text", "measure"),
    [("The wall is 30 meters high.", True), ("Prices rose 12 percent.", True),
     ("Some 40 villages were affected.", False)],
)  # fmt: skip
def test_measures_are_marked(nlp: Any, text: str, measure: bool) -> None:
    [number] = read_article(nlp, text, find_quantities).numbers
    assert number.measure is measure
