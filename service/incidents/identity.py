"""Who an incoming article is: its id, its outlet, and the extraction request it makes (the
same for the API, the CLI and the eval, so one cassette replays all three)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from schemas.api import ExtractRequest
from schemas.incidents import ArticleIn


def extract_request(article: ArticleIn) -> ExtractRequest:
    """What `/extract` would be asked for this article."""
    return ExtractRequest(text=article.text, title=article.title, url=article.url)


def article_id(article: ArticleIn) -> str:
    """The article's own id, or the sha256 of its text (24 hex digits) when it has none."""
    return article.id or "sha256-" + text_digest(article.text)[:24]


def text_digest(text: str) -> str:
    """The sha256 of the text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def outlet_of(url: str | None) -> str | None:
    """The news site's host (without "www."), seen through an archive.org copy's address."""
    if not url:
        return None
    inner = url.split("/http", 1)[1] if "web.archive.org" in url and "/http" in url else None
    host = urlsplit("http" + inner if inner else url).hostname or ""
    return host.removeprefix("www.") or None


def with_outlet(article: ArticleIn) -> ArticleIn:
    """The article, its outlet the URL's host when it names none."""
    if article.outlet or not article.url:
        return article
    return article.model_copy(update={"outlet": outlet_of(article.url)})
