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
from service.folding import lower_case_words

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
# The head words that say what a body is ("council", "ministry", "army"): alone and
# capitalised, they stand for the body named in full.
GENERIC_HEADS = frozenset(w for _, cues in KIND_WORDS for w in cues if " " not in w and len(w) > 3)


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


# "The United Nations Refugee Agency (UNHCR)", "the Free Aceh Movement, or GAM,"
_DEFINED = re.compile(r"\s*(?:\(|,\s+or\s+)([A-Z][A-Z.&-]*[A-Z]\.?)(?=[),\s])")
_MINOR = frozenset({"of", "for", "and", "the", "on", "in", "to", "&"})


def initials(name: str) -> str:
    """The letters an acronym of the name would be ("United Nations": "UN"; "U.N.": "UN")."""
    if " " not in name:
        return name.replace(".", "").upper() if name.replace(".", "").isupper() else ""
    words = [w for w in re.findall(r"[\w'-]+", name) if w.lower() not in _MINOR]
    return "".join(w[0] for w in words if w[0].isupper())


def _short_form_of(
    short: Entity,
    defined: dict[str, Entity],
    by_initials: dict[str, list[Entity]],
    by_last_word: dict[str, list[Entity]],
    common: set[str] | frozenset[str],
    text: str,
) -> Entity | None:
    """The organisation a shorter name stands for: the one the text defines it for ("…
    (UNHCR)"), else the only longer one it is the acronym of ("UN": United Nations) or,
    for a common word, the last word of ("Council": U.N. Security Council)."""
    if short.name in defined:
        return defined[short.name]
    if " " in short.name:
        return None
    acronym = initials(short.name)
    if len(acronym) >= 2:
        candidates = by_initials.get(acronym, [])
    elif short.name.istitle():
        # "the Council" for the U.N. Security Council, and "State" where spaCy cut "Islamic
        # State" in two; never "Hezbollah" written alone for "Kataib Hezbollah": a proper
        # name's last word is a name of its own
        candidates = [
            o for o in by_last_word.get(short.name, [])
            if short.name.lower() in common or _cut_from(short, o, text)
        ]  # fmt: skip
    else:
        return None
    hits = [o for o in candidates if o is not short and len(o.name) > len(short.name)]
    if len(hits) > 1:  # "UN": United Nations, not the "U.N." that also stands for it
        hits = [o for o in hits if " " in o.name]
    return hits[0] if len(hits) == 1 else None


def _cut_from(short: Entity, body: Entity, text: str) -> bool:
    """Whether every mention of the short name is the end of the body's full name, cut off
    by the parse ("Islamic State": "State")."""
    lead = len(body.name) - len(short.name)
    return all(s >= lead and text[s - lead : e] == body.name for s, e in short.mentions)


_ACRONYM = re.compile(r"\b[A-Z](?:[A-Z.&-]*[A-Z])?\b")


def _defined(text: str, orgs: list[Entity]) -> dict[str, Entity]:
    """The acronyms the text defines, each with the organisation it stands for; one the
    parse tagged nowhere ("The World Meteorological Organization (WMO) warned ... WMO
    experts said") becomes the body's alias, its every use a mention."""
    defined: dict[str, Entity] = {}
    for org in orgs:
        for _, end in org.mentions if " " in org.name else ():
            m = _DEFINED.match(text, end)
            if m and m.group(1) != org.name:
                defined.setdefault(m.group(1).rstrip("."), org)
    names = {o.name for o in orgs}
    untagged = {a: o for a, o in defined.items() if a not in names and a not in o.aliases}
    if untagged:
        uses: dict[str, list[tuple[int, int]]] = {}
        for m in _ACRONYM.finditer(text):  # one pass, however many acronyms
            uses.setdefault(m.group(), []).append(m.span())
        for acronym, owner in untagged.items():
            owner.aliases.append(acronym)
            owner.mentions = sorted({*owner.mentions, *uses.get(acronym, [])})
    return defined


def fold_short_forms(article: Article) -> None:
    """One organisation per body: its acronym and short forms become its aliases."""
    orgs = [e for e in article.entities if e.label == "organizations"]
    defined = _defined(article.text, orgs)
    by_initials: dict[str, list[Entity]] = {}
    by_last_word: dict[str, list[Entity]] = {}
    for org in orgs:
        by_initials.setdefault(initials(org.name), []).append(org)
        if " " in org.name:
            by_last_word.setdefault(org.name.split()[-1], []).append(org)
    # a word that says what a body is, or that the text also writes in lower case
    common = GENERIC_HEADS | lower_case_words(article.text)
    gone: set[int] = set()
    for short in sorted(orgs, key=lambda o: len(o.name)):
        owner = _short_form_of(short, defined, by_initials, by_last_word, common, article.text)
        if owner is None or id(owner) in gone or owner is short:
            continue
        owner.aliases.extend(n for n in (short.name, *short.aliases) if n not in owner.aliases)
        owner.mentions = sorted(owner.mentions + short.mentions)
        gone.add(id(short))
    article.entities[:] = [e for e in article.entities if id(e) not in gone]


def describe_organizations(article: Article) -> None:
    """Finder step: one organisation per body, short forms folded in, and its kind (needs
    find_names)."""
    fold_short_forms(article)
    for entity in article.entities:
        if entity.label == "organizations":
            describe_organization(entity)
