"""Counts a reader makes without a numeral, and the shooting words that label numbered ones."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.nlp import parse
from service.extraction.strategies import HYBRID_STEPS


def _counts(nlp: Any, text: str) -> list[tuple[str, float, str | None, bool]]:
    article = parse(text, nlp, HYBRID_STEPS)
    return [(text[n.start : n.end], n.value, n.cue, n.unnumbered) for n in article.numbers]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A man was killed in the shooting.", [("A man", 1, "killed", True)]),
        ("Police found the body of a 13-year-old boy.", [("a 13-year-old boy", 1, "killed", True)]),
        ("The shooting left a teenage boy dead.", [("a teenage boy", 1, "killed", True)]),
        ("A gunman killed a woman outside a bar.", [("a woman", 1, "killed", True)]),
        (
            "A man and his two children were shot dead.",
            [("two", 2, None, False), ("A man and his two children", 3, "killed", True)],
        ),
        (
            "A 16-year-old boy was shot in the backside.",
            [("A 16-year-old boy", 1, "killed_or_injured", True)],
        ),
        ("Detectives called it a double homicide.", [("double homicide", 2, "killed", True)]),
        # numbered counts: "shot" is killed or wounded, "fatally" is killed
        (
            "Four people were shot, one fatally, on Friday.",
            [("Four", 4, "killed_or_injured", False), ("one", 1, "killed", False)],
        ),
        (
            "Police said seven people shot at the party were taken to hospitals.",
            [("seven", 7, "killed_or_injured", False)],
        ),
        # a victim pronounced dead died; "fatal injuries" are deaths
        (
            "Three people were injured and one victim was pronounced dead.",
            [("Three", 3, "injured", False), ("one", 1, "killed", False)],
        ),
        # a named person harmed is one; names joined are summed
        (
            "The coroner says Kevie Durham, 24, was killed in the shooting.",
            [("Kevie Durham", 1, "killed", True)],
        ),
        (
            "Elijah Jackson and Shakur Franklin, both 16, were killed during the shootout.",
            [("Elijah Jackson and Shakur Franklin", 2, "killed", True)],
        ),
        ("Julian Bryant, 22, died Wednesday night.", [("Julian Bryant", 1, "killed", True)]),
        ("Tomman was pronounced dead at the scene.", [("Tomman", 1, "killed", True)]),
        (
            "The shooting happened at 11 p.m., leaving 27-year-old Brandon Lanier dead.",
            [("Brandon Lanier", 1, "killed", True)],
        ),
        # a headline's bare noun, with no object after its verb
        (
            "Man killed, boy injured in apparent drive-by",
            [("Man", 1, "killed", True), ("boy", 1, "injured", True)],
        ),
        ("A male was killed on the East Side.", [("A male", 1, "killed", True)]),
        # someone named by what they do, or a name given an age whatever NER tagged it
        ("An aspiring rapper is dead after the brawl.",
         [("An aspiring rapper", 1, "killed", True)]),
        ("A motorist was injured when the car crashed.", [("A motorist", 1, "injured", True)]),
        ("Musician Kionn Lamothe, 25, was killed in the exchange.",
         [("Musician Kionn Lamothe", 1, "killed", True)]),
        # "shot to death" killed; an owner makes one person ("his brother")
        ("A man was shot to death on Friday.", [("A man", 1, "killed", True)]),
        ("Police said his brother was killed.", [("his brother", 1, "killed", True)]),
        ("He admitted shooting to death his former girlfriend and two young men.",
         [("two", 2, None, False), ("his former girlfriend and two young men", 3, "killed", True)]),
        # a sentence "to death" is no killing; a thing with an agent's ending, or owned, is
        # no one
        ("A soldier was sentenced to death on Monday.", []),
        ("Her character was killed off in the final episode.", []),
        ("His career is dead, analysts said.", []),
        # a part of a whole, or a thing shot, is no one
        ("A number of residents were killed.", []),
        ("A helicopter was shot down over the town.", []),
        # a shooting "of" people: killed when fatal, else killed or injured
        (
            "Police are investigating the fatal shooting of a woman.",
            [("a woman", 1, "killed", True)],
        ),
        (
            "He was charged in the shooting of a man and a woman.",
            [("a man and a woman", 2, "killed_or_injured", True)],
        ),
        (
            "Police investigate the shooting death of a 19-year-old man.",
            [("a 19-year-old man", 1, "killed", True)],
        ),
        # a killing recalled ("the killing of Gadhafi") is no count of this report's
        ("Chaos followed the killing of dictator Moammar Gadhafi.", []),
        # a named person who did the harm, spoke, or is counted by an ordinal: no count
        ("Smith killed his wife.", [("his wife", 1, "killed", True)]),  # Smith is no count
        ("Mayor Bill de Blasio said the victim was shot.", []),
        # ... unless the ordinal numbers the dead: the toll is now that many
        ("Third man dies after shooting", [("Third man", 3, "killed", True)]),
        ("A second person died at the hospital.", [("A second person", 2, "killed", True)]),
        ("2nd body found in ditch", [("2nd body", 2, "killed", True)]),
        # a second victim wounded is victim number two of any number: no toll
        ("The second victim was shot in the leg.", []),
        # ... but "a fourth" after a count of three is one more, harmed its own way
        ("Three people are dead and a fourth is wounded.",
         [("Three", 3, "killed", False), ("a fourth", 1, "injured", True)]),
        ("He shot three people to death and seriously injured a fourth.",
         [("three", 3, "killed", False), ("a fourth", 1, "injured", True)]),
        ("Two people died Sunday and a third died Monday.", [("Two", 2, "killed", False)]),
        ("A fourth is wounded.", []),  # no count of three before it: not one more
        ("A third shooting victim was found on Elm Street.", []),
        ("Gunman killed two people", [("two", 2, "killed", False)]),
        # no harm done to the one: no count
        ("A man said the road was closed.", []),
        ("A gunman opened fire on the crowd.", []),
        # a collective noun is not one person; a count with "and others" is not summed
        ("A family was killed in the blast.", []),
        ("A man and others were killed.", []),
        # a headline's number with no noun: the verb before it says ("Kills 3, Wounds 2")
        ("Fuller Park Shooting Kills 3, Wounds 2, Police Say",
         [("3", 3, "killed", False), ("2", 2, "injured", False)]),
        # a fact sheet's figure over its title-case label: "Fatalities" are deaths
        ("Numbers At A Glance\n\n5,582\n\nEstimated Fatalities Resulting from the Earthquake",
         [("5,582", 5582, "killed", False)]),
        # a headline's "N shot": the parse reads "shot" as a noun, but shots are plural
        ("2 shot dead in parking dispute", [("2", 2, "killed", False)]),
        ("5 shot in Chicago overnight", [("5", 5, "killed_or_injured", False)]),
        ("Police said 30 shots were fired.", [("30", 30, "killed_or_injured", False)]),
        # "striking five people": struck by the shots
        ("A man opened fire outside a nightclub, striking five people.",
         [("five", 5, "killed_or_injured", False)]),
        # "murder" is a death word; an attempted one is not
        ("A man was found guilty of murdering two men.", [("two", 2, "killed", False)]),
        ("Clark, aka Cheeto, 26, pleaded guilty to attempted murder.", [("26", 26, None, False)]),
        # a pronoun harmed is one person, whoever it stands for
        ("Officers found a man on the ground. He was pronounced dead at the scene.",
         [("He", 1, "killed", True)]),
        ("She was shot in the arm.", [("She", 1, "killed_or_injured", True)]),
        ("He shot two men.", [("two", 2, "killed_or_injured", False)]),
        # a harm that could have been is none
        ("She could have been killed.", []),
        ("A man would have died without help.", []),
    ],
)  # fmt: skip
def test_counts(nlp: Any, text: str, expected: list[tuple[str, float, str | None, bool]]) -> None:
    assert _counts(nlp, text) == expected
