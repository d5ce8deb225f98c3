"""`newsfacts batch --via batch-api`: every LLM call of a batch of articles sent through a
provider's batch engine (OpenAI's Batch API: half the price, its own rate limits), the
answers run through the same pipeline, validation, grounding and output rows as a live run.

Rounds: the articles run against the answer desk, which collects the calls it cannot
answer yet; those go up as one batch JSONL; the results come down and the held articles
run again (a re-ask or a dependent call makes another, smaller round). Resumable: the batch
ids and every answer downloaded are kept beside the output, named by its full name as its
lock is (`run.jsonl.batch.json`, `run.jsonl.answers.jsonl`, `run.jsonl.lock`), so a killed
run polls its batch again instead of submitting anew, and `run.json` in the same folder has
side files of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.api import BatchItemResult, Usage
from service.bulk.articles import BatchArticle
from service.bulk.desk import Answer, AnswerDesk, serving
from service.bulk.runner import BatchSummary, check_output, resume, write_row
from service.errors import ConfigError
from service.extraction.items import extract_item, failed_item
from service.extraction.pipeline import Pipeline
from service.files import beside, claimed, cut_torn_line, write_atomic
from service.jsonl import json_lines
from service.llm.client import OpenAIStructuredLLM
from service.llm.protocol import BatchProvider, BatchStatus
from service.settings import Settings

log = logging.getLogger("newsfacts")
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINT = "/v1/chat/completions"


@dataclass
class _State:
    """The batches submitted for one output file, and whether their answers are down."""

    path: Path
    batches: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> _State:
        if not path.is_file():
            return cls(path)
        return cls(path, json.loads(path.read_text(encoding="utf-8"))["batches"])

    def save(self) -> None:
        """Written aside and renamed: a run killed mid-write leaves the old state, not half."""
        write_atomic(self.path, json.dumps({"batches": self.batches}, indent=1) + "\n")


def _answers_of(text: str, status: BatchStatus) -> dict[str, Answer]:
    """The answers in a downloaded output or error file, by custom_id."""
    found: dict[str, Answer] = {}
    for _, row, bad in json_lines(text.splitlines()):
        if bad is not None:
            raise bad  # the provider's own file: not ours to repair
        response, error = row.get("response") or {}, row.get("error")
        if response.get("body") is not None and response.get("status_code"):
            found[row["custom_id"]] = Answer(int(response["status_code"]), response["body"])
        else:
            message = (error or {}).get("message") or f"the batch item failed ({status.status})"
            found[row["custom_id"]] = Answer(502, {"error": {"message": message}})
    return found


async def _collect(
    provider: BatchProvider,
    batch: dict[str, Any],
    settings: Settings,
    on_status: Callable[[BatchStatus], None] | None,
) -> dict[str, Answer]:
    """Poll a batch until it ends, then every answer it holds; a request it never answered
    (the batch expired, failed or was cancelled) gets an error answer: a failed row."""
    while True:
        status = await provider.status(batch["id"])
        if on_status is not None:
            on_status(status)
        if status.status in TERMINAL:
            break
        await asyncio.sleep(settings.batch_poll_s)
    answers: dict[str, Answer] = {}
    for file_id in (status.output_file_id, status.error_file_id):
        if file_id:
            answers |= _answers_of(await provider.download(file_id), status)
    for key in batch["keys"]:
        if key not in answers:
            message = f"batch {status.id} ended {status.status} before answering this call"
            answers[key] = Answer(504, {"error": {"message": message}})
    return answers


def _read_answers(path: Path) -> dict[str, Answer]:
    if not path.is_file():
        return {}
    answers = {}
    for _, row, error in json_lines(path.read_text(encoding="utf-8").splitlines()):
        if error is None:  # a line cut off when a run was killed: its batch is fetched again
            answers[row["key"]] = Answer(row["status_code"], row["body"])
    return answers


def final(answer: Answer) -> bool:
    """An answer worth keeping: a result, or a refusal that asking again would not change;
    an expired, failed or throttled call (5xx, 429) is asked again in the next batch."""
    return answer.status_code < 500 and answer.status_code != 429


def _keep(path: Path, answers: dict[str, Answer]) -> None:
    cut_torn_line(path)  # a line a killed run left half-written
    with path.open("a", encoding="utf-8") as sink:
        for key, a in answers.items():
            sink.write(
                json.dumps({"key": key, "status_code": a.status_code, "body": a.body}) + "\n"
            )


def side_files(out: Path) -> tuple[Path, Path]:
    """Where a batch-API run of `out` keeps its batch ids and its downloaded answers: beside
    it, by its full name (as its lock)."""
    return beside(out, ".batch.json"), beside(out, ".answers.jsonl")


async def run_via_batch_api(
    articles: list[BatchArticle],
    out: Path,
    settings: Settings,
    provider: BatchProvider,
    concurrency: int = 8,
    on_item: Callable[[BatchItemResult], None] | None = None,
    on_status: Callable[[BatchStatus], None] | None = None,
    batch_id: str | None = None,
) -> BatchSummary:
    """Extract every article not already done in `out` through the provider's batch engine,
    one output line per article as in a live batch run.

    `batch_id`: a batch this run's side files do not know (submitted by a run whose side
    files are lost, or on another machine): its answers are fetched and used first."""
    if settings.embedded:
        raise ConfigError(
            "--via batch-api needs a provider's endpoint: set NEWSFACTS_LLM_BASE_URL (and "
            "NEWSFACTS_LLM_API_KEY) to one with a batch API, e.g. https://api.openai.com/v1"
        )
    started = time.perf_counter()
    with claimed(out):
        return await _run(articles, out, settings, provider, concurrency, on_item, on_status,
                          batch_id, started)  # fmt: skip


async def _run(
    articles: list[BatchArticle],
    out: Path,
    settings: Settings,
    provider: BatchProvider,
    concurrency: int,
    on_item: Callable[[BatchItemResult], None] | None,
    on_status: Callable[[BatchStatus], None] | None,
    batch_id: str | None,
    started: float,
) -> BatchSummary:
    """run_via_batch_api's work, with the output claimed."""
    check_output(out)  # an output that is not this command's: refused before batch work
    state_path, answers_path = side_files(out)
    state = _State.load(state_path)
    desk = AnswerDesk(answers=_read_answers(answers_path))
    if batch_id is not None and batch_id not in {b["id"] for b in state.batches}:
        state.batches.append({"id": batch_id, "keys": [], "downloaded": False})
    await _recover(provider, state)
    for batch in state.batches:  # a killed run's batch: poll it, do not submit it again
        if not batch["downloaded"]:
            await _download(provider, batch, state, desk, answers_path, settings, on_status)
    todo = resume(articles, out)
    summary = BatchSummary(skipped=len(articles) - len(todo))
    # The desk answers at once: no transport retries, no queue to wait in.
    local = settings.model_copy(update={"llm_transport_retries": 0,
                                        "max_inflight": concurrency, "max_queue": 0})  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    for round_number in range(1, settings.batch_max_rounds + 2):
        last = round_number > settings.batch_max_rounds
        async with serving(desk) as url:
            todo = await _round(todo, out, url, local, desk, summary, concurrency, on_item, last)
        if not todo:
            break
        batch = await _submit(provider, desk, state, out)
        desk.asked.clear()
        await _download(provider, batch, state, desk, answers_path, settings, on_status)
    summary.wall_s = time.perf_counter() - started
    return summary


