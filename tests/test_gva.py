"""The Gun Violence Archive check: reading incidents, drawing reports, scoring the facts.

Written against a small archive made here in the archive's own layout (the real one is read
from ../shared/gva by `newsfacts eval gva`, and none of its texts enter the project)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.gva import (
    GvaError,
    Incident,
    failed_row,
    load_incidents,
    pick_reports,
    score_report,
    summary,
)
from schemas.facts import Casualties, NewsFacts


def _archive(root: Path, count: int) -> Path:
    (root / "articles").mkdir(parents=True)
    lines = []
    for i in range(count):
        docs = [{"doc": f"{i}_a", "dct": "2015-01-02"}, {"doc": f"{i}_b", "dct": "2015-01-03"}]
        lines.append(json.dumps({"id": str(1000 + i), "date": "January 1, 2015", "state": "Ohio",
                                 "city": "Dayton", "num_killed": 1, "num_injured": 3,
                                 "docs": docs}))  # fmt: skip
        if i % 3:  # a third of the incidents lack their first report
            (root / "articles" / f"{i}_a.txt").write_text("Title\n\nText.", encoding="utf-8")
        (root / "articles" / f"{i}_b.txt").write_text("Title\n\nText.", encoding="utf-8")
    (root / "incidents.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_one_report_per_incident_drawn_the_same_each_time(tmp_path: Path) -> None:
    root = _archive(tmp_path, 30)
    incidents = load_incidents(root)
    first = pick_reports(incidents, root, limit=10, seed=0)
    assert [p.name for _, p in first] == [p.name for _, p in pick_reports(incidents, root, 10, 0)]
    assert len({i.id for i, _ in first}) == 10
    # the first report whose text is here
    assert all(p.stem == (f"{int(i.id) - 1000}_a" if (int(i.id) - 1000) % 3 else
                          f"{int(i.id) - 1000}_b") for i, p in first)  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no "), ('{"id": "1"}\n', "incidents.jsonl:1: not an incident")],
)
def test_an_archive_that_cannot_be_read_says_where(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "incidents.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(GvaError, match=message):
        load_incidents(tmp_path)


def _incident(killed: int, injured: int) -> Incident:
    return Incident(id="1", date="May 1, 2015", state="Ohio", city="Dayton",
                    num_killed=killed, num_injured=injured, docs=[])  # fmt: skip


def _facts(*counts: tuple[int, str]) -> NewsFacts:
    return NewsFacts(casualties=[Casualties(evidence="x", count=c, outcome=o)  # type: ignore[arg-type]
                                 for c, o in counts])  # fmt: skip


@pytest.mark.parametrize(
    ("killed", "injured", "facts", "expected"),
    [
        (1, 3, [(1, "killed"), (3, "injured")], (True, True, False)),
        # "four were shot": the number shot answers for the injured
        (1, 3, [(4, "killed_or_injured")], (False, True, False)),
        (2, 2, [(3, "killed"), (2, "injured")], (False, True, True)),
        # nobody killed: the killed question is not asked, an over-count still is
        (0, 4, [(1, "killed"), (4, "injured")], (None, True, True)),
        (2, 0, [(2, "killed")], (True, None, False)),
        (1, 3, [], (False, False, False)),
    ],
)
def test_three_questions_per_report(
    killed: int, injured: int, facts: list[tuple[int, str]], expected: tuple[bool | None, ...]
) -> None:
    row = score_report(_incident(killed, injured), "doc", _facts(*facts))
    assert (row.killed_hit, row.injured_hit, row.over_count) == expected


def test_rates_count_failures_as_misses() -> None:
    rows = [score_report(_incident(1, 3), "a", _facts((1, "killed"), (3, "injured"))),
            failed_row(_incident(1, 3), "b", "llm_timeout: the model did not answer")]  # fmt: skip
    result = summary(rows)
    assert result["failed"] == 1
    assert result["killed"] == {"hits": 1, "asked": 2, "rate": 0.5}
    assert result["over_count"] == {"hits": 0, "asked": 2, "rate": 0.0}


@pytest.mark.parametrize(
    ("location", "located"),
    [("Dayton", True), ("west Dayton, Ohio", True), ("Ohio", False), (None, False)],
)
def test_a_figure_is_located_in_the_incidents_city(location: str | None, located: bool) -> None:
    facts = NewsFacts(casualties=[Casualties(evidence="x", count=1, outcome="killed",
                                             location=location)])  # fmt: skip
    assert score_report(_incident(1, 3), "doc", facts).located is located


def test_located_is_not_asked_without_a_matching_figure() -> None:
    assert score_report(_incident(1, 3), "doc", _facts((7, "killed"))).located is None
