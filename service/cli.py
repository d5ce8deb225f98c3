"""The `newsfacts` command: serve the API, or extract facts from a file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from schemas.api import ExtractRequest, ExtractResponse
from service.backend import open_backend
from service.errors import NewsfactsError
from service.logs import configure_logging
from service.pipeline import Pipeline
from service.settings import Settings, load_settings

app = typer.Typer(help="Typed, source-grounded facts from news articles.", no_args_is_help=True)


def _settings() -> Settings:
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
    from service.app import create_app

    settings = _settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


async def _extract(settings: Settings, request: ExtractRequest) -> ExtractResponse:
    async with open_backend(settings) as backend:
        return await Pipeline(backend.llm, settings).extract(request)


@app.command()
def extract(
    file: Annotated[str, typer.Argument(help="Article text file, or - for standard input.")],
    title: Annotated[str | None, typer.Option(help="Headline, if not in the text.")] = None,
    prompt: Annotated[str | None, typer.Option(help="Prompt as name@version.")] = None,
) -> None:
    """Extract facts from one article and print the /extract response as JSON."""
    settings = _settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        request = ExtractRequest(text=text, title=title, prompt=prompt)
        response = asyncio.run(_extract(settings, request))
    except NewsfactsError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        typer.echo(f"error [invalid_request]: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(response.model_dump_json(indent=2))
