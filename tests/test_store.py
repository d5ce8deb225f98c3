"""The store on real databases (SQLite and PostgreSQL): articles in, incidents regrouped,
the same article twice changing nothing, filters and pages."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.incidents.identity import with_outlet
from service.store.store import Store, StoreError, all_incidents
from tests.incident_articles import article, response

CHICAGO = ("wgn-1", "sun-1", "trib-1")


def _add(store: Store, *ids: str) -> None:
    for article_id in ids:
        store.add(with_outlet(article(article_id)), response(article_id))


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url)


def test_reports_of_one_shooting_are_one_incident_with_every_report(store: Store) -> None:
    _add(store, *CHICAGO, "khou-1")
    found = all_incidents(store)
    assert len(found) == 2
    chicago = next(i for i in found if i.place and i.place.name == "Englewood")
    assert chicago.articles == sorted(CHICAGO)
    killed = chicago.figures["killed"]
    assert (killed.low, killed.best, killed.high) == (2, 3, 3)
    assert sorted(r.outlet for r in killed.reports) == ["suntimes.example", "tribune.example",
                                                        "wgntv.example"]  # fmt: skip
    assert all(r.start is not None and r.evidence for r in killed.reports)
    injured = chicago.figures["injured"]
    # the same day, 4 against 6: a conflict; the next day's 3 is a later count, not one
    assert [(c.measure, c.sources) for c in chicago.conflicts] == [
        ("injured", ["suntimes.example", "wgntv.example"])
    ]
    assert injured.best == 6


def test_a_running_total_is_a_series_not_an_incident(store: Store) -> None:
    _add(store, "total-1", "wgn-1")
    assert all("total-1" not in i.articles for i in all_incidents(store))
    [series] = store.series()
    assert series.measure == "killed" and [p.value for p in series.points] == [380]
    assert series.points[0].since == dt.date(2016, 1, 1)


def test_the_same_article_twice_changes_nothing(store: Store) -> None:
    _add(store, *CHICAGO)
    before = (store.counts(), [i.model_dump() for i in all_incidents(store)])
    again = store.add(with_outlet(article("wgn-1")), response("wgn-1"))
    assert again.stored is False and again.incidents
    same_text = article("wgn-1").model_copy(update={"id": None})
    found = store.find(same_text)  # without an id, the same text is the same article
    assert found is not None and found.id == "wgn-1"
    assert (store.counts(), [i.model_dump() for i in all_incidents(store)]) == before


def test_an_article_joining_later_keeps_the_incidents_id(store: Store) -> None:
    _add(store, "wgn-1")
    [first] = all_incidents(store)
    _add(store, "trib-1")
    [joined] = all_incidents(store)
    assert joined.id == first.id and joined.articles == ["trib-1", "wgn-1"]


def test_a_follow_up_days_later_joins_the_incident_it_follows(store: Store) -> None:
    _add(store, *CHICAGO, "khou-1", "trib-2")  # trib-2: ten days after the shooting
    [chicago] = [i for i in all_incidents(store) if "wgn-1" in i.articles]
    assert chicago.articles == sorted([*CHICAGO, "trib-2"])


@pytest.mark.parametrize(
    ("query", "places"),
    [
        ({}, ["Houston", "Englewood"]),  # newest first
        ({"country": "US"}, ["Houston", "Englewood"]),
        ({"country": "United States"}, ["Houston", "Englewood"]),
        ({"place": "houston"}, ["Houston"]),
        ({"since": dt.date(2016, 7, 28)}, ["Houston"]),
        ({"until": dt.date(2016, 7, 25)}, ["Englewood"]),
        ({"kind": "attack"}, []),
        ({"country": "NP"}, []),
    ],
)  # fmt: skip
def test_incidents_filter_and_come_newest_first(
    store: Store, query: dict[str, object], places: list[str]
) -> None:
    _add(store, *CHICAGO, "khou-1")
    page = store.incidents(**query)  # type: ignore[arg-type]
    assert [i.place.name for i in page.incidents if i.place] == places


def test_pages_follow_the_cursor_to_the_end(store: Store) -> None:
    _add(store, *CHICAGO, "khou-1")
    first = store.incidents(limit=1)
    assert len(first.incidents) == 1 and first.next_cursor
    second = store.incidents(limit=1, cursor=first.next_cursor)
    assert len(second.incidents) == 1 and second.next_cursor is None
    assert first.incidents[0].id != second.incidents[0].id


@pytest.mark.parametrize(("query", "words"), [({"cursor": "nonsense"}, "cursor"),
                                              ({"country": "Atlantis"}, "country")])  # fmt: skip
def test_a_bad_query_says_what_is_wrong(store: Store, query: dict[str, str], words: str) -> None:
    with pytest.raises(StoreError, match=words):
        store.incidents(**query)  # type: ignore[arg-type]


def test_two_replicas_adding_at_once_leave_one_consistent_store(db_url: str) -> None:
    first, second = Store(db_url), Store(db_url)  # two processes' engines on one database
    work = [(first, "wgn-1"), (second, "sun-1"), (first, "khou-1"), (second, "trib-1")]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda job: _add(job[0], job[1]), work))
    found = all_incidents(first)
    assert sorted(len(i.articles) for i in found) == [1, 3]
    assert all_incidents(second) == found
    assert first.counts() == {"articles": 4, "mentions": 4, "incidents": 2, "series_points": 0}
