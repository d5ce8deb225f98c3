"""Many articles through one pipeline: read a folder or a JSONL file, extract concurrently,
write one JSON line per article as it finishes (so a stopped run resumes where it was)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from schemas.api import BatchItemResult, ErrorDetail, ExtractRequest, Usage
from service.errors import (
    INTERNAL_ERROR_MESSAGE,
    InvalidInput,
    NewsfactsError,
    validation_problems,
)
from service.extraction.pipeline import Pipeline
from service.files import claimed, write_atomic
from service.jsonl import json_lines

log = logging.getLogger("newsfacts")


@dataclass(frozen=True)
class BatchArticle:
    """One article of a batch: its id (file name or JSONL `id`), where it came from, the body."""

    id: str
    source: str
    body: dict[str, Any]


def read_articles(source: Path) -> Iterator[BatchArticle]:
    """Articles from a folder of `.txt` files (id = file stem) or a JSONL file whose lines are
    `/extract` bodies with an `id` (the line number when absent).

    A file or line that is not UTF-8, or not a JSON object, still yields an article, so it
    fails as its own row and the others run.
    """
    if source.is_dir():
        for path in sorted(source.glob("*.txt")):
            try:
                body = {"text": path.read_bytes().decode("utf-8")}
            except UnicodeDecodeError as exc:
                body = {"_error": f"file is not UTF-8: {exc}"}
            yield BatchArticle(path.stem, str(path), body)
        return
    with source.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            where = f"{source}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield BatchArticle(str(number), where, {"_error": f"line is not UTF-8: {exc}"})
                continue
            if not line.strip():
                continue
            [(_, body, error)] = json_lines([line])
            if error is not None:
                yield BatchArticle(str(number), where, {"_error": f"line is not JSON: {error}"})
            elif not isinstance(body, dict):
                yield BatchArticle(str(number), where, {"_error": "line is not a JSON object"})
            else:
                yield BatchArticle(str(body.pop("id", number)), where, body)


def repeated_ids(articles: list[BatchArticle]) -> dict[str, list[str]]:
    """Ids more than one article carries, with where each came from: a run refuses them,
    since a resumed run could not tell their rows apart."""
    where: dict[str, list[str]] = {}
    for article in articles:
        where.setdefault(article.id, []).append(article.source)
    return {id_: sources for id_, sources in where.items() if len(sources) > 1}


def finished_ids(out: Path) -> set[str]:
    """Ids the output already holds a successful line for (a resumed run skips them)."""
    return {str(row["id"]) for row in _finished_rows(out)}


def _finished_rows(out: Path) -> list[dict[str, Any]]:
    """The output's successful rows, the first per id, in order."""
    if not out.is_file():
        return []
    rows: dict[str, dict[str, Any]] = {}
    with out.open(encoding="utf-8", errors="replace") as lines:
        for _, row, error in json_lines(lines):
            if error is None and isinstance(row, dict) and row.get("ok") is True:
                rows.setdefault(str(row.get("id")), row)
    return list(rows.values())


def resume(articles: list[BatchArticle], out: Path) -> list[BatchArticle]:
    """The articles a (resumed) run still has to do, with the output made to hold only its
    successful rows, one per id (its failed rows are run again, a line a kill cut short is
    dropped), rewritten whole only when it held anything else: each id is then appended
    once."""
    rows = _finished_rows(out)
    if out.is_file():
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        if out.read_bytes() != text.encode("utf-8"):
            write_atomic(out, text)
    done = {str(row["id"]) for row in rows}
    return [a for a in articles if a.id not in done]


def pending(articles: list[BatchArticle], out: Path) -> list[BatchArticle]:
    """The articles `out` holds no successful line for: what a (resumed) run still has to do."""
    done = finished_ids(out)
    return [a for a in articles if a.id not in done]


def parse_request(body: dict[str, Any]) -> ExtractRequest:
    """An `/extract` body as a request, or InvalidInput saying what is wrong with it."""
    if "_error" in body:
        raise InvalidInput(body["_error"])
    try:
        return ExtractRequest.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc.errors())) from None


async def extract_item(
    pipeline: Pipeline, request: ExtractRequest | dict[str, Any], request_id: str
) -> BatchItemResult:
    """One article's result, or its error in the documented shape; never raises.

    An unexpected exception (a bug) is logged with its trace and becomes this article's
    500 internal_error, so the other articles of the batch keep their results.
    """
    started = time.perf_counter()
    try:
        if isinstance(request, dict):
            request = parse_request(request)
        response = await pipeline.extract(request)
    except NewsfactsError as exc:
        return failed_item(exc.status, exc.code, exc.message, request_id, started, exc.spent)
    except Exception:
        log.exception("unexpected error in a batch article", extra={"article": request_id})
        return failed_item(500, "internal_error", INTERNAL_ERROR_MESSAGE, request_id, started,
                           Usage())  # fmt: skip
    return BatchItemResult(
        status=200, result=response, usage=response.meta.usage, latency_ms=response.meta.latency_ms
    )


def failed_item(
    status: int, code: str, message: str, request_id: str, started: float, spent: Usage
) -> BatchItemResult:
    """An article's failure as its batch entry: the error shape, its tokens, its time."""
    return BatchItemResult(
        status=status,
        error=ErrorDetail(code=code, message=message, request_id=request_id),
        usage=spent,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


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


def write_row(
    sink: TextIO,
    article: BatchArticle,
    item: BatchItemResult,
    summary: BatchSummary,
    on_item: Callable[[BatchItemResult], None] | None,
) -> None:
    """Append an article's output line, flushed (a killed run keeps every finished line),
    and count it."""
    row = {"id": article.id, "source": article.source, "ok": item.error is None,
           **item.model_dump(mode="json")}  # fmt: skip
    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
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
