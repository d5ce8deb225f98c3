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
from service.jsonl import json_lines

log = logging.getLogger("newsfacts")


@dataclass(frozen=True)
class Article:
    """One article of a batch: its id (file name or JSONL `id`), where it came from, the body."""

    id: str
    source: str
    body: dict[str, Any]


def read_articles(source: Path) -> Iterator[Article]:
    """Articles from a folder of `.txt` files (id = file stem) or a JSONL file whose lines are
    `/extract` bodies with an `id` (the line number when absent).

    A line that is not a JSON object still yields an article, so it fails as its own row.
    """
    if source.is_dir():
        for path in sorted(source.glob("*.txt")):
            yield Article(path.stem, str(path), {"text": path.read_text(encoding="utf-8")})
        return
    with source.open(encoding="utf-8") as lines:
        for number, body, error in json_lines(lines):
            where = f"{source}:{number}"
            if error is not None:
                yield Article(str(number), where, {"_error": f"line is not JSON: {error}"})
                continue
            if not isinstance(body, dict):
                yield Article(str(number), where, {"_error": "line is not a JSON object"})
                continue
            yield Article(str(body.pop("id", number)), where, body)


def finished_ids(out: Path) -> set[str]:
    """Ids the output already holds a successful line for (a resumed run skips them)."""
    if not out.is_file():
        return set()
    done: set[str] = set()
    with out.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut off when the last run was killed
            if isinstance(row, dict) and row.get("ok") is True:
                done.add(str(row.get("id")))
    return done


def pending(articles: list[Article], out: Path) -> list[Article]:
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
    article: Article,
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
    articles: list[Article],
    out: Path,
    concurrency: int,
    on_item: Callable[[BatchItemResult], None] | None = None,
) -> BatchSummary:
    """Extract every article not already done in `out`, `concurrency` at a time, appending one
    line per article as it finishes; a failed article is a line with its error, not a stop."""
    started = time.perf_counter()
    todo = pending(articles, out)
    summary = BatchSummary(skipped=len(articles) - len(todo))
    lanes = asyncio.Semaphore(concurrency)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as sink:

        async def one(article: Article) -> None:
            async with lanes:
                item = await extract_item(pipeline, article.body, request_id=f"batch:{article.id}")
            write_row(sink, article, item, summary, on_item)

        await asyncio.gather(*(one(a) for a in todo))
    summary.wall_s = time.perf_counter() - started
    return summary
