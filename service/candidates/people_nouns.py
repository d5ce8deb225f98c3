"""Nouns that name people (general English): what casualty and displacement figures count
and what an attack on is a casualty rather than a target."""

from __future__ import annotations

from spacy.tokens import Token

PEOPLE_NOUNS = frozenset(
    {
        "people", "person", "individual", "civilian", "resident", "inhabitant", "villager",
        "citizen", "national", "local", "protester", "demonstrator", "soldier", "troop",
        "serviceman", "servicemen", "servicemember", "fighter", "militant", "rebel",
        "insurgent", "combatant", "militiaman", "police", "policeman", "policemen",
        "officer", "guard", "child", "children", "kid", "baby", "infant", "toddler", "minor",
        "boy", "girl", "schoolchild", "schoolchildren", "teen", "teenager", "youth", "adult",
        "woman", "women", "man", "men", "elderly", "family", "household", "member", "worker",
        "employee", "staff", "volunteer", "medic",
        "doctor", "nurse", "paramedic", "firefighter", "rescuer", "journalist", "reporter",
        "patient", "student", "pupil", "teacher", "refugee", "migrant", "evacuee",
        "seeker", "survivor", "passenger", "pilgrim", "worshipper", "crowd", "victim",
        "casualty", "dead", "prisoner", "hostage", "detainee", "captive", "miner",
        "farmer", "fisherman", "fishermen", "crew", "sailor", "tourist", "visitor",
        "climber", "hiker", "diplomat", "official", "peacekeeper", "aid", "relative",
        "son", "daughter", "father", "mother", "husband", "wife", "brother", "sister",
        "cousin", "parent", "grandmother", "grandfather", "girlfriend", "boyfriend",
        "friend", "neighbor", "neighbour", "bystander", "customer", "driver", "suspect",
        "gunman", "commander", "leader", "chief",
    }
)  # fmt: skip


def names_people(token: Token) -> bool:
    """Whether a noun names people: a people noun, or a nationality or group ("Yemenis")."""
    return token.lemma_.lower() in PEOPLE_NOUNS or token.ent_type_ in ("NORP", "PERSON")
