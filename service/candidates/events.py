"""Event sentences: sentences that report an attack or talks, found by news vocabulary.

The words are general news usage (lemmas of nouns and verbs), not any article's names;
the LLM reads each sentence found and says what, if anything, it reports.
"""

from __future__ import annotations

from service.candidates.article import Article, EventCandidate, EventKind

TRIGGERS: dict[EventKind, frozenset[str]] = {
    "attack": frozenset(
        [
            "attack",
            "strike",
            "hit",
            "shell",
            "shelling",
            "bomb",
            "bombing",
            "bombard",
            "bombardment",
            "airstrike",
            "missile",
            "rocket",
            "drone",
            "artillery",
            "destroy",
            "damage",
            "raid",
            "assault",
            "explosion",
            "explode",
            "blast",
            "fire",
            "target",
            "pound",
            "storm",
            "ambush",
            "mortar",
            "grenade",
            "torch",
            "burn",
            "demolish",
            "flatten",
            "level",
            "shoot",
            "gunfire",
        ]
    ),
    "talks": frozenset(
        [
            "talk",
            "negotiation",
            "negotiate",
            "negotiator",
            "meeting",
            "meet",
            "summit",
            "ceasefire",
            "truce",
            "delegation",
            "mediate",
            "mediator",
            "dialogue",
            "accord",
        ]
    ),
}
TRIGGER_POS = frozenset({"NOUN", "VERB"})


def find_events(article: Article) -> None:
    """Add an EventCandidate per sentence and kind whose words signal an attack or talks."""
    for sentence in article.doc.sents:
        for kind, lemmas in TRIGGERS.items():
            if any(t.pos_ in TRIGGER_POS and t.lemma_.lower() in lemmas for t in sentence):
                article.events.append(EventCandidate(kind, sentence.start_char, sentence.end_char))
