"""Files the product writes: whole files written aside and renamed (a killed run leaves the
old file or the new one, never half), append-only JSONL whose torn last line is cut before
the next run appends, and a lock so that two runs never write one output."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from service.errors import OutputBusy


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write the file whole: to a temporary name beside it, flushed to disk, then renamed
    over `path` (a rename within one directory is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with aside.open("wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        aside.replace(path)
    finally:
        aside.unlink(missing_ok=True)
    return path


def cut_torn_line(path: Path) -> int:
    """Cut a last line that has no newline (a write a kill interrupted), so that the next
    line appended starts a line of its own; the bytes cut (0 when the file ends whole)."""
    if not path.is_file():
        return 0
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return 0
        keep, step = size, 1 << 16
        while keep > 0:  # back to the last newline, a block at a time
            start = max(0, keep - step)
            file.seek(start)
            block = file.read(keep - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        file.truncate(keep)
        return size - keep


def beside(out: Path, suffix: str) -> Path:
    """A file kept beside `out` for its run (the lock, a batch's side files): named by the
    output's full name plus `suffix`, so `run.jsonl` and `run.json` never share one."""
    return out.with_name(out.name + suffix)


@contextlib.contextmanager
def claimed(out: Path) -> Iterator[None]:
    """Hold `<out>.lock` for the block: a second run on the same output is refused at once
    (the lock goes with the process, so a killed run leaves none behind)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = beside(out, ".lock")
    with lock_path.open("a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(
                f"another run is writing {out} (it holds {lock_path}); wait for it, or "
                "write to another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
