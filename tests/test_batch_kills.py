"""`newsfacts batch` killed with SIGKILL at several points, locally and through the Batch
API, then run again: no article lost, none written twice, every line parses; and the
inputs and outputs a run must refuse or survive (repeated ids, a second run on one output,
an output that is not a batch's own, a file that is not UTF-8 or cannot be read, a line a
kill cut short)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evals.bench.fake_llm import FakeLLM, http_error, tool_call
from service.bulk.batch_api import side_files
from service.files import claimed
from tests.conftest import FACTS_004, SEED_004, child_env, wait_for
from tests.test_cli import NEWSFACTS

ARTICLES = 12


def _folder(root: Path, n: int = ARTICLES) -> Path:
    folder = root / "in"
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:03d}.txt").write_text(f"{SEED_004}\n\n(Copy {i}.)", encoding="utf-8")
    return folder


def _env(fake: FakeLLM, **extra: str) -> dict[str, str]:
    return child_env(NEWSFACTS_LLM_BASE_URL=fake.url, NEWSFACTS_STRATEGY="llm",  # type: ignore[attr-defined]
                     NEWSFACTS_BATCH_POLL_S="0.1", NEWSFACTS_LLM_RETRY_BACKOFF_S="0",
                     **extra)  # fmt: skip


def _start(fake: FakeLLM, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([NEWSFACTS, "batch", *args], env=_env(fake),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _run(fake: FakeLLM, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSFACTS, "batch", *args], capture_output=True, text=True,
                          env=_env(fake), timeout=300)  # fmt: skip


def _lines(out: Path) -> list[dict[str, Any]]:
    """Every line of the output, parsed (a line that does not parse fails the test)."""
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _assert_each_once_and_ok(out: Path, n: int = ARTICLES) -> None:
    rows = _lines(out)
    ids = [row["id"] for row in rows]
    assert sorted(ids) == [f"a{i:03d}" for i in range(n)], ids  # none lost, none twice
    assert all(row["ok"] for row in rows)


def _rows_written(out: Path) -> int:
    return len(out.read_text(encoding="utf-8").splitlines()) if out.is_file() else 0


# When to kill a local run: once its first call is in flight (no row yet), with some rows
# written and calls in flight, and with one article left.
LOCAL_POINTS: dict[str, Callable[[FakeLLM, Path], bool]] = {
    "first call in flight": lambda fake, out: len(fake.requests) >= 1,
    "a third written": lambda fake, out: _rows_written(out) >= ARTICLES // 3,
    "one article left": lambda fake, out: _rows_written(out) >= ARTICLES - 1,
}


@pytest.mark.parametrize("point", list(LOCAL_POINTS))
def test_a_local_run_killed_anywhere_resumes_without_loss_or_repeat(
    fake_llm: FakeLLM, tmp_path: Path, point: str
) -> None:
    fake_llm.default = tool_call(FACTS_004, delay_s=0.3)
    folder, out = _folder(tmp_path), tmp_path / "out.jsonl"
    run = _start(fake_llm, str(folder), "--out", str(out), "--concurrency", "3")
    wait_for(lambda: LOCAL_POINTS[point](fake_llm, out), 120, point)
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    before = _rows_written(out)
    fake_llm.default = tool_call(FACTS_004)
    again = _run(fake_llm, str(folder), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert f"done {ARTICLES - before}," in again.stdout
    _assert_each_once_and_ok(out)


# Where to kill a Batch-API run: the fake holds the request that reaches the stage until
# the run is dead. "create": the batch exists but the run never learnt its id.
API_POINTS = ("upload", "create", "poll-in_progress", "download")


@pytest.mark.parametrize("stage", API_POINTS)
def test_a_batch_api_run_killed_anywhere_resumes_and_pays_for_one_batch(
    fake_llm: FakeLLM, tmp_path: Path, stage: str
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    fake_llm.batches.delay_s = 0.5
    fake_llm.batches.hang_at = {stage}
    folder, out = _folder(tmp_path), tmp_path / "out.jsonl"
    run = _start(fake_llm, str(folder), "--out", str(out), "--via", "batch-api")
    wait_for(lambda: stage in fake_llm.batches.reached, 120, f"the run to reach {stage}")
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    fake_llm.batches.hang_at = set()
    again = _run(fake_llm, str(folder), "--out", str(out), "--via", "batch-api")
    assert again.returncode == 0, again.stderr
    assert len(fake_llm.batches.created) == 1  # found again, never submitted twice
    _assert_each_once_and_ok(out)
    state, _ = side_files(out)
    assert [b["id"] for b in json.loads(state.read_text())["batches"]] == ["batch_1"]


def test_a_line_cut_short_by_a_kill_is_dropped_not_glued_to_the_next(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path, 3), tmp_path / "out.jsonl"
    assert _run(fake_llm, str(folder), "--out", str(out)).returncode == 0
    rows = out.read_text(encoding="utf-8").splitlines()
    torn = rows[2][: len(rows[2]) // 2]  # the last row, as a kill mid-write leaves it
    out.write_text("\n".join(rows[:2]) + "\n" + torn, encoding="utf-8")
    again = _run(fake_llm, str(folder), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "done 1," in again.stdout
    # not a terminal: a line per article, so a long run is never silent
    assert "extracting: 1 to do" in again.stderr and "extracting: 1/1 ok" in again.stderr
    _assert_each_once_and_ok(out, 3)


def test_a_failed_row_is_replaced_when_its_article_runs_again(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    folder, out = _folder(tmp_path, 2), tmp_path / "out.jsonl"
    fake_llm.queue(*[http_error(500)] * 4)  # the first article's call and its retries
    first = _run(fake_llm, str(folder), "--out", str(out))
    assert first.returncode == 1 and "failed 1" in first.stdout
    assert [row["ok"] for row in _lines(out)].count(False) == 1
    again = _run(fake_llm, str(folder), "--out", str(out))
    assert again.returncode == 0, again.stderr
    _assert_each_once_and_ok(out, 2)


def test_repeated_ids_are_refused_with_where_they_are(fake_llm: FakeLLM, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [{"id": "x", "text": "Ten killed."}, {"id": "y", "text": "Two hurt."},
             {"id": "x", "text": "Other."}]  # fmt: skip
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    r = _run(fake_llm, str(source), "--out", str(tmp_path / "out.jsonl"))
    assert r.returncode == 2
    assert "'x'" in r.stderr and "in.jsonl:1" in r.stderr and "in.jsonl:3" in r.stderr
    assert not (tmp_path / "out.jsonl").exists() and not fake_llm.requests


def test_a_second_run_on_the_same_output_is_refused(fake_llm: FakeLLM, tmp_path: Path) -> None:
    folder, out = _folder(tmp_path, 1), tmp_path / "out.jsonl"
    with claimed(out):  # as a run in progress holds it
        r = _run(fake_llm, str(folder), "--out", str(out))
    assert r.returncode == 1
    assert "another run is writing" in r.stderr and not fake_llm.requests
    assert _run(fake_llm, str(folder), "--out", str(out)).returncode == 0


@pytest.mark.parametrize("source", ["folder", "jsonl"])
def test_input_that_is_not_utf8_is_a_failed_row_and_the_rest_run(
    fake_llm: FakeLLM, tmp_path: Path, source: str
) -> None:
    if source == "folder":
        path = _folder(tmp_path, 2)
        (path / "bad.txt").write_bytes(b"Kyiv \xff\xfe shelled")
    else:
        path = tmp_path / "in.jsonl"
        path.write_bytes(b'{"id": "good", "text": "Ten killed."}\n{"id": "bad", "text": "\xff"}\n')
    out = tmp_path / "out.jsonl"
    r = _run(fake_llm, str(path), "--out", str(out))
    assert r.returncode == 1, r.stderr
    rows = _lines(out)
    [bad] = [row for row in rows if not row["ok"]]
    assert bad["status"] == 422 and "not UTF-8" in bad["error"]["message"]
    assert sum(row["ok"] for row in rows) == len(rows) - 1


# An --out that names a file that is not a batch output: what it holds, and why it is refused.
NOT_OURS: dict[str, tuple[bytes | None, str]] = {
    "the input itself": (None, "it is the input itself"),
    "notes": (b"Ask Ana about the Kharkiv figures.\n", "line 1 is not a batch row"),
    "notes without a newline": (b"Ask Ana about the figures", "line 1 is not a batch row"),
    "rows then notes": (b'{"id": "a000", "source": "s", "ok": true}\nremember this\n',
                        "line 2 is not a batch row"),
    "another program's jsonl": (b'{"id": "a000", "score": 0.9}\n', "line 1 is not a batch row"),
}  # fmt: skip


@pytest.mark.parametrize("via", ["local", "batch-api"])
@pytest.mark.parametrize("case", list(NOT_OURS))
def test_an_out_that_is_not_a_batch_output_is_refused_and_kept(
    fake_llm: FakeLLM, tmp_path: Path, case: str, via: str
) -> None:
    content, why = NOT_OURS[case]
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a000", "text": "Ten killed."}\n{"text": "Two hurt."}\n',
                      encoding="utf-8")  # fmt: skip
    out = source if content is None else tmp_path / "out.jsonl"
    if content is not None:
        out.write_bytes(content)
    before = out.read_bytes()
    r = _run(fake_llm, str(source), "--out", str(out), "--via", via)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"refusing to write over {out}: {why}" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == before and not fake_llm.requests
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({source.name, out.name})


def test_an_out_that_is_a_folder_is_refused(fake_llm: FakeLLM, tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    (tmp_path / "results").mkdir()
    for out in (folder, tmp_path / "results"):
        r = _run(fake_llm, str(folder), "--out", str(out))
        assert r.returncode == 2 and f"refusing to write over {out}: " in r.stderr, r.stderr
    assert not fake_llm.requests


def _bad_name(folder: Path) -> None:
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as file:  # not UTF-8: Latin-1
        file.write(b"Ten killed in Kharkiv.")


# A folder entry that cannot be an article: how to make it, its row's id, why it failed.
BAD_ENTRIES: dict[str, tuple[Callable[[Path], Any], str, str]] = {
    "name not UTF-8": (_bad_name, "caf\\xe9", "the file name is not UTF-8"),
    "dangling link": (lambda f: (f / "gone.txt").symlink_to(f / "missing"), "gone",
                      "a symbolic link to nothing"),
    "folder": (lambda f: (f / "dir.txt").mkdir(), "dir", "a folder, not a file"),
}  # fmt: skip


@pytest.mark.parametrize("entry", list(BAD_ENTRIES))
def test_an_entry_that_cannot_be_read_is_a_failed_row_and_the_rest_run(
    fake_llm: FakeLLM, tmp_path: Path, entry: str
) -> None:
    make, id_, why = BAD_ENTRIES[entry]
    fake_llm.default = tool_call(FACTS_004)
    folder, out = _folder(tmp_path, 2), tmp_path / "out.jsonl"
    make(folder)
    for attempt in ("first", "rerun"):
        r = _run(fake_llm, str(folder), "--out", str(out))
        assert r.returncode == 1 and "Traceback" not in r.stderr, (attempt, r.stderr)
        assert "failed 1" in r.stdout, (attempt, r.stdout)
        rows = {row["id"]: row for row in _lines(out)}
        assert sorted(rows) == sorted(["a000", "a001", id_])
        assert rows["a000"]["ok"] and rows["a001"]["ok"]
        bad = rows[id_]
        assert (bad["ok"], bad["status"], bad["error"]["code"]) == (False, 422, "invalid_request")
        assert why in bad["error"]["message"] and bad["source"].endswith(id_ + ".txt")
    assert len(fake_llm.requests) == 2  # the good ones once each, the bad one never
