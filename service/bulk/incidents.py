"""`newsfacts incidents add`: folders of .txt or JSONL files into the store, resumably.

An article already stored is skipped before the model starts; each other one is extracted
and stored in its own transaction, so a killed run, started again, goes on where it stopped
with nothing lost and nothing doubled. A failed article is reported and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from schemas.incidents import ArticleIn
from service.bulk.articles import read_articles
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import needs_model
from service.incidents.identity import with_outlet
from service.intake.articles import add_article
from service.llm.backend import open_backend
from service.settings import Settings
from service.store.store import Store


@dataclass
class AddSummary:
    """What a run did."""

    added: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # article id -> why


def read_inputs(paths: Iterable[Path]) -> tuple[list[ArticleIn], dict[str, str]]:
    """The articles of every folder or JSONL file, and why each unreadable one is not."""
    articles, bad = [], {}
    for path in paths:
        for item in read_articles(path):
            if "_error" in item.body:
                bad[item.id] = f"{item.source}: {item.body['_error']}"
                continue
            try:
                articles.append(ArticleIn.model_validate({**item.body, "id": item.id}))
            except ValidationError as exc:
                problem = exc.errors()[0]
                bad[item.id] = (
                    f"{item.source}: {'.'.join(map(str, problem['loc']))}: {problem['msg']}"
                )
    return articles, bad


async def add_paths(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    on_article: Callable[[str, str], None] | None = None,
    before_start: Callable[[int], None] | None = None,
) -> AddSummary:
    """Every article of `paths` into `store`; `on_article(id, outcome)` after each one."""
    articles, bad = read_inputs(paths)
    summary = AddSummary(failed=dict(bad))
    todo = []
    for article in articles:
        if store.find(with_outlet(article)) is None:
            todo.append(article)
        else:
            summary.skipped += 1
    if before_start is not None:
        before_start(len(todo))
    if not todo:
        return summary
    async with open_backend(settings, uses_model=needs_model(settings)) as backend:
        pipeline = Pipeline(backend.llm, settings)
        for article in todo:
            try:
                result = await add_article(store, pipeline, article)
            except NewsfactsError as exc:
                summary.failed[article.id or "?"] = f"{exc.code}: {exc.message}"
                outcome = f"failed ({exc.code})"
            else:
                summary.added += result.stored
                outcome = f"{len(result.incidents)} incident(s)"
            if on_article is not None:
                on_article(article.id or "?", outcome)
    return summary
