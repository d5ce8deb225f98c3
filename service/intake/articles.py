"""Articles in: each extracted as `/extract` would, then stored with the incidents it touches.

An article already in the store (same id, or same text without an id) is answered from the
store without extracting it again, so a batch or a folder sent twice changes nothing and a
killed run, started again, goes on where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from schemas.incidents import ArticleIn, ArticleResult
from service.extraction.pipeline import Pipeline
from service.incidents.identity import extract_request, with_outlet
from service.store.store import Store


async def add_article(store: Store, pipeline: Pipeline, article: ArticleIn) -> ArticleResult:
    """One article extracted (unless stored already) and stored."""
    article = with_outlet(article)
    found = await asyncio.to_thread(store.find, article)
    if found is not None:
        return found
    response = await pipeline.extract(extract_request(article))
    return await asyncio.to_thread(store.add, article, response)


async def add_articles(
    store: Store,
    pipeline: Pipeline,
    articles: Sequence[ArticleIn],
    on_article: Callable[[ArticleResult], None] | None = None,
) -> list[ArticleResult]:
    """Each article in turn; the first failure stops the run (what was stored stays)."""
    for article in articles:  # spec failures (too long, bad prompt) before any model call
        pipeline.check(extract_request(article))
    results = []
    for article in articles:
        result = await add_article(store, pipeline, article)
        results.append(result)
        if on_article is not None:
            on_article(result)
    return results
