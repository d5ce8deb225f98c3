"""Organisations' kind from the words of their names (none of them the seeds')."""

from __future__ import annotations

import pytest

from service.candidates.organizations import organization_kind


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
