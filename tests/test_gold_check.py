"""`newsfacts gold check`: each kind of gold error caught, named by file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from evals.gold_check import check_dir
from service.cli import app

ARTICLE = (
    "Floods hit Sindh\n\n"
    "At least 12 people were killed and 3,000 families fled, officials said.\n\n"
    "\u201cWe lost everything,\u201d said Amina Bibi, a farmer."
)
LISTS = ("people", "organizations", "locations", "negotiations", "casualties", "displacement",
         "attacks", "figures", "quotes")  # fmt: skip
GOOD = {
    "people": '    - {name: Amina Bibi, role: farmer, evidence: "Amina Bibi, a farmer"}',
    "locations": "    - {name: Sindh, kind: region, evidence: Sindh}",
    "casualties": "    - {count: 12, approximate: true, outcome: killed, evidence: "
    "At least 12 people were killed}",
    "quotes": '    - {speaker: Amina Bibi, text: "We lost everything,", evidence: "We lost'
    ' everything,"}',
}


def _gold(lists: dict[str, str], skip: str | None = None) -> str:
    lines = ["article_id: floods", "facts:"]
    for name in LISTS:
        if name == skip:
            continue
        body = lists.get(name)
        lines += [f"  {name}:", body] if body else [f"  {name}: []"]
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, gold: str | bytes, article: bool = True) -> Path:
    path = tmp_path / "floods.yaml"
    if isinstance(gold, bytes):
        path.write_bytes(gold)
    else:
        path.write_text(gold, encoding="utf-8")
    if article:
        (tmp_path / "floods.txt").write_text(ARTICLE, encoding="utf-8")
    return path


def test_a_good_gold_set_has_no_problem(tmp_path: Path) -> None:
    _write(tmp_path, _gold(GOOD))
    assert check_dir(tmp_path) == (1, [])


@pytest.mark.parametrize(
    ("lists", "line", "message"),
    [
        # a value outside its enumeration
        (
            {**GOOD, "casualties": "    - {count: 12, outcome: vanished, evidence: 12 people}"},
            10,
            "casualties[0].outcome: Input should be",
        ),
        # an unknown field
        (
            {**GOOD, "locations": "    - {name: Sindh, colour: red, evidence: Sindh}"},
            7,
            "locations[0].colour: Extra inputs are not permitted",
        ),
        # evidence that is not the article's words
        (
            {**GOOD, "locations": "    - {name: Sindh, evidence: Sindh province}"},
            7,
            "locations[0]: evidence not in the article",
        ),
        # a number the evidence does not state
        (
            {
                **GOOD,
                "casualties": "    - {count: 15, outcome: killed, evidence: "
                "At least 12 people were killed}",
            },
            10,
            "casualties[0]: the evidence does not state 15",
        ),
        # quote text that is not in the article
        (
            {
                **GOOD,
                "quotes": '    - {speaker: Amina Bibi, text: "We lost it all,", evidence:'
                ' "We lost everything,"}',
            },
            15,
            "quotes[0]: quote text not in the article",
        ),
    ],
)
def test_each_error_is_named_with_its_line(
    tmp_path: Path, lists: dict[str, str], line: int, message: str
) -> None:
    path = _write(tmp_path, _gold(lists))
    _, problems = check_dir(tmp_path)
    assert [(p.path, p.line) for p in problems] == [(path, line)], problems
    assert message in problems[0].message


def test_a_repeated_fact_and_a_missing_list(tmp_path: Path) -> None:
    twice = GOOD["locations"] + "\n" + GOOD["locations"]
    _write(tmp_path, _gold({**GOOD, "locations": twice}, skip="figures"))
    _, problems = check_dir(tmp_path)
    assert [p.message for p in problems] == [
        "fact list missing: figures (write [] if none)",
        "locations[1]: repeats locations[0]",
    ]
    assert problems[1].line == 8


@pytest.mark.parametrize(
    ("gold", "article", "message"),
    [
        ("article_id: floods\nfacts: {people: [\n", True, "YAML does not parse"),
        (_gold(GOOD), False, "file missing"),
        (_gold(GOOD).replace("Bibi", "B\xefbi").encode("latin-1"), True, "not UTF-8"),
        ("- just\n- a list\n", True, "not a gold case"),
    ],
)
def test_bad_files_are_named_never_a_traceback(
    tmp_path: Path, gold: str | bytes, article: bool, message: str
) -> None:
    _write(tmp_path, gold, article=article)
    result = CliRunner().invoke(app, ["gold", "check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "floods." in result.output  # the file is named


def test_the_cli_says_ok_and_exits_zero(tmp_path: Path) -> None:
    _write(tmp_path, _gold(GOOD))
    result = CliRunner().invoke(app, ["gold", "check", str(tmp_path)])
    assert result.exit_code == 0 and "ok: 1 gold files" in result.output


def test_the_seeds_gold_is_clean() -> None:
    from evals.gold import GOLD_DIR, SEEDS_DIR

    count, problems = check_dir(GOLD_DIR, SEEDS_DIR)
    assert count == 3 and problems == []


def _jsonl_row(lists: dict[str, str], **fields: Any) -> str:
    """One JSONL line: the YAML gold's facts (parsed) as `gold`, the article as `text`."""
    facts = yaml.safe_load(_gold(lists))["facts"]
    return json.dumps({"id": "floods", "text": ARTICLE, "gold": facts} | fields)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([_jsonl_row(GOOD)], []),
        (
            ["{oops"],
            [
                "2: not JSON: Expecting property name enclosed in double quotes: "
                "line 1 column 2 (char 1)"
            ],
        ),
        ([json.dumps({"id": "a", "text": ARTICLE})], ["2: a line needs id, text and gold"]),
        ([_jsonl_row(GOOD), _jsonl_row(GOOD)], ["3: id 'floods' repeats line 2"]),
        (
            [
                _jsonl_row(
                    {**GOOD, "locations": "    - {name: Sindh, kind: region, evidence: Punjab}"}
                )
            ],
            ["2: locations[0]: evidence not in the article: 'Punjab'"],
        ),
        ([_jsonl_row(GOOD, gold=[])], ["2: gold must be the fact lists, text a string"]),
    ],
    ids=["good", "not-json", "no-gold", "repeated-id", "evidence", "gold-not-lists"],
)
def test_a_jsonl_dataset_is_checked_line_by_line(
    tmp_path: Path, lines: list[str], expected: list[str]
) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n" + "\n".join(lines) + "\n", encoding="utf-8")  # line 1 is blank
    count, problems = check_dir(path)
    assert count == len(lines)
    assert [str(p).removeprefix(f"{path}:") for p in problems] == expected
