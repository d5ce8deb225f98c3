"""`newsfacts incidents add` and `show` as a user runs them: a killed run resumes with no
article lost and none doubled; the same folder again changes nothing; the HTML view."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

from evals.bench.fake_llm import FakeLLM, tool_call
from tests.conftest import child_env, wait_for
from tests.incident_articles import ARTICLES, facts
from tests.test_cli import NEWSFACTS
from tests.test_incidents_api import body

COPIES = 8


def _folder(root: Path) -> Path:
    """Copies of one report (one incident), each with its own last line."""
    folder = root / "in"
    folder.mkdir()
    for i in range(COPIES):
        text = f"{ARTICLES['wgn-1']['text']}\n\n(Update {i}.)"
        (folder / f"r{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def _cmd(fake: FakeLLM, db: str, *args: str) -> tuple[list[str], dict[str, str]]:
    env = child_env(NEWSFACTS_LLM_BASE_URL=fake.url, NEWSFACTS_STRATEGY="llm",  # type: ignore[attr-defined]
                    NEWSFACTS_LLM_RETRY_BACKOFF_S="0", NEWSFACTS_DB_URL=db)  # fmt: skip
    return [NEWSFACTS, "incidents", *args], env


def _rows(db_file: Path, table: str) -> list[str]:
    with sqlite3.connect(db_file) as connection:
        key = "id" if table != "series_points" else "article_id"
        return [r[0] for r in connection.execute(f"SELECT {key} FROM {table}")]


def test_a_killed_add_resumes_without_loss_or_double(fake_llm: FakeLLM, tmp_path: Path) -> None:
    folder, db_file = _folder(tmp_path), tmp_path / "store.db"
    db = f"sqlite:///{db_file}"
    fake_llm.default = tool_call(facts("wgn-1"), delay_s=0.4)
    args, env = _cmd(fake_llm, db, "add", str(folder))
    run = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: db_file.is_file() and len(_rows(db_file, "articles")) >= 3, 120, "3 stored")
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    before = len(_rows(db_file, "articles"))
    assert 3 <= before < COPIES
    fake_llm.default = tool_call(facts("wgn-1"))
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"added {COPIES - before}, skipped {before} already stored" in again.stdout
    articles = _rows(db_file, "articles")
    assert sorted(articles) == [f"r{i:02d}" for i in range(COPIES)]  # none lost, none twice
    assert len(_rows(db_file, "mentions")) == COPIES and len(_rows(db_file, "incidents")) == 1
    calls = len(fake_llm.requests)
    third = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and f"added 0, skipped {COPIES}" in third.stdout
    assert len(fake_llm.requests) == calls  # nothing extracted again, no model started


def test_show_lists_incidents_and_writes_the_page(fake_llm: FakeLLM, tmp_path: Path) -> None:
    lines = [json.dumps(a) for a in body("wgn-1", "khou-1")["articles"]]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fake_llm.script.extend([tool_call(facts("wgn-1")), tool_call(facts("khou-1"))])
    db = f"sqlite:///{tmp_path / 'store.db'}"
    args, env = _cmd(fake_llm, db, "add", str(source))
    assert subprocess.run(args, env=env, capture_output=True, timeout=300).returncode == 0
    args, env = _cmd(fake_llm, db, "show")
    shown = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and "Houston" in shown.stdout and "Englewood" in shown.stdout
    page = tmp_path / "view.html"
    args, env = _cmd(fake_llm, db, "show", "--html", str(page))
    assert subprocess.run(args, env=env, capture_output=True, timeout=300).returncode == 0
    assert page.read_text(encoding="utf-8").count('<section class="incident') == 2


def test_a_store_that_cannot_be_opened_says_so(fake_llm: FakeLLM, tmp_path: Path) -> None:
    args, env = _cmd(fake_llm, "postgresql+psycopg://nobody@127.0.0.1:1/none", "show")
    shown = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 2 and "cannot open the store" in shown.stderr
