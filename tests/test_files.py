"""The product's file writes: whole files replaced at once, torn JSONL lines cut, and one
run per output."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import OutputBusy
from service.files import claimed, cut_torn_line, write_atomic


@pytest.mark.parametrize("old", [None, "old contents\n"], ids=["new", "replaced"])
def test_a_file_is_written_whole_and_nothing_is_left_beside_it(
    tmp_path: Path, old: str | None
) -> None:
    path = tmp_path / "deep" / "report.json"
    if old is not None:
        path.parent.mkdir()
        path.write_text(old)
    assert write_atomic(path, "new contents\n") == path
    assert path.read_text() == "new contents\n"
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomic(path, 42)  # type: ignore[arg-type]
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        (b"", b""),
        (b'{"a": 1}\n', b'{"a": 1}\n'),
        (b'{"a": 1}\n{"b": ', b'{"a": 1}\n'),
        (b'{"b": ', b""),
        (b"x" * 200_000 + b"\n" + b"y" * 150_000, b"x" * 200_000 + b"\n"),
    ],
    ids=["empty", "whole", "torn", "only-torn", "long-lines"],
)
def test_a_torn_last_line_is_cut(tmp_path: Path, content: bytes, kept: bytes) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(content)
    assert cut_torn_line(path) == len(content) - len(kept)
    assert path.read_bytes() == kept


def test_one_run_per_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with claimed(out), pytest.raises(OutputBusy, match="another run is writing"), claimed(out):
        pass
    with claimed(out):  # released with the first holder
        pass
