"""The run index: every saved run, newest first, with its dataset and policy named."""

from __future__ import annotations

from pathlib import Path

from evals.history import history, write_index
from evals.report import RUNS_DIR
from tests.conftest import child_env
from tests.test_cli import NEWSFACTS
from tests.test_run_report import make_report


def _report(path: Path, created: str, **fields: object) -> None:
    report = make_report(created=created, strategy="hybrid", ungrounded="drop", **fields)
    path.write_text(report.model_dump_json(), encoding="utf-8")


def test_history_lists_every_run_newest_first(tmp_path: Path) -> None:
    _report(tmp_path / "a.json", "2026-01-01T00:00:00+00:00")
    _report(tmp_path / "b.json", "2026-03-01T00:00:00+00:00", dataset="quakes", variant="004",
            passes="lists", prompt="p@v2")  # fmt: skip
    _report(tmp_path / "c.json", "2026-02-01T00:00:00+00:00", variant="joined")
    (tmp_path / "notes.json").write_text("[1, 2]", encoding="utf-8")
    rows, skipped = history(tmp_path)
    assert [(r.prompt, r.dataset, r.policy) for r in rows] == [
        ("p@v2", "quakes (004)", "drop+lists"),
        ("p@v1", "seeds (joined)", "drop"),
        ("p@v1", "seeds", "drop"),
    ]
    assert (rows[0].tokens, rows[0].llm_s) == (120, 2.5)
    assert skipped == ["notes.json"]


def test_the_committed_runs_are_all_listed() -> None:
    import subprocess

    r = subprocess.run([NEWSFACTS, "eval", "history"], capture_output=True, text=True,
                       env=child_env(), timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "hybrid_labels@v3" in r.stdout and "skipped" not in r.stderr
    rows, skipped = history()
    assert rows and not skipped


def test_the_index_page_links_each_run_to_its_report(tmp_path: Path) -> None:
    _report(tmp_path / "a.json", "2026-01-01T00:00:00+00:00", prompt="p@<v1>")
    (tmp_path / "a.html").write_text("<html></html>", encoding="utf-8")
    _report(tmp_path / "b.json", "2026-03-01T00:00:00+00:00", prompt="p@v2")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert page.index("p@v2") < page.index("p@&lt;v1&gt;")  # newest first, escaped
    assert '<a href="a.html">' in page and '<a href="b.json">' in page  # b has no page yet


def test_the_committed_index_lists_every_committed_run() -> None:
    page = (RUNS_DIR / "index.html").read_text(encoding="utf-8")
    rows, _ = history()
    assert page.count("<tr><td>") == len(rows)
    assert all(f'href="{r.path.name}"' in page for r in rows)  # pages are built on demand
