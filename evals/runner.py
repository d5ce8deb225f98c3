"""Run the gold set through the real pipeline: live, recording cassettes, or replaying them."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from evals.cassettes import (
    CannotOverwriteExistingCassetteException,
    Recording,
    StaleCassetteError,
    cassette_path,
    empty_cassette,
    make_vcr,
    recorded_ms,
    stale_message,
)
from evals.datasets import SEEDS, Dataset
from evals.gold import GoldCase
from evals.gold_files import safe_id
from evals.scoring import CaseOutcome
from schemas.api import ExtractRequest, RecallPasses, Strategy, UngroundedPolicy
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import STRATEGIES, needs_model
from service.llm.backend import open_backend
from service.prompts import load_prompt
from service.settings import Settings

# Replays never reach a server: the address only has to be well formed.
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"


class Mode(StrEnum):
    """Where the LLM answers come from."""

    LIVE = "live"
    RECORD = "record"
    REPLAY = "replay"
    # record the cases with no cassette and the requests a cassette lacks, replay the rest
    RECORD_MISSING = "record-missing"
    EXTEND = "extend"  # (inside record-missing) replay a cassette's answers, record new ones


@dataclass
class EvalRun:
    """One run of the gold set: its settings, prompt and per-case outcomes."""

    prompt: str  # "nlp" for the nlp strategy, which has none
    model: str
    mode: Mode
    strategy: Strategy = "llm"
    ungrounded: UngroundedPolicy = "flag"
    passes: RecallPasses = "none"
    variant: str = ""  # "joined": the seeds as one long article
    dataset: str = SEEDS.name
    outcomes: list[CaseOutcome] = field(default_factory=list)  # the model's answers as given
    wall_s: float = 0.0

    def scored(self) -> list[CaseOutcome]:
        """The outcomes as the run's policy answers them: `drop` removes the failed facts."""
        if self.ungrounded == "drop":
            return [o.dropped() for o in self.outcomes]
        return self.outcomes


def replay_settings(settings: Settings) -> Settings:
    """Settings for a replay: same request bodies, no server, no transport retries."""
    return settings.model_copy(
        update={"llm_base_url": REPLAY_BASE_URL, "llm_transport_retries": 0, "llm_api_key": None}
    )


