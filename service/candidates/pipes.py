"""The finders and fillers as spaCy components, in the order the hybrid runs them.

Each is registered with `Language.factory` and declares what it needs from the parse or
from earlier components and what it assigns; `load_pipeline` adds them after spaCy's own
components, and a strategy names the ones it runs (`FINDERS` order), which
`nlp.analyze_pipes` checks. A finder fills one list on the doc (`doc._.numbers`) and writes
it as a span group (`doc.spans["numbers"]`); a filler completes candidates already found,
readable on their spans (`span._.country`, `span._.reported_by`).
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from service.candidates.article import Article, Step
from service.candidates.attribution import attribute
from service.candidates.counts import find_counts
from service.candidates.events import find_events
from service.candidates.names import find_names
from service.candidates.organizations import describe_organizations
from service.candidates.places import describe_places
from service.candidates.quantities import find_quantities
from service.candidates.quotes import find_quotes
from service.candidates.targets import find_targets

Component = Callable[[Doc], Doc]
_PARSE = ["token.dep", "token.head", "token.lemma", "doc.sents"]
_NER = ["doc.ents", "token.ent_iob", "token.ent_type"]


def _component(step: Step, fills: tuple[str, ...] = ()) -> Component:
    """A component running one finder step over the doc's article, then writing the lists
    it fills as span groups."""

    def run(doc: Doc) -> Doc:
        article = Article(doc)
        step(article)
        for name in fills:
            article.mark_spans(name)
        return doc

    return run


@Language.factory(
    "newsfacts_names", requires=[*_PARSE, *_NER], assigns=["doc._.entities", "doc.spans"]
)
def make_names(nlp: Language, name: str) -> Component:
    """People, organisations and places, mentions merged under the fullest name."""
    return _component(find_names, ("entities",))


@Language.factory(
    "newsfacts_places",
    requires=["doc._.entities", *_PARSE, *_NER],
    assigns=["span._.kind", "span._.country"],
)
def make_places(nlp: Language, name: str) -> Component:
    """Each place's kind and country, from the gazetteer and the words around it."""
    return _component(describe_places)


@Language.factory(
    "newsfacts_organizations",
    requires=["doc._.entities"],
    assigns=["doc._.entities", "doc.spans", "span._.kind"],
)
def make_organizations(nlp: Language, name: str) -> Component:
    """One organisation per body (its acronym and short forms folded in), and its kind."""
    return _component(describe_organizations, ("entities",))


@Language.factory(
    "newsfacts_quotes",
    requires=["doc._.entities", *_PARSE],
    assigns=["doc._.quotes", "doc.spans", "span._.speaker"],
)
def make_quotes(nlp: Language, name: str) -> Component:
    """Quotations, and the speaker the text names for each."""
    return _component(find_quotes, ("quotes",))


@Language.factory(
    "newsfacts_quantities", requires=[*_PARSE, *_NER], assigns=["doc._.numbers", "doc.spans"]
)
def make_quantities(nlp: Language, name: str) -> Component:
    """Stated quantities: value, range and what they count."""
    return _component(find_quantities, ("numbers",))


@Language.factory(
    "newsfacts_counts", requires=["doc._.numbers", *_PARSE], assigns=["doc._.numbers", "doc.spans"]
)
def make_counts(nlp: Language, name: str) -> Component:
    """Counts a reader makes without a numeral: "a man was killed", "a double homicide"."""
    return _component(find_counts, ("numbers",))


@Language.factory(
    "newsfacts_targets",
    requires=[*_PARSE, "token.tag", "token.ent_type"],
    assigns=["doc._.targets", "doc.spans"],
)
def make_targets(nlp: Language, name: str) -> Component:
    """What attack words say was hit, its attacker and who denied it."""
    return _component(find_targets, ("targets",))


@Language.factory("newsfacts_events", requires=_PARSE, assigns=["doc._.events", "doc.spans"])
def make_events(nlp: Language, name: str) -> Component:
    """Sentences that may report talks: round, format and venue as written."""
    return _component(find_events, ("events",))


@Language.factory(
    "newsfacts_attribution",
    requires=["doc._.entities", "doc._.quotes", "doc._.numbers", "doc._.targets", *_PARSE],
    assigns=[f"span._.{f}" for f in ("reported_by", "location", "period", "side", "when")],
)
def make_attribution(nlp: Language, name: str) -> Component:
    """Each number's source, place, time and side; each target's time."""
    return _component(attribute)


FINDERS = (
    "newsfacts_names",
    "newsfacts_places",
    "newsfacts_organizations",
    "newsfacts_quotes",
    "newsfacts_quantities",
    "newsfacts_counts",
    "newsfacts_targets",
    "newsfacts_events",
    "newsfacts_attribution",
)
"""Every finder and filler, in the order they run."""
