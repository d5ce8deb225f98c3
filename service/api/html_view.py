"""An HTML page of one extraction: the article with each fact's span highlighted by list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from schemas.api import ExtractResponse
from schemas.facts import FACT_LISTS
from service.extraction.grounding import iter_facts
from service.files import write_atomic

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

Span = tuple[int, int, str, str]  # start, end, fact list, label shown on hover


def segments(text: str, spans: list[Span]) -> list[dict[str, Any]]:
    """Split text into runs, each with the (list, label) of every fact whose span covers it."""
    cover: list[list[tuple[str, str]]] = [[] for _ in text]
    for start, end, list_name, label in spans:
        for i in range(start, end):
            cover[i].append((list_name, label))
    runs: list[dict[str, Any]] = []
    for i, char in enumerate(text):
        if runs and runs[-1]["facts"] == cover[i]:
            runs[-1]["text"] += char
        else:
            runs.append({"text": char, "facts": cover[i]})
    return runs


def render_extraction(response: ExtractResponse, text: str) -> str:
    """The page for one /extract response over the text it was extracted from."""
    facts = dict(iter_facts(response.facts))
    spans: list[Span] = []
    grounded, ungrounded = [], []
    for entry in response.grounding:
        list_name = entry.path.partition("[")[0]
        row = {
            **entry.model_dump(),
            "list": list_name,
            "fact": facts[entry.path].model_dump_json(exclude_none=True),
        }
        (ungrounded if entry.checks or entry.match == "none" else grounded).append(row)
        if entry.start is not None and entry.end is not None:
            label = entry.path + (f" ({', '.join(entry.checks)})" if entry.checks else "")
            spans.append((entry.start, entry.end, list_name, label))
    return templates.get_template("extract.html.j2").render(
        response=response.model_dump(),
        segments=segments(text, spans),
        grounded=grounded,
        ungrounded=ungrounded,
        lists=FACT_LISTS,
    )


def write_extraction(response: ExtractResponse, text: str, path: Path) -> Path:
    """Write the page for one extraction to path."""
    return write_atomic(path, render_extraction(response, text))
