"""JSON Lines: blank lines skipped, each line numbered, a bad line kept with its error."""

from __future__ import annotations

from typing import Any

import pytest

from service.jsonl import json_lines


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"a": 1}', "", "  ", "[2]"], [(1, {"a": 1}, False), (4, [2], False)]),
        (["{oops", "3"], [(1, None, True), (2, 3, False)]),
        ([], []),
    ],
    ids=["blank-lines-skipped", "bad-line-kept", "empty"],
)
def test_json_lines(lines: list[str], expected: list[tuple[int, Any, bool]]) -> None:
    got = [(n, value, error is not None) for n, value, error in json_lines(lines)]
    assert got == expected
