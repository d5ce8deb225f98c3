"""Short articles of our own (written for these tests) about two shootings and a running
total, with the facts a model would give for each, for the store's and the API's tests."""

from __future__ import annotations

from typing import Any

from schemas.api import ExtractResponse, Grounding, Meta, Usage
from schemas.facts import NewsFacts
from schemas.incidents import ArticleIn

ARTICLES: dict[str, dict[str, Any]] = {
    "wgn-1": {
        "published": "2016-07-24", "url": "https://wgntv.example/news/1",
        "text": "CHICAGO - Two people were killed and four others were wounded early Sunday "
                "when gunfire erupted at a block party in Englewood, Chicago police said.",
        "casualties": [("Two people were killed", 2, "killed", "Englewood", "Chicago police"),
                       ("four others were wounded", 4, "injured", "Englewood", "Chicago police")],
    },
    "trib-1": {
        "published": "2016-07-25", "url": "https://www.tribune.example/shooting",
        "text": "A third victim of Sunday's block party shooting in Englewood has died, "
                "bringing the toll to three killed and six wounded, police said Monday.",
        "casualties": [("three killed", 3, "killed", "Englewood", "police"),
                       ("six wounded", 6, "injured", "Englewood", "police")],
    },
    "sun-1": {
        "published": "2016-07-24", "url": "https://suntimes.example/a",
        "text": "Two men were shot dead and six people were hurt at an Englewood block party "
                "early Sunday, witnesses told reporters at the scene in Chicago.",
        "casualties": [("Two men were shot dead", 2, "killed", "Englewood", "witnesses"),
                       ("six people were hurt", 6, "injured", "Englewood", "witnesses")],
    },
    "trib-2": {
        "published": "2016-08-03", "url": "https://www.tribune.example/charged",
        "text": "Police in Chicago charged a man over the block party shooting in Englewood "
                "that left three people killed and six wounded, police said.",
        "casualties": [("three people killed", 3, "killed", "Englewood", "police")],
    },
    "khou-1": {
        "published": "2016-07-30", "url": "https://khou.example/b",
        "text": "HOUSTON - Police say one man was killed and three were wounded Saturday night "
                "in a shooting outside a nightclub in Houston, Texas.",
        "casualties": [("one man was killed", 1, "killed", "Houston, Texas", "Police"),
                       ("three were wounded", 3, "injured", "Houston, Texas", "Police")],
    },
    "total-1": {
        "published": "2016-07-31", "url": "https://wgntv.example/news/2",
        "text": "More than 380 people have been killed in Chicago so far this year, according "
                "to police figures.",
        "casualties": [("380 people have been killed in Chicago so far this year", 380, "killed",
                        "Chicago", "police figures", "so far this year")],
    },
    "htot-1": {
        "published": "2016-06-30", "url": "https://khou.example/c",
        "text": "At least 160 people have been killed in Houston so far this year, police said.",
        "casualties": [("160 people have been killed in Houston so far this year", 160,
                        "killed", "Houston, Texas", "police", "so far this year")],
    },
    "htot-2": {
        "published": "2016-07-31", "url": "https://khou.example/d",
        "text": "Police say 190 people have been killed in Houston so far this year.",
        "casualties": [("190 people have been killed in Houston so far this year", 190,
                        "killed", "Houston, Texas", "Police", "so far this year")],
    },
}  # fmt: skip


def article(article_id: str) -> ArticleIn:
    """The article as `POST /articles` takes it."""
    a = ARTICLES[article_id]
    return ArticleIn(id=article_id, text=a["text"], url=a["url"], published=a["published"])


def facts(article_id: str) -> dict[str, Any]:
    """The facts a model would give for the article (the llm strategy's tool arguments)."""
    rows = []
    for evidence, count, outcome, location, by, *period in ARTICLES[article_id]["casualties"]:
        rows.append({"evidence": evidence, "count": count, "outcome": outcome,
                     "location": location, "reported_by": by,
                     "period": period[0] if period else None})  # fmt: skip
    return {"casualties": rows}


def response(article_id: str) -> ExtractResponse:
    """The extraction the service would answer for the article."""
    text = ARTICLES[article_id]["text"]
    found = NewsFacts.model_validate(facts(article_id))
    grounding = []
    for i, fact in enumerate(found.casualties):
        start = text.index(fact.evidence)
        grounding.append(Grounding(path=f"casualties[{i}]", start=start,
                                   end=start + len(fact.evidence), match="exact"))  # fmt: skip
    meta = Meta(model="fake", prompt=None, prompt_sha256=None, schema_version="1",
                usage=Usage(), attempts=1, latency_ms=0.0)  # fmt: skip
    return ExtractResponse(article_id=article_id, facts=found, grounding=grounding, meta=meta)
