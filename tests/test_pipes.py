"""The finders as spaCy components: their order checked by `analyze_pipes`, their lists on
the doc's extensions and as span groups, the fillers' values on the spans."""

from __future__ import annotations

from typing import Any

import pytest
import spacy

from service.candidates.nlp import check_steps, parse
from service.candidates.pipes import FINDERS
from service.errors import ConfigError
from service.extraction.limits import Allowance
from service.extraction.strategies import HYBRID_STEPS, NLP_STEPS, STRATEGIES

TEXT = (
    "The UN human rights office said on Tuesday that 780 civilians had "
    'been killed in Kharkiv since 24 February. "We are counting every one," said Matilda '
    "Bogner, who heads the mission. Russian missiles struck a school in Odesa overnight."
)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_each_strategy_runs_its_finders_in_an_order_spacy_accepts(nlp: Any, strategy: str) -> None:
    check_steps(nlp, STRATEGIES[strategy].steps)


@pytest.mark.parametrize(
    ("steps", "complaint"),
    [
        (("newsfacts_quotes",), "'newsfacts_quotes': ['doc._.entities']"),
        (("newsfacts_names", "newsfacts_attribution"), "'doc._.quotes', 'doc._.numbers'"),
        (("newsfacts_quotes", "newsfacts_names"), "in order"),
        (("newsfacts_nouns",), "must be among"),
    ],
)
def test_a_finder_without_what_it_needs_is_refused(
    nlp: Any, steps: tuple[str, ...], complaint: str
) -> None:
    with pytest.raises(ConfigError) as error:
        check_steps(nlp, steps)
    assert complaint in error.value.message


def test_finders_over_a_pipeline_with_no_parse_are_refused_by_what_they_lack() -> None:
    blank = spacy.blank("en")
    for finder in FINDERS:
        blank.add_pipe(finder)
    with pytest.raises(ConfigError) as error:
        check_steps(blank, HYBRID_STEPS)
    assert "'newsfacts_names': [" in error.value.message
    assert "'doc.ents'" in error.value.message and "'token.dep'" in error.value.message


@pytest.mark.parametrize("name", ["entities", "quotes", "numbers", "targets"])
def test_each_list_is_a_span_group_whose_spans_carry_their_candidates(nlp: Any, name: str) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    found = getattr(article.doc._, name)
    group = article.doc.spans[name]
    assert found and [span._.candidate for span in group] == found
    for span, candidate in zip(group, found, strict=True):
        assert span.start_char <= candidate.start < span.end_char


@pytest.mark.parametrize(
    ("name", "text", "field", "value"),
    [
        ("entities", "Kharkiv", "country", "Ukraine"),
        ("entities", "UN", "kind", "international_org"),
        ("quotes", "We are counting every one,", "speaker", "Matilda Bogner"),
        ("numbers", "780", "reported_by", "UN human rights office"),
        ("numbers", "780", "location", "Kharkiv"),
        ("numbers", "780", "period", "since 24 February"),
    ],
)
def test_the_fillers_values_are_read_on_the_spans(
    nlp: Any, name: str, text: str, field: str, value: str
) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    [span] = [s for s in article.doc.spans[name] if s.text == text]
    assert getattr(span._, field) == value


def test_spans_that_are_not_candidates_read_none(nlp: Any) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    kharkiv = next(e for e in article.doc.ents if e.text == "Kharkiv")
    assert kharkiv._.candidate is None and kharkiv._.country is None
    assert article.doc[0:2]._.kind is None


def test_a_strategy_runs_only_its_own_finders(nlp: Any) -> None:
    article = parse(TEXT, nlp, NLP_STEPS)
    assert article.entities and article.quotes
    assert article.numbers == [] and article.targets == []
    assert set(article.doc.spans) == {"entities", "quotes"}


def test_parse_alone_finds_nothing_and_keeps_the_text_as_sent(nlp: Any) -> None:
    text = "Kyiv\u2069. 780 civilians were killed."
    article = parse(text, nlp)
    assert article.text == text and article.doc.text == text.replace("\u2069", " ")
    assert article.entities == [] and not article.doc.spans


def test_the_candidate_cap_cuts_the_list_and_its_spans(nlp: Any) -> None:
    article = parse(TEXT, nlp, HYBRID_STEPS)
    first = article.entities[:2]
    allowance = Allowance(max_candidates=2, max_calls=1, max_tokens=1)
    allowance.cap_candidates(article)
    assert article.entities == first
    assert [s._.candidate for s in article.doc.spans["entities"]] == first
    assert any(cut.startswith("entities:") for cut in allowance.cut)