def _is_stale(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CannotOverwriteExistingCassetteException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class _Tape:
    """The cassette a case runs against, and (after a replay) the LLM time it recorded."""

    path: Path | None = None
    recorded_ms: float | None = None


@contextlib.contextmanager
def case_cassette(mode: Mode, recording: Recording, article_id: str, root: Path) -> Iterator[_Tape]:
    """The cassette one article runs against in `mode` (none when live): a recording
    replaces the old cassette only once whole; a replay without one is stale."""
    if mode is Mode.LIVE:
        yield _Tape()
        return
    path = cassette_path(recording.name, article_id, root)
    if mode is Mode.REPLAY and not path.is_file():
        raise StaleCassetteError(stale_message(recording, path))
    path.parent.mkdir(parents=True, exist_ok=True)
    final = path
    if mode in (Mode.RECORD, Mode.EXTEND):
        # A recording starts clean (vcrpy's "all" mode would keep old interactions that no
        # request matches any more), beside the old cassette, which it replaces only once
        # it is whole: a run killed or failed mid-recording keeps the old one.
        path = path.with_name(f".{path.name}.recording")
        path.unlink(missing_ok=True)
    seeded = False
    recording_mode = mode in (Mode.RECORD, Mode.EXTEND)
    base = recording.base and cassette_path(recording.base.name, article_id, root)
    if mode is Mode.EXTEND and final.is_file():
        # The rules ask something the cassette lacks: its recorded interactions are
        # kept as they are (the ones no request matches any more too), and only the new
        # requests go to the model.
        shutil.copyfile(final, path)
        seeded = True
    elif recording_mode and base and not path.is_file() and base.is_file():
        # A re-ask's first calls are the plain recording's calls: replay them, record the rest.
        shutil.copyfile(base, path)
        seeded = True
    tape = _Tape(path)
    with make_vcr(record=recording_mode, keep_recorded=seeded).use_cassette(str(path)) as cassette:
        yield tape
        if mode is Mode.REPLAY:
            tape.recorded_ms = recorded_ms(cassette)
    if mode is not Mode.REPLAY and not path.is_file():
        # An article whose candidates all decide themselves asks the model nothing: its
        # cassette records that (vcrpy writes none), so a replay tells it from one never
        # recorded, and fails as stale once it does ask.
        path.write_text(empty_cassette(), encoding="utf-8")
    if path != final:
        if path.is_file():
            path.replace(final)
        tape.path = final


async def run_gold(
    cases: list[GoldCase],
    settings: Settings,
    prompt: str | None,
    mode: Mode = Mode.LIVE,
    cassettes_dir: Path | None = None,
    on_case: Callable[[CaseOutcome], None] | None = None,
    ungrounded: UngroundedPolicy | None = None,
    passes: RecallPasses | None = None,
    dataset: Dataset = SEEDS,
) -> EvalRun:
    """Extract every case with the pipeline; a failing case becomes a failure row.

    Cassettes are the dataset's own unless `cassettes_dir` says otherwise. A replay that
    misses its cassette raises StaleCassetteError naming the record command; a case whose
    id is not a plain file name raises UnsafeIdError before any case runs.
    """
    for case in cases:  # every id a plain file name before any cassette is read or written
        safe_id(case.article_id)
    cassettes_dir = cassettes_dir or dataset.cassettes_dir
    replaying = replay_settings(settings)
    if mode is Mode.REPLAY:
        settings = replaying
    run, recording = _new_run(prompt, settings, mode, ungrounded, passes, dataset)
    policy, mode = run.ungrounded, run.mode
    started = time.perf_counter()
    if mode is Mode.RECORD_MISSING:
        run.outcomes = await _record_missing(
            cases, settings, policy, recording, cassettes_dir, on_case
        )
        run.wall_s = time.perf_counter() - started
        return run
    run.outcomes = await _run_cases(
        cases, settings, policy, recording, mode, cassettes_dir, on_case
    )
    run.wall_s = time.perf_counter() - started
    return run


async def _record_missing(
    cases: list[GoldCase],
    settings: Settings,
    policy: UngroundedPolicy,
    recording: Recording,
    cassettes_dir: Path,
    on_case: Callable[[CaseOutcome], None] | None,
) -> list[CaseOutcome]:
    """Replay every case that its cassette answers whole (no model server needed for
    them); then, through one model server, record the cases with no cassette and add the
    requests a cassette lacks to it, its recorded answers kept as they are."""
    replaying = replay_settings(settings)
    done: list[CaseOutcome] = []
    todo: list[GoldCase] = []
    for case in cases:
        if not cassette_path(recording.name, case.article_id, cassettes_dir).is_file():
            todo.append(case)
            continue
        try:
            done += await _run_cases([case], replaying, policy, recording, Mode.REPLAY,
                                     cassettes_dir, on_case)  # fmt: skip
        except StaleCassetteError:
            todo.append(case)
    done += await _run_cases(todo, settings, policy, recording, Mode.EXTEND, cassettes_dir,
                             on_case)  # fmt: skip
    by_id = {o.case.article_id: o for o in done}
    return [by_id[c.article_id] for c in cases]


async def run_samples(
    cases: list[GoldCase],
    settings: Settings,
    prompt: str | None,
    samples: int,
    on_case: Callable[[CaseOutcome], None] | None = None,
    ungrounded: UngroundedPolicy | None = None,
    passes: RecallPasses | None = None,
    dataset: Dataset = SEEDS,
) -> list[EvalRun]:
    """The gold set run live `samples` times through one backend.

    One model server for every run: its evaluated prompt prefix is reused, and its sampling
    seed moves on from request to request (a fresh llama.cpp server starts from the same
    seed, so runs that each started one would sample the same answers).
    """
    # Settled before the model starts: an unknown prompt fails at once.
    planned = [
        _new_run(prompt, settings, Mode.LIVE, ungrounded, passes, dataset) for _ in range(samples)
    ]
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        pipeline = Pipeline(backend.llm, settings)
        for run, recording in planned:
            started = time.perf_counter()
            run.outcomes = await _each_case(pipeline, cases, run.ungrounded, recording,
                                            Mode.LIVE, dataset.cassettes_dir, on_case)  # fmt: skip
            run.wall_s = time.perf_counter() - started
    return [run for run, _ in planned]


def _new_run(
    prompt: str | None,
    settings: Settings,
    mode: Mode,
    ungrounded: UngroundedPolicy | None,
    passes: RecallPasses | None,
    dataset: Dataset,
) -> tuple[EvalRun, Recording]:
    """An empty run with its policy and passes settled, and the recording it reads or writes."""
    policy = ungrounded or settings.ungrounded
    passes = passes or settings.recall_passes
    strategy = STRATEGIES[settings.strategy]
    model = strategy.model_name(settings)
    if not strategy.uses_model:  # no model, nothing recorded: every mode runs it live
        label = strategy.run_prompt(settings)
        run = EvalRun(prompt=label, model=model, mode=Mode.LIVE, ungrounded=policy,
                      strategy=strategy.name, dataset=dataset.name)  # fmt: skip
        return run, Recording(label)
    prompt = prompt or strategy.run_prompt(settings)
    load_prompt(prompt)  # an unknown prompt fails here, before any case runs
    run = EvalRun(prompt=prompt, model=model, mode=mode, ungrounded=policy,
                  passes=passes, strategy=strategy.name, dataset=dataset.name)  # fmt: skip
    # Passes and reask change what is sent: each combination has its own cassettes.
    return run, Recording(prompt, passes, reask=policy == "reask", dataset_option=dataset.option)


async def _run_cases(
    cases: list[GoldCase],
    settings: Settings,
    policy: UngroundedPolicy,
    recording: Recording,
    mode: Mode,
    cassettes_dir: Path,
    on_case: Callable[[CaseOutcome], None] | None,
) -> list[CaseOutcome]:
    if not cases:
        return []
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        pipeline = Pipeline(backend.llm, settings)
        return await _each_case(pipeline, cases, policy, recording, mode, cassettes_dir, on_case)


async def _each_case(
    pipeline: Pipeline,
    cases: list[GoldCase],
    policy: UngroundedPolicy,
    recording: Recording,
    mode: Mode,
    cassettes_dir: Path,
    on_case: Callable[[CaseOutcome], None] | None,
) -> list[CaseOutcome]:
    """Every case in turn through one pipeline, reporting each as it finishes."""
    outcomes = []
    for case in cases:
        outcome = await _run_case(pipeline, case, policy, recording, mode, cassettes_dir)
        outcomes.append(outcome)
        if on_case is not None:
            on_case(outcome)
    return outcomes


async def _run_case(
    pipeline: Pipeline,
    case: GoldCase,
    policy: UngroundedPolicy,
    recording: Recording,
    mode: Mode,
    cassettes_dir: Path,
) -> CaseOutcome:
    """One case through the pipeline (and its cassette, unless live); a failure is a row."""
    with case_cassette(mode, recording, case.article_id, cassettes_dir) as tape:
        outcome = await _extract_case(pipeline, case, policy, recording, mode, tape.path)
    if tape.recorded_ms is not None and outcome.meta is not None:
        # A replay answers at once: report the LLM time the answers took when recorded.
        outcome.meta.latency_ms = tape.recorded_ms
    return outcome


async def _extract_case(
    pipeline: Pipeline,
    case: GoldCase,
    policy: UngroundedPolicy,
    recording: Recording,
    mode: Mode,
    path: Path | None,
) -> CaseOutcome:
    """The case's extraction; a failure is a row."""
    try:
        # flag and drop send the same requests: ask as flag, keep every answer, and let
        # the report score both (EvalRun.scored applies drop).
        prompted = STRATEGIES[pipeline.settings.strategy].uses_prompt
        request = ExtractRequest(
            text=case.text,
            prompt=recording.prompt if prompted else None,
            ungrounded="reask" if policy == "reask" else "flag",
            recall_passes=recording.passes,
        )
        response = await pipeline.extract(request)
        return CaseOutcome.build(case, response.facts, response.meta)
    except NewsfactsError as exc:
        if path is not None and mode is Mode.REPLAY and _is_stale(exc):
            raise StaleCassetteError(stale_message(recording, path)) from None
        return CaseOutcome.build(
            case, None, error=f"{exc.code}: {exc.message}", failed_usage=exc.spent
        )
    except Exception as exc:  # a crashing case is a failure row, not a crashed run
        return CaseOutcome.build(case, None, error=f"{type(exc).__name__}: {exc}")
