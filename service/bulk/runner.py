"""`newsfacts batch`: many articles through one pipeline, one JSON line (a row) per article
appended as it finishes, so a stopped run resumes where it was.

The output is this command's own file, and a run writes over nothing else. A file is
recognised as a batch output when every line that ends in a newline is a row (a JSON object
whose `id` and `source` are strings and whose `ok` is true or false; blank lines, which hold
nothing, are passed over) and a last line without a newline, if any, is a row or the start
of one as a kill leaves it (`{"id": "…", "source": "…", "ok": …` cut anywhere). Anything
else (the input itself, notes, another program's JSONL, a line that is not UTF-8) is
refused before a line is written, naming the file and why: a resume rewrites the output
keeping only its successful rows, and must never drop lines it did not write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

from schemas.api import BatchItemResult, ErrorDetail, Usage
from service.bulk.articles import BatchArticle, printable
from service.errors import INTERNAL_ERROR_MESSAGE, OutputNotOurs
from service.extraction.items import extract_item
from service.extraction.pipeline import Pipeline
from service.files import claimed, write_atomic

log = logging.getLogger("newsfacts")

# How every row begins (json.dumps of the row dict, in this order): what a cut last line
# must be a prefix of, or start with.
ROW_HEAD: tuple[str | type[str], ...] = ('{"id": ', str, ', "source": ', str, ', "ok": ')


def row_line(row: dict[str, Any]) -> str:
    """A row as one line of UTF-8 JSON: non-ASCII as is, unless a lone surrogate (a JSON
    `\\ud800` escape in the input) cannot be UTF-8; then ASCII escapes, which read back as
    the same strings. A non-finite number is a ValueError: `Infinity` is not JSON."""
    line = json.dumps(row, ensure_ascii=False, allow_nan=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(row, allow_nan=False)
    return line + "\n"


def _refuse(out: Path, why: str) -> NoReturn:
    raise OutputNotOurs(
        f"refusing to write over {printable(out)}: {why}, so it is not this command's output "
        "and a run would lose what it holds; name a new file with --out, or move this one away"
    )


def _as_row(text: str) -> dict[str, Any] | None:
    """The row a line holds, or None when it is not one."""
    try:
        row = json.loads(text)
    except ValueError:
        return None
    if not isinstance(row, dict):
        return None
    if isinstance(row.get("id"), str) and isinstance(row.get("source"), str):
        return row if isinstance(row.get("ok"), bool) else None
    return None


def _could_be_cut_row(text: str) -> bool:
    """Whether `text` is how a kill mid-write could have left a row: a prefix of ROW_HEAD,
    or a line that starts with all of it."""
    decoder = json.JSONDecoder()
    rest = text
    for part in ROW_HEAD:
        if isinstance(part, str):
            if len(rest) <= len(part):
                return part.startswith(rest)
            if not rest.startswith(part):
                return False
            rest = rest[len(part) :]
            continue
        if not rest.startswith('"'):
            return rest == ""
        try:
            _, end = decoder.raw_decode(rest)
        except ValueError:
            return True  # cut inside the string
        rest = rest[end:]
    return True


def own_rows(out: Path) -> Iterator[dict[str, Any]]:
    """Every row `out` holds (none when it does not exist), checking as it reads that it is
    this command's output: OutputNotOurs, naming the file and why, when it is not."""
    if not out.exists():
        return
    if out.is_dir():
        _refuse(out, "it is a folder")
    if not out.is_file():
        _refuse(out, "it is not a regular file")
    with out.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            whole = raw.endswith(b"\n")
            try:  # a cut last line may end inside a character
                text = raw.decode("utf-8", "strict" if whole else "replace")
            except UnicodeDecodeError:
                _refuse(out, f"line {number} is not UTF-8")
            if not text.strip():
                continue
            row = _as_row(text)
            if row is not None:
                yield row
            elif whole or not _could_be_cut_row(text):
                _refuse(out, f"line {number} is not a batch row (a JSON object with id, "
                             "source and ok)")  # fmt: skip


def check_output(out: Path, source: Path | None = None) -> None:
    """Refuse an `out` that is the input itself or not this command's own output, before
    anything runs (OutputNotOurs, naming the file and why)."""
    if source is not None and out.exists() and source.exists() and os.path.samefile(out, source):
        _refuse(out, "it is the input itself")
    for _ in own_rows(out):  # read to the end: a line that is not a row refuses the file
        pass


