"""The articles of an incident dataset through the real pipeline, one cassette each."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evals.cassettes import Recording, StaleCassetteError
from evals.runner import Mode, case_cassette, replay_settings
from schemas.api import ExtractResponse
from schemas.incidents import ArticleIn
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import STRATEGIES, needs_model
from service.incidents.identity import article_id, extract_request
from service.llm.backend import open_backend
from service.settings import Settings


@dataclass
class Extracted:
    """One article's extraction: the response, or the error that stopped it."""

    article: ArticleIn
    response: ExtractResponse | None
    error: str | None
    seconds: float


def recording_for(settings: Settings, dataset_option: str) -> Recording:
    """The cassette set the strategy's requests are recorded under."""
    strategy = STRATEGIES[settings.strategy]
    return Recording(strategy.run_prompt(settings), dataset_option=dataset_option)


async def _extract(pipeline: Pipeline, article: ArticleIn) -> Extracted:
    try:
        return Extracted(article, await pipeline.extract(extract_request(article)), None, 0.0)
    except NewsfactsError as exc:
        return Extracted(article, None, f"{exc.code}: {exc.message}", 0.0)


async def extract_all(
    articles: list[ArticleIn],
    settings: Settings,
    mode: Mode,
    cassettes_dir: Path,
    dataset_option: str,
    on_article: Callable[[Extracted], None] | None = None,
) -> list[Extracted]:
    """Each article extracted as `POST /articles` would; a failure is kept, not raised."""
    recording = recording_for(settings, dataset_option)
    if mode is Mode.REPLAY:
        settings = replay_settings(settings)
    done = []
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        pipeline = Pipeline(backend.llm, settings)
        for article in articles:
            started = time.perf_counter()
            try:
                with case_cassette(mode, recording, article_id(article), cassettes_dir):
                    found = await _extract(pipeline, article)
            except StaleCassetteError as exc:  # a failure row: the run goes on, and says so
                found = Extracted(article, None, f"stale cassette: {exc}", 0.0)
            found.seconds = round(time.perf_counter() - started, 2)
            done.append(found)
            if on_article is not None:
                on_article(found)
    return done
