"""Organisations' kind from the words of their names (none of them the seeds')."""

from __future__ import annotations

from typing import Any

import pytest

from service.candidates.names import find_names
from service.candidates.organizations import describe_organizations, initials, organization_kind
from tests.conftest import read_article


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Ministry of Health", "government"),
        ("National Emergency Management Agency", "government"),
        ("Sudanese Armed Forces", "military"),
        ("UN refugee agency", "international_org"),
        ("World Food Programme", "international_org"),
        ("Amnesty International", "ngo"),
        ("Doctors Without Borders", "ngo"),
        ("Kenya Red Cross Society", "ngo"),
        ("Reuters", "media"),
        ("Xinhua news agency", "media"),
        ("Chevron Corp", "company"),
        ("Wagner", None),
    ],
)
def test_kind_from_name(name: str, kind: str | None) -> None:
    assert organization_kind(name) == kind


def test_a_proper_name_alone_is_not_the_last_word_of_another_body(nlp: Any) -> None:
    text = (
        "The Kataib Hezbollah militia said on Monday that it fired rockets. Hezbollah said "
        "in a statement that it played no part."
    )
    article = read_article(nlp, text, find_names, describe_organizations)
    orgs = {e.name for e in article.entities if e.label == "organizations"}
    assert "Hezbollah" in orgs and any(o.startswith("Kataib Hezbollah") for o in orgs)


@pytest.mark.parametrize(
    ("text", "body", "short"),
    [
        # an acronym the text defines, in brackets or with "or"
        ("The World Meteorological Organization (WMO) warned of floods. WMO experts said "
         "rain would continue.", "World Meteorological Organization", "WMO"),
        ("The Movement for Democratic Change, or MDC, boycotted the vote. The MDC said "
         "it would appeal.", "Movement for Democratic Change", "MDC"),
        # an acronym of the full name the text gives elsewhere
        ("The European Union pledged aid on Monday. EU officials said more would follow.",
         "European Union", "EU"),
        # the last word of the full name, standing for it
        ("The African Union Commission met in Addis Ababa. The Commission said the "
         "talks would resume.", "African Union Commission", "Commission"),
    ],
)  # fmt: skip
def test_short_forms_fold_into_the_organisation(nlp: Any, text: str, body: str, short: str) -> None:
    article = read_article(nlp, text, find_names, describe_organizations)
    orgs = {e.name: e for e in article.entities if e.label == "organizations"}
    assert short not in orgs
    assert short in orgs[body].aliases


@pytest.mark.parametrize(
    ("name", "letters"),
    [("United Nations", "UN"), ("U.N.", "UN"), ("Office for the Coordination of "
      "Humanitarian Affairs", "OCHA"), ("Hamas", "")],
)  # fmt: skip
def test_initials(name: str, letters: str) -> None:
    assert initials(name) == letters
