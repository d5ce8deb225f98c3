"""Organisations: what kind of body each named organisation is, from its name's words.

A name says what it is in its words ("Ministry of Health", "Sudanese Armed Forces",
"Doctors Without Borders", "Associated Press"): general English head words per kind,
the international bodies by the words they are named with ("United Nations", "World …",
"International …"), the wire agencies and broadcasters by name. A name whose words say
nothing keeps no kind (a field left empty is better than a wrong one).
"""

from __future__ import annotations

import re

from service.candidates.article import Article, Entity
from service.candidates.places import country_of

# Checked in this order: "news agency" is media, "Amnesty International" an NGO,
# "UN refugee agency" international before government; "Ministry of Defence" government
# comes after military's words, but "defence" is none of them.
KIND_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "media",
        frozenset(
            {
                "news",
                "newspaper",
                "times",
                "post",
                "press",
                "television",
                "tv",
                "radio",
                "broadcasting",
                "broadcaster",
                "journal",
                "herald",
                "gazette",
                "tribune",
                "daily",
                "examiner",
                "telegraph",
                "guardian",
                "observer",
                "channel",
                "network",
                "media",
                "reuters",
                "afp",
                "ap",
                "bbc",
                "cnn",
                "voa",
                "xinhua",
                "tass",
                "interfax",
                "ria",
                "jazeera",
                "bloomberg",
                "politico",
                "axios",
            }
        ),
    ),
    # NGOs whose names also say "international" ("Amnesty International")
    (
        "ngo",
        frozenset(
            {
                "amnesty",
                "watch",
                "doctors",
                "médecins",
                "medecins",
                "msf",
                "oxfam",
                "save the children",
                "rescue committee",
                "red cross",
                "red crescent",
            }
        ),
    ),
    (
        "international_org",
        frozenset(
            {
                "un",
                "united nations",
                "unhcr",
                "unicef",
                "who",
                "ocha",
                "unrwa",
                "wfp",
                "nato",
                "european union",
                "eu",
                "african union",
                "osce",
                "interpol",
                "iaea",
                "icrc",
                "imf",
                "world bank",
                "world food programme",
                "world health organization",
                "international",
                "intergovernmental",
                "security council",
            }
        ),
    ),
    (
        "ngo",
        frozenset(
            {
                "foundation",
                "charity",
                "relief",
                "society",
                "ngo",
                "volunteers",
                "aid",
                "observatory",
                "institute",
                "trust",
            }
        ),
    ),
    (
        "military",
        frozenset(
            {
                "army",
                "armed forces",
                "military",
                "navy",
                "air force",
                "forces",
                "guard",
                "brigade",
                "battalion",
                "regiment",
                "command",
                "marines",
                "pentagon",
                "troops",
            }
        ),
    ),
    (
        "government",
        frozenset(
            {
                "ministry",
                "ministries",
                "department",
                "government",
                "parliament",
                "police",
                "agency",
                "office",
                "cabinet",
                "authority",
                "authorities",
                "commission",
                "council",
                "kremlin",
                "white house",
                "senate",
                "congress",
                "court",
                "embassy",
                "presidency",
                "administration",
                "state department",
                "assembly",
                "interior",
            }
        ),
    ),
    (
        "company",
        frozenset(
            {
                "inc",
                "corp",
                "corporation",
                "ltd",
                "company",
                "co",
                "plc",
                "airlines",
                "airways",
                "bank",
                "group",
                "holdings",
                "energy",
                "oil",
                "motors",
                "technologies",
            }
        ),
    ),
)
_WORD = re.compile(r"[\w.]+")


def organization_kind(name: str) -> str | None:
    """The kind a name's own words give, or None when they give none."""
    lowered = " ".join(_WORD.findall(name.lower())).replace(".", "")  # "U.N." is "un"
    words = set(lowered.split())
    for kind, cues in KIND_WORDS:
        if any((cue in words) if " " not in cue else (cue in lowered) for cue in cues):
            return kind
    if country_of(name) is not None and len(name.split()) == 1:
        return "government"  # "Russia said": a country named as an actor is its government
    return None


def describe_organization(entity: Entity) -> None:
    """Set one organisation's kind from its name and the other spellings it goes by."""
    for name in (entity.name, *entity.aliases):
        kind = organization_kind(name)
        if kind is not None:
            entity.kind = kind
            return


def describe_organizations(article: Article) -> None:
    """Finder step: every organisation's kind (needs find_names)."""
    for entity in article.entities:
        if entity.label == "organizations":
            describe_organization(entity)
