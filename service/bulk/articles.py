"""A batch's input: the articles of a folder of `.txt` files or of a JSONL file, each with
the id its output row is keyed by. An input that cannot be read is still an article, whose
body says why (`_error`), so it fails as its own row and the others run."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.jsonl import json_lines


@dataclass(frozen=True)
class BatchArticle:
    """One article of a batch: its id (file name, JSONL `id` or content key), where it came
    from, the body."""

    id: str
    source: str
    body: dict[str, Any]


def printable(name: str | Path) -> str:
    """A file name as text that can be written as UTF-8: bytes that are not UTF-8 (a name
    os.fsdecode could only surrogate-escape) become `\\xNN`; the same name always gives the
    same text, so a rerun finds its rows."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def content_key(value: Any) -> str:
    """An id-less article's id: the first 16 hex digits of the sha256 of its canonical JSON
    (keys sorted, no spaces, non-ASCII escaped), so it does not depend on the line's place."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]


def read_articles(source: Path) -> Iterator[BatchArticle]:
    """Articles from a folder of `.txt` files (id = file stem) or a JSONL file whose lines are
    `/extract` bodies with an optional `id`.

    A JSONL line without an `id` is keyed by its content (content_key; a line that does not
    parse, by its bytes), never by its line number, so adding or removing lines does not
    change which row is whose. Id-less lines with the same content are the same article: the
    first is kept, with its line as the source, and the repeats are left out (one extraction,
    one row). Lines with the same explicit `id` are all kept, for repeated_ids to refuse.
    """
    if source.is_dir():
        yield from _folder_articles(source)
        return
    seen: set[str] = set()
    with source.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            article, by_content = _line_article(raw, f"{printable(source)}:{number}")
            if by_content:
                if article.id in seen:
                    continue
                seen.add(article.id)
            yield article


def _folder_articles(folder: Path) -> Iterator[BatchArticle]:
    """One article per `*.txt` entry of `folder`, in name order; an entry that is not a
    readable UTF-8 file (a name that is not UTF-8, a dangling link, a folder) is one whose
    body says why."""
    for path in sorted(folder.glob("*.txt")):
        id_, where = printable(path.stem), printable(path)
        problem = _unreadable(path)
        if problem is not None:
            yield BatchArticle(id_, where, {"_error": problem})
            continue
        try:
            body = {"text": path.read_bytes().decode("utf-8")}
        except UnicodeDecodeError as exc:
            body = {"_error": f"file is not UTF-8: {exc}"}
        except OSError as exc:
            body = {"_error": f"the file cannot be read ({exc.strerror}); check its permissions"}
        yield BatchArticle(id_, where, body)


def _unreadable(path: Path) -> str | None:
    """Why the folder entry `path` cannot be an article's text, or None when it can."""
    if printable(path.name) != path.name:
        return "the file name is not UTF-8 (its bytes are shown as \\xNN); rename the file"
    if path.is_symlink() and not path.exists():
        return "a symbolic link to nothing (its target is missing); fix or remove the link"
    if path.is_dir():
        return "a folder, not a file; rename it so that its name does not end in .txt"
    if not path.is_file():
        return "not a regular file; batch reads plain .txt files"
    return None


def _line_article(raw: bytes, where: str) -> tuple[BatchArticle, bool]:
    """The article a non-blank JSONL line holds, and whether its id is a content key."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BatchArticle(_bytes_key(raw), where, {"_error": f"line is not UTF-8: {exc}"}), True
    [(_, body, error)] = json_lines([line])
    if error is not None:
        return BatchArticle(_bytes_key(raw), where, {"_error": f"line is not JSON: {error}"}), True
    if not isinstance(body, dict):
        return BatchArticle(_bytes_key(raw), where, {"_error": "line is not a JSON object"}), True
    given = body.pop("id", None)
    if given is None:
        return BatchArticle(content_key(body), where, body), True
    return BatchArticle(str(given), where, body), False


def _bytes_key(raw: bytes) -> str:
    """A line that does not parse, keyed by its bytes (surrounding blanks aside)."""
    return hashlib.sha256(raw.strip()).hexdigest()[:16]


def repeated_ids(articles: list[BatchArticle]) -> dict[str, list[str]]:
    """Ids more than one article carries, with where each came from: a run refuses them,
    since a resumed run could not tell their rows apart."""
    where: dict[str, list[str]] = {}
    for article in articles:
        where.setdefault(article.id, []).append(article.source)
    return {id_: sources for id_, sources in where.items() if len(sources) > 1}
