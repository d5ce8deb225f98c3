"""JSON Lines read one line at a time, blank lines skipped, each bad line kept with its
number, so every reader of a JSONL input can name the line that is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any, ValueError | None]]:
    """(1-based line number, parsed value or None, the parse error or None) per non-blank
    line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except ValueError as exc:
            yield number, None, exc
