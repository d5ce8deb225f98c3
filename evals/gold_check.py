"""`newsfacts gold check DIR`: validate a gold set before it scores anything.

Each problem is one `file:line: message` line: a YAML that does not parse, is not UTF-8 or
uses anchors and aliases, an article id that is not a plain file name, a part of the wrong
type (a fact list that is not a list, a fact that is not a mapping), an article file
missing, a fact list missing, a fact that breaks the schema (unknown field, a value outside
its enumeration), evidence or quote text that is not the article's own words, a number the
evidence does not state, and a fact given twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evals.gold_files import (
    KeyPath,
    LineOf,
    case_shape,
    facts_shape,
    id_problem,
    jsonl_document,
    load_yaml,
    node_line,
    yaml_problem,
)
from schemas.facts import FACT_LISTS, NewsFacts
from service.extraction.grounding import align, stated_numbers
from service.jsonl import json_lines
from service.numbers import is_stated

_ENTITY_LISTS = ("people", "organizations", "locations")
_ONE = frozenset({"a", "an", "one", "single", "lone"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a gold file, where it is."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        problems.append(Problem(path, 0, "file missing"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, 0, f"not UTF-8 (byte {exc.start}: {exc.reason})"))
    return None


def _identity(list_name: str, fact: dict[str, Any]) -> Any:
    """What makes two facts of a list the same fact (a name for entities, else every
    field but the evidence)."""
    if list_name in _ENTITY_LISTS:
        return str(fact.get("name", "")).casefold()
    return tuple(sorted((k, repr(v)) for k, v in fact.items() if k not in ("evidence", "aliases")))


def _states(value: float, evidence: str) -> bool:
    """Whether the evidence states the number; "a toddler" states one."""
    words = set(evidence.casefold().split())
    return is_stated(value, evidence) or (value == 1 and bool(words & _ONE))


def check_file(path: Path, articles_dir: Path) -> list[Problem]:
    """Every problem of one gold YAML (against its article in `articles_dir`)."""
    problems: list[Problem] = []
    source = _read_text(path, problems)
    if source is None:
        return problems
    try:
        data, root = load_yaml(source)
    except yaml.YAMLError as exc:
        problems.append(Problem(path, *yaml_problem(exc)))
        return problems

    def line_of(at: KeyPath) -> int:
        return node_line(root, at)

    problems += [Problem(path, line_of(at), message) for at, message in case_shape(data)]
    facts = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(facts, dict):
        return problems
    text = None
    article_id = data.get("article_id")
    if id_problem(article_id) is None:  # only a plain name may name the article's file
        if article_id != path.stem:
            why = f"article_id {article_id!r} is not the file's name"
            problems.append(Problem(path, line_of(("article_id",)), why))
        text = _read_text(articles_dir / f"{article_id}.txt", problems)
    return problems + check_facts(path, facts, text, line_of)


def check_facts(
    path: Path, raw: dict[Any, Any], text: str | None, line_of: LineOf
) -> list[Problem]:
    """Every problem of one case's fact lists (`line_of(key path)` says where a part is:
    ("facts", "people", 0) is the first person)."""
    shape = facts_shape(raw)
    problems = [Problem(path, line_of(("facts", *at)), message) for at, message in shape]
    broken = {at[:2] for at, _ in shape}  # a list that is not one, a fact that cannot be read
    for list_name in FACT_LISTS:
        if list_name not in raw:
            problems.append(
                Problem(
                    path, line_of(("facts",)), f"fact list missing: {list_name} (write [] if none)"
                )
            )
    for list_name, facts in raw.items():
        if list_name not in FACT_LISTS:
            problems.append(
                Problem(path, line_of(("facts", list_name)), f"unknown fact list: {list_name}")
            )
            continue
        if (list_name,) in broken:
            continue
        seen: dict[Any, int] = {}
        for i, fact in enumerate(facts or []):
            if (list_name, i) in broken:
                continue
            at = ("facts", list_name, i)
            problems += _check_fact(path, at, line_of, list_name, fact, text)
            key = _identity(list_name, fact)
            if key in seen:
                problems.append(
                    Problem(
                        path, line_of(at), f"{list_name}[{i}]: repeats {list_name}[{seen[key]}]"
                    )
                )
            seen.setdefault(key, i)
    return problems


def row_problem(row: Any) -> str | None:
    """What is wrong with the shape of a JSONL dataset line, or None."""
    if not isinstance(row, dict) or not {"id", "text", "gold"} <= set(row):
        return "a line needs id, text and gold"
    if not isinstance(row["gold"], dict) or not isinstance(row["text"], str):
        return "gold must be the fact lists, text a string"
    return None


def check_jsonl(path: Path) -> tuple[int, list[Problem]]:
    """(number of cases, every problem) for a JSONL dataset of {id, text, gold} lines."""
    problems: list[Problem] = []
    source = _read_text(path, problems)
    if source is None:
        return 0, problems
    count = 0
    seen: dict[str, int] = {}
    for number, row, error in json_lines(source.splitlines()):
        count += 1
        if error is not None:
            problems.append(Problem(path, number, f"not JSON: {error}"))
            continue
        shape = row_problem(row)
        if shape is not None:
            problems.append(Problem(path, number, shape))
            continue
        data = jsonl_document(row)
        article_id = data["article_id"]
        why = id_problem(article_id)
        if why is not None:
            problems.append(Problem(path, number, f"id {why}"))
        elif article_id in seen:
            problems.append(
                Problem(path, number, f"id {article_id!r} repeats line {seen[article_id]}")
            )
        else:
            seen[article_id] = number
        top = [m for at, m in case_shape(data) if at != ("article_id",)]  # the id: above
        problems += [Problem(path, number, message) for message in top]
        problems += check_facts(path, row["gold"], row["text"], lambda _at, n=number: n)
    return count, problems


def _check_fact(
    path: Path,
    at: KeyPath,
    line_of: LineOf,
    list_name: str,
    fact: dict[str, Any],
    text: str | None,
) -> list[Problem]:
    problems: list[Problem] = []
    line, where = line_of(at), f"{list_name}[{at[-1]}]"
    fields = {k: v for k, v in fact.items() if k != "aliases"}
    try:
        model = NewsFacts.model_validate({list_name: [fields]})
    except ValidationError as exc:
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"][2:]) or "fact"
            field_line = line_of((*at, *error["loc"][2:3]))
            problems.append(Problem(path, field_line, f"{where}.{loc}: {error['msg']}"))
        return problems
    if text is None:
        return problems
    parsed = getattr(model, list_name)[0]
    evidence = parsed.evidence
    if evidence not in text:
        problems.append(Problem(path, line, f"{where}: evidence not in the article: {evidence!r}"))
    elif any(not _states(v, evidence) for v in stated_numbers(parsed)):
        numbers = ", ".join(f"{v:g}" for v in stated_numbers(parsed))
        problems.append(Problem(path, line, f"{where}: the evidence does not state {numbers}"))
    if list_name == "quotes" and align(parsed.text, text)[2] not in ("exact", "normalized"):
        problems.append(Problem(path, line, f"{where}: quote text not in the article"))
    return problems


def check_dir(gold_dir: Path, articles_dir: Path | None = None) -> tuple[int, list[Problem]]:
    """(number of gold files, every problem) for a folder of <id>.yaml gold files, or for a
    JSONL dataset when `gold_dir` is a .jsonl file."""
    if gold_dir.suffix == ".jsonl" and gold_dir.is_file():
        return check_jsonl(gold_dir)
    files = sorted(gold_dir.glob("*.yaml"))
    problems: list[Problem] = []
    for path in files:
        problems += check_file(path, articles_dir or gold_dir)
    return len(files), problems
