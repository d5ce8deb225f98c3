"""Fuzz the NLP layer: odd text through every finder and the nlp strategy over HTTP gets
facts or empty lists (or the documented error shape), never a crash or a hang."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from service.candidates.events import find_events
from service.candidates.names import find_names
from service.candidates.quantities import find_quantities
from service.candidates.quotes import find_quotes
from service.extraction.assemble import entity_facts
from tests.conftest import read_article

ALPHABET = (
    "abcdefghij KLMNOP qrstu VWXYZ 0123456789 ,.;:!?-\u2013\u2014 \"'\u201c\u201d\u2018\u2019"
    "()[]$%\n\n\t\x00\x07\x1b\x7f\u00e9\u00fc\u0416\u4e2d\U0001f600 Mr. Dr. said told 1,252 "
    "six,000 3.2 million killed fled"
)
WORDS = ALPHABET.split(" ")


def _fuzzed(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 120)))


CASES = [
    "Die Regierung in Berlin sagte am Montag: \u201eWir verhandeln weiter.\u201c",
    "\u041f\u0440\u0435\u0437\u0438\u0434\u0435\u043d\u0442 \u0441\u043a\u0430\u0437\u0430\u043b",
    "\u201cAn unclosed quote that never ends and runs on and on",
    '"a" "b" "c" "',
    "no sentence punctuation at all just words and 12 numbers and Names Like Ana Lusk",
    ("Officials said 14 people were killed in Hamden. " * 1100).replace(". ", ", "),
    "\x00\x01\x02 \x1f\x7f control characters \u200b\u2028\u2029",
    "",
    " ",
    "1" * 5000,
] + [_fuzzed(random.Random(seed)) for seed in range(120)]


@pytest.mark.parametrize("text", CASES, ids=range(len(CASES)))
def test_finders_never_crash_and_stay_inside_the_text(nlp: Any, text: str) -> None:
    article = read_article(nlp, text, find_names, find_quotes, find_quantities, find_events)
    spans = [(e.start, e.end) for e in article.entities]
    spans += [(q.start, q.end) for q in article.quotes]
    spans += [n.evidence for n in article.numbers] + [(e.start, e.end) for e in article.events]
    for start, end in spans:
        assert 0 <= start <= end <= len(text)
    for fact in entity_facts(article).quotes:
        assert fact.text in text


@pytest.mark.parametrize(
    "text",
    [
        "Ana Lusk said: \u201cWe stay.\u201d " + "word " * 10_000,  # one 50,000-char paragraph
        "\u201c" * 3000 + "Mr. Lusk",
        "Der B\u00fcrgermeister sagte, die Lage sei \u201eernst\u201c.",
        "\x00" * 100 + "Ana Lusk said \u201chello\u201d" + "\x1b" * 100,
    ],
    ids=["50k-paragraph", "marks-only", "german", "control-characters"],
)
def test_nlp_strategy_over_http_answers_200(
    start_service: Callable[..., httpx2.Client], text: str
) -> None:
    client = start_service(strategy="nlp")
    r = client.post("/extract", json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["strategy"] == "nlp"
    for entry in body["grounding"]:
        assert entry["match"] == "exact"
    # The service stays up for the next request.
    assert client.get("/healthz").status_code == 200