def _finished_rows(out: Path) -> list[dict[str, Any]]:
    """The output's successful rows, the first per id, in order (its own rows only)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in own_rows(out):
        if row["ok"] is True:
            rows.setdefault(row["id"], row)
    return list(rows.values())


def finished_ids(out: Path) -> set[str]:
    """Ids the output already holds a successful line for (a resumed run skips them)."""
    return {row["id"] for row in _finished_rows(out)}


def resume(articles: list[BatchArticle], out: Path) -> list[BatchArticle]:
    """The articles a (resumed) run still has to do, with the output made to hold only its
    successful rows, one per id (its failed rows are run again, a line a kill cut short is
    dropped), rewritten whole only when it held anything else: each id is then appended
    once. An output that is not this command's own is refused, not rewritten."""
    rows = _finished_rows(out)
    if out.is_file():
        text = "".join(row_line(row) for row in rows)
        if out.read_bytes() != text.encode("utf-8"):
            write_atomic(out, text)
    done = {row["id"] for row in rows}
    return [a for a in articles if a.id not in done]


def pending(articles: list[BatchArticle], out: Path) -> list[BatchArticle]:
    """The articles `out` holds no successful line for: what a (resumed) run still has to do."""
    done = finished_ids(out)
    return [a for a in articles if a.id not in done]


@dataclass
class BatchSummary:
    """What a batch run did: articles done, failed and skipped, tokens and wall time."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    usage: Usage = field(default_factory=Usage)
    wall_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, item: BatchItemResult) -> None:
        """Count one finished article."""
        self.usage += item.usage
        if item.error is None:
            self.done += 1
        else:
            self.failed += 1
            self.errors[item.error.code] = self.errors.get(item.error.code, 0) + 1


def _row(article: BatchArticle, item: BatchItemResult) -> dict[str, Any]:
    """An article's output row: its id and source first (ROW_HEAD), then its entry."""
    return {"id": article.id, "source": article.source, "ok": item.error is None,
            **item.model_dump(mode="json")}  # fmt: skip


def write_row(
    sink: TextIO,
    article: BatchArticle,
    item: BatchItemResult,
    summary: BatchSummary,
    on_item: Callable[[BatchItemResult], None] | None,
) -> None:
    """Append an article's output line, flushed (a killed run keeps every finished line),
    and count it."""
    try:
        line = row_line(_row(article, item))
    except ValueError:  # a number that is not finite: the schema refuses them, so a bug
        log.error("a result held a non-finite number", extra={"article": article.id})
        error = ErrorDetail(code="internal_error", message=INTERNAL_ERROR_MESSAGE,
                            request_id=f"batch:{article.id}")  # fmt: skip
        item = BatchItemResult(status=500, error=error, usage=item.usage, latency_ms=0.0)
        line = row_line(_row(article, item))
    sink.write(line)
    sink.flush()
    summary.add(item)
    if on_item is not None:
        on_item(item)


async def run_batch(
    pipeline: Pipeline,
    articles: list[BatchArticle],
    out: Path,
    concurrency: int,
    on_item: Callable[[BatchItemResult], None] | None = None,
) -> BatchSummary:
    """Extract every article not already done in `out`, `concurrency` at a time, appending one
    line per article as it finishes; a failed article is a line with its error, not a stop."""
    started = time.perf_counter()
    with claimed(out):
        todo = resume(articles, out)
        summary = BatchSummary(skipped=len(articles) - len(todo))
        await _extract_into(pipeline, todo, out, concurrency, summary, on_item)
    summary.wall_s = time.perf_counter() - started
    return summary


async def _extract_into(
    pipeline: Pipeline,
    todo: list[BatchArticle],
    out: Path,
    concurrency: int,
    summary: BatchSummary,
    on_item: Callable[[BatchItemResult], None] | None,
) -> None:
    """Extract the articles `concurrency` at a time, a line appended as each finishes."""
    lanes = asyncio.Semaphore(concurrency)
    with out.open("a", encoding="utf-8") as sink:

        async def one(article: BatchArticle) -> None:
            async with lanes:
                item = await extract_item(pipeline, article.body, request_id=f"batch:{article.id}")
            write_row(sink, article, item, summary, on_item)

        await asyncio.gather(*(one(a) for a in todo))
