"""The `newsfacts` command: serve the API, or extract facts from a file."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast, get_args

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from schemas.api import (
    BatchItemResult,
    ExtractRequest,
    ExtractResponse,
    RecallPasses,
    Strategy,
    UngroundedPolicy,
)
from service.bulk.articles import BatchArticle, read_articles, repeated_ids
from service.bulk.runner import BatchSummary, check_output, pending, run_batch
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import needs_model
from service.files import write_atomic
from service.llm.backend import open_backend
from service.logs import configure_logging
from service.progress import Step, steps
from service.settings import Settings, load_settings

app = typer.Typer(help="Typed, source-grounded facts from news articles.", no_args_is_help=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Say `error: message` on stderr and exit with `code` (1 failed, 2 bad usage)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def cli_settings() -> Settings:
    try:
        return load_settings()
    except NewsfactsError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [NEWSFACTS_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [NEWSFACTS_PORT].")] = None,
) -> None:
    """Serve the HTTP API (starts the embedded model unless NEWSFACTS_LLM_BASE_URL is set)."""
    from service.api.app import create_app
    from service.api.server import server_config

    settings = cli_settings()
    host = host or settings.host
    problem = settings.exposure_problem(host)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    configure_logging(settings.log_level)
    port = settings.port if port is None else port
    uvicorn.Server(server_config(create_app(settings), settings, host, port)).run()


def _choice(option: str, value: str | None, allowed: Any) -> Any:
    """An option whose values are a Literal, checked (typer has no Literal choices)."""
    if value is not None and value not in get_args(allowed):
        typer.echo(f"error: {option} is one of {', '.join(get_args(allowed))}", err=True)
        raise typer.Exit(2)
    return value


def policy_choice(value: str | None) -> UngroundedPolicy | None:
    """The --ungrounded option, checked."""
    return cast(UngroundedPolicy | None, _choice("--ungrounded", value, UngroundedPolicy))


def strategy_choice(value: str | None) -> Strategy | None:
    """The --strategy option, checked."""
    return cast(Strategy | None, _choice("--strategy", value, Strategy))


def passes_choice(value: str | None) -> RecallPasses | None:
    """The --passes option, checked."""
    return cast(RecallPasses | None, _choice("--passes", value, RecallPasses))


async def _extract(settings: Settings, request: ExtractRequest) -> ExtractResponse:
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        return await Pipeline(backend.llm, settings).extract(request)


@app.command()
def extract(
    file: Annotated[str, typer.Argument(help="Article text file, or - for standard input.")],
    title: Annotated[str | None, typer.Option(help="Headline, if not in the text.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Prompt as name@version.")] = None,
    ungrounded: Annotated[
        str | None,
        typer.Option(help="Grounding policy: flag, drop or reask [NEWSFACTS_UNGROUNDED]."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(help="Also write the article with every fact's span highlighted here."),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help="Extraction strategy: nlp, llm or hybrid [NEWSFACTS_STRATEGY]."),
    ] = None,
) -> None:
    """Extract facts from one article and print the /extract response as JSON."""
    policy = policy_choice(ungrounded)
    settings = cli_settings()
    if strategy is not None:
        settings = settings.model_copy(update={"strategy": strategy_choice(strategy)})
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        request = ExtractRequest(text=text, title=title, prompt=prompt, ungrounded=policy)
        response = asyncio.run(_extract(settings, request))
    except NewsfactsError as exc:
        fail(f"[{exc.code}] {exc.message}")
    except ValueError as exc:
        fail(f"[invalid_request] {exc}")
    typer.echo(response.model_dump_json(indent=2))
    if html is not None:
        from service.api.html_view import write_extraction

        typer.echo(f"html: {write_extraction(response, text, html)}", err=True)


@app.command()
def batch(
    source: Annotated[
        Path, typer.Argument(help="A folder of .txt articles, or a JSONL file of /extract bodies.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="JSONL output; articles already done are skipped. An existing file that is "
            "not this command's output (the input, any other file) is refused, not overwritten."
        ),
    ],
    concurrency: Annotated[int, typer.Option(min=1, help="Articles extracted at once.")] = 1,
    via: Annotated[
        str,
        typer.Option(
            help="local: call the LLM as articles go (default). batch-api: send every call "
            "through the provider's batch engine (OpenAI's Batch API: half the price), poll, "
            "and run the answers through the same pipeline; a killed run resumes its batch."
        ),
    ] = "local",
    batch_id: Annotated[
        str | None,
        typer.Option(
            help="batch-api: also take the answers of this batch (one submitted by a run "
            "whose OUT.batch.json is lost, or elsewhere) instead of paying for them again."
        ),
    ] = None,
) -> None:
    """Extract many articles, one JSON line each; resumable, failures recorded, not fatal."""
    articles = _batch_articles(source, via, batch_id)
    try:
        check_output(out, source)
        todo = len(pending(articles, out))
    except NewsfactsError as exc:
        fail(exc.message, 2)
    settings = cli_settings()
    # The batch's own workers are the queue: none of them should be refused as saturated.
    settings = settings.model_copy(update={"max_queue": max(settings.max_queue, concurrency)})
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)

    async def go(step: Step) -> BatchSummary:
        def on_item(item: BatchItemResult) -> None:
            step("ok" if item.error is None else f"failed ({item.error.code})")

        if via == "batch-api":
            return await _through_batch_api(articles, out, settings, concurrency, batch_id, on_item)
        async with open_backend(settings, uses_model=needs_model(settings)) as backend:
            pipeline = Pipeline(backend.llm, settings)
            return await run_batch(pipeline, articles, out, concurrency, on_item=on_item)

    if via == "local" and not todo:  # all done already: no need to start the model
        summary = BatchSummary(skipped=len(articles))
    else:
        try:
            with steps("extracting", todo) as step:
                summary = asyncio.run(go(step))
        except NewsfactsError as exc:
            typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
            raise typer.Exit(1) from None
    errors = ", ".join(f"{code} {n}" for code, n in sorted(summary.errors.items()))
    typer.echo(
        f"done {summary.done}, failed {summary.failed}{f' ({errors})' if errors else ''}, "
        f"skipped {summary.skipped} already in {out}; tokens {summary.usage.prompt_tokens} "
        f"prompt + {summary.usage.completion_tokens} completion; {summary.wall_s:.1f} s"
    )
    if summary.failed:
        raise typer.Exit(1)


def _batch_articles(source: Path, via: str, batch_id: str | None) -> list[BatchArticle]:
    """The articles `source` holds, with the options checked; exit 2 naming what is wrong."""
    if not source.exists():
        typer.echo(f"error: no such file or folder: {source}", err=True)
        raise typer.Exit(2)
    articles = list(read_articles(source))
    repeated = repeated_ids(articles)
    if repeated:
        lines = [f"  {id_!r}: {', '.join(where)}" for id_, where in sorted(repeated.items())[:20]]
        typer.echo(f"error: {len(repeated)} ids are given to more than one article (a resumed "
                   "run could not tell their rows apart); make them unique:\n"
                   + "\n".join(lines), err=True)  # fmt: skip
        raise typer.Exit(2)
    if via not in ("local", "batch-api"):
        typer.echo("error: --via is local or batch-api", err=True)
        raise typer.Exit(2)
    if batch_id is not None and via != "batch-api":
        typer.echo("error: --batch-id goes with --via batch-api", err=True)
        raise typer.Exit(2)
    return articles


async def _through_batch_api(
    articles: list[BatchArticle], out: Path, settings: Settings, concurrency: int,
    batch_id: str | None, on_item: Callable[[BatchItemResult], None],
) -> BatchSummary:  # fmt: skip
    """The articles' calls through the provider's batch engine, a status line per change."""
    from service.bulk.batch_api import run_via_batch_api
    from service.llm.client import OpenAIBatchProvider

    seen: set[str] = set()

    def on_status(s: Any) -> None:
        if s.status not in seen:  # a line per change, not per poll
            seen.add(s.status)
            typer.echo(f"batch {s.id}: {s.status} ({s.completed}/{s.total})", err=True)

    provider = OpenAIBatchProvider(settings)
    try:
        return await run_via_batch_api(
            articles, out, settings, provider, concurrency=max(concurrency, 8),
            on_item=on_item, on_status=on_status, batch_id=batch_id,
        )  # fmt: skip
    finally:
        await provider.close()


COMMANDS = "newsfacts.commands"  # entry points that add commands (the eval harness's)
HARNESS = ("eval", "gold", "label", "bench")  # what the harness adds, named when it is absent


incidents_app = typer.Typer(help="Incidents across articles: add articles, show incidents.")
app.add_typer(incidents_app, name="incidents")
DbOption = Annotated[
    str | None, typer.Option("--db", help="Store URL [NEWSFACTS_DB_URL]; SQLite file by default.")
]


def _open_store(settings: Settings, db: str | None) -> Any:
    from service.store.store import Store

    try:
        return Store(db or settings.db_url)
    except Exception as exc:  # the database is not there or refuses us
        fail(f"cannot open the store {db or settings.db_url!r}: {type(exc).__name__}: {exc}", 2)


@incidents_app.command("add")
def incidents_add(
    paths: Annotated[list[Path], typer.Argument(help="Folders of .txt articles or JSONL files.")],
    db: DbOption = None,
) -> None:
    """Extract and store articles, regrouping incidents; resumable (stored ones are skipped)."""
    from service.bulk.incidents import add_paths

    settings = cli_settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    store = _open_store(settings, db)
    started: dict[str, Any] = {}

    async def go() -> Any:
        with contextlib.ExitStack() as stack:

            def begin(todo: int) -> None:
                started["step"] = stack.enter_context(steps("adding", todo))

            return await add_paths(paths, store, settings,
                                   lambda _id, note: started["step"](note), begin)  # fmt: skip

    try:
        summary = asyncio.run(go())
    except NewsfactsError as exc:
        fail(f"error [{exc.code}]: {exc.message}")
    finally:
        counts = store.counts()
        store.close()
    for article, why in sorted(summary.failed.items()):
        typer.echo(f"failed {article}: {why}", err=True)
    typer.echo(
        f"added {summary.added}, skipped {summary.skipped} already stored, failed "
        f"{len(summary.failed)}; the store holds {counts['articles']} articles, "
        f"{counts['incidents']} incidents"
    )
    if summary.failed:
        raise typer.Exit(1)


@incidents_app.command("show")
def incidents_show(
    db: DbOption = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML view here.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country (code or name).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Incidents listed.")] = 50,
) -> None:
    """List incidents newest first (a table), or write the HTML view of them all."""
    from service.api.incidents_page import store_page
    from service.store.store import StoreError

    store = _open_store(cli_settings(), db)
    try:
        if html is not None:
            write_atomic(html, store_page(store))
            typer.echo(f"wrote {html}")
            return
        try:
            found = store.incidents(country=country, limit=limit).incidents
        except StoreError as exc:
            fail(str(exc), 2)
        _print_incidents(found)
    finally:
        store.close()


def _print_incidents(found: list[Any]) -> None:
    table = Table("id", "kind", "place", "date", "articles", "killed", "injured", "conflicts")
    for i in found:

        def best(measure: str, i: Any = i) -> str:
            m = i.figures.get(measure)
            return "" if m is None else f"{m.best} ({m.low}-{m.high})"

        place = f"{i.place.name}, {i.place.country}" if i.place else ""
        table.add_row(i.id, i.kind, place, str(i.date.start or ""), str(len(i.articles)),
                      best("killed"), best("injured"), str(len(i.conflicts)))  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def add_registered_commands(app: typer.Typer) -> None:
    """Commands other packages register under the `newsfacts.commands` entry point: the
    eval harness adds `eval`, `gold`, `label` and `bench` this way, so the service never
    imports it. One whose extra is not installed says how to install it when called."""
    for point in entry_points(group=COMMANDS):
        try:
            point.load()(app)
        except ImportError as exc:
            for name in HARNESS:
                add_missing(app, name, str(exc))


def add_missing(app: typer.Typer, name: str, why: str) -> None:
    """A hidden command `name` that says why its package's commands are not there."""

    @app.command(name, hidden=True, context_settings={"allow_extra_args": True,
                                                      "ignore_unknown_options": True})  # fmt: skip
    def missing() -> None:
        typer.echo(f"error: `{name}` commands are not installed: {why}", err=True)
        raise typer.Exit(2)


add_registered_commands(app)