def submission_tag(out: Path, keys: list[str]) -> str:
    """The name a submission goes up under (the batch's metadata): the same output and calls
    give the same name, so a run killed before it saved the batch's id finds that batch
    instead of paying for a second one."""
    material = json.dumps([str(out.resolve()), sorted(keys)]).encode("utf-8")
    return "newsfacts-" + hashlib.sha256(material).hexdigest()[:32]


async def _submit(
    provider: BatchProvider, desk: AnswerDesk, state: _State, out: Path
) -> dict[str, Any]:
    """Send the calls the desk collected as one batch; its entry is saved before the batch
    is created (without an id) and again with the id."""
    keys = list(desk.asked)
    tag = submission_tag(out, keys)
    batch: dict[str, Any] = {"id": None, "tag": tag, "keys": keys, "downloaded": False}
    state.batches.append(batch)
    state.save()
    lines = [{"custom_id": k, "method": "POST", "url": ENDPOINT, "body": desk.asked[k]}
             for k in keys]  # fmt: skip
    batch["id"] = await provider.submit(lines, tag)
    state.save()
    log.warning("batch submitted", extra={"batch": batch["id"], "requests": len(lines)})
    return batch


async def _recover(provider: BatchProvider, state: _State) -> None:
    """Entries a killed run saved before their batch's id: the batch the provider holds
    under the entry's tag, or (never created) the entry dropped, its calls asked again."""
    unsaved = [b for b in state.batches if b["id"] is None]
    for batch in unsaved:
        found = await provider.find(batch["tag"])
        if found is None:
            state.batches.remove(batch)
        else:
            batch["id"] = found
    if unsaved:
        state.save()


async def _download(
    provider: BatchProvider,
    batch: dict[str, Any],
    state: _State,
    desk: AnswerDesk,
    answers_path: Path,
    settings: Settings,
    on_status: Callable[[BatchStatus], None] | None,
) -> None:
    answers = {k: a for k, a in (await _collect(provider, batch, settings, on_status)).items()
               if final(a)}  # fmt: skip
    _keep(answers_path, answers)
    desk.answers |= answers
    batch["downloaded"] = True
    state.save()


async def _round(
    todo: list[BatchArticle],
    out: Path,
    url: str,
    settings: Settings,
    desk: AnswerDesk,
    summary: BatchSummary,
    concurrency: int,
    on_item: Callable[[BatchItemResult], None] | None,
    last: bool,
) -> list[BatchArticle]:
    """Run the articles against the desk; write the ones it answered in full, return the
    ones held for the next batch (on the last round they become failed rows instead)."""
    lanes = asyncio.Semaphore(concurrency)
    with out.open("a", encoding="utf-8") as sink:

        async def one(slot: int, article: BatchArticle) -> None:
            request_id = f"batch:{article.id}"
            async with lanes:
                llm = OpenAIStructuredLLM(settings, f"{url}/a/{slot}/v1", api_key=None)
                try:
                    item = await extract_item(Pipeline(llm, settings), article.body, request_id)
                finally:
                    await llm.close()
            if str(slot) in desk.held:
                if not last:
                    return  # run again once the next batch has answered
                message = f"calls still unanswered after {settings.batch_max_rounds} batches"
                item = failed_item(502, "llm_unavailable", message, request_id,
                                   time.perf_counter(), Usage())  # fmt: skip
            write_row(sink, article, item, summary, on_item)

        desk.held.clear()
        await asyncio.gather(*(one(i, a) for i, a in enumerate(todo)))
    return [] if last else [a for i, a in enumerate(todo) if str(i) in desk.held]
