"""Attack targets read from the parse: what an attack word says was hit, written in news
style from many events (none of them the seeds')."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.names import find_names
from service.candidates.targets import find_targets
from tests.conftest import read_article


def _targets(nlp: Any, text: str) -> list[str]:
    article = read_article(nlp, text, find_names, find_targets)
    return [text[t.start : t.end] for t in article.targets]


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        # the object of an attack verb, and its conjuncts
        ("Rockets struck homes and a school in the north.", ["homes", "a school"]),
        ("Government jets bombed a market on Sunday.", ["a market"]),
        # a passive subject, with and without an agent
        ("A clinic in Aleppo was hit by an airstrike overnight.", ["A clinic"]),
        ("The bridge was destroyed on Monday.", ["The bridge"]),
        # a relative clause: "a hospital that officials said had been shelled"
        ("Crews searched a hospital that officials said had been shelled.", ["a hospital"]),
        # a participle on its noun
        ("Residents fled bombed neighbourhoods.", ["bombed neighbourhoods"]),
        ("Medics treated people in a shelter hit by drones.", ["a shelter"]),
        # an attack noun and what it was on or of
        ("The UN counted 12 attacks on water plants.", ["water plants"]),
        ("The shelling of the power station cut the lights.", ["the power station"]),
        # "came under attack": the subject is the target; a place in apposition names it
        ("The port city, Hodeidah, came under fire from the sea.", ["Hodeidah"]),
        # an adjective's own words stay out of the target
        ("Militias have increasingly hit aid convoys.", ["aid convoys"]),
        # fired on or at; a shell that landed on it
        ("Gunmen fired on a makeshift camp at midnight.", ["a makeshift camp"]),
        ("Troops opened fire on a police post.", ["a police post"]),
        ("An artillery round landed on a house nearby.", ["a house"]),
        # fired on someone at a place: the "at" says where, not what was hit
        ("Troops fired on a convoy at the border.", ["a convoy"]),
        # "assaulted", and a place spaCy's small model tags an organisation, which the
        # article reads as a place ("the village of X")
        ("Rebels said the army had assaulted civilian targets.", ["civilian targets"]),
        (
            "Jets pounded the village of Kafr Batna. Monitors condemned the bombing of Kafr Batna.",
            ["the village", "Kafr Batna"],
        ),
        # the plural before a participle was hit, not the participle's object
        (
            "The strike came after three U.N. depots housing refugees were bombed on Tuesday.",
            ["depots"],
        ),
    ],
)
def test_targets_found(nlp: Any, text: str, targets: list[str]) -> None:
    assert _targets(nlp, text) == targets


@pytest.mark.parametrize(
    "text",
    [
        # a disaster uses the same words: "struck", "damaged", "flattened", "-hit"
        "A magnitude 6.1 earthquake struck the region and damaged 4,000 homes.",
        "Rescuers reached the flood-hit villages on Tuesday.",
        "The town was flattened by a tornado.",
        # attacks spoken of in general, or denied having happened
        "Attacks on schools are a violation of the laws of war.",
        "Attacks on clinics can amount to war crimes.",
        "The army said it did not bomb the camp.",
        # people are not targets
        "Soldiers shot two protesters near the square.",
        "Gunmen attacked them on the road.",
        # no attack at all
        "Workers repaired the old bridge over the river.",
        "A ball landed on the roof.",
        # where a shell fell, not what it hit
        "Several shells landed on the Thai side of the border.",
        # what hit the "-hit" areas is no weapon; "on the ground" is an idiom
        "Aid must reach crisis-hit areas.",
        "They describe attacks on the ground by the militia.",
        # a report that opens on a disaster: its damage is the hazard's
        "Quake kills hundreds\n\nA powerful earthquake struck the mountain region before "
        "dawn on Monday, killing hundreds of people as they slept.\n\nSeveral towns were "
        "destroyed.",
    ],
)
def test_no_target(nlp: Any, text: str) -> None:
    assert _targets(nlp, text) == []


@pytest.mark.parametrize(
    ("text", "attributed_to", "denied_by"),
    [
        ("Israeli strikes on a school killed nine.", "Israeli", None),
        ("A convoy was hit by Houthi drones.", "Houthi", None),
        ("Moscow denies bombing the hospital.", None, "Moscow"),
    ],
)
def test_attacker_and_denier(
    nlp: Any, text: str, attributed_to: str | None, denied_by: str | None
) -> None:
    [target] = read_article(nlp, text, find_names, find_targets).targets
    assert (target.attributed_to, target.denied_by) == (attributed_to, denied_by)
