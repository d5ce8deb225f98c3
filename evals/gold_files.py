"""Reading gold safely: ids that are plain file names, YAML without aliases, and the shape
of a gold case checked before anything is built from it, each problem named by where it is.

An article id becomes a file name (`<id>.txt`, `<id>.yaml`, a cassette's `<id>.json`), so
it must be a plain name: `../elsewhere/private` or `/etc/x` would read or write outside the
dataset. YAML anchors and aliases let a 1 KB file stand for billions of nodes; gold never
needs them, so the loader refuses them, and nesting deeper than any gold case goes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a file name, no path
MAX_DEPTH = 16  # a gold case nests five deep (facts, list, fact, aliases, name)

KeyPath = tuple[str | int, ...]  # where in a gold document: ("facts", "people", 0, "name")
LineOf = Callable[[KeyPath], int]


class UnsafeIdError(ValueError):
    """An id that is not a plain file name."""


class CaseError(ValueError):
    """A gold case of the wrong shape: what is wrong, and where in the document."""

    def __init__(self, at: KeyPath, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


class GoldFileError(ValueError):
    """A gold file that cannot be read, with the file and line to fix."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class RefusedYAMLError(yaml.MarkedYAMLError):
    """YAML the gold loader does not accept (an alias or anchor, too deep a nesting)."""


def id_problem(value: object) -> str | None:
    """Why `value` cannot be an article id (a plain file name), or None when it can."""
    if not isinstance(value, str):
        return f"{value!r} is not a string: write the id in quotes"
    if not SAFE_ID.fullmatch(value):
        return (
            f"{value!r} is not a plain name (letters, digits, '.', '_', '-', starting with a "
            "letter or digit; at most 128): ids name the article, cassette and report files"
        )
    return None


def safe_id(value: object) -> str:
    """`value` as an article id; UnsafeIdError when it is not a plain file name."""
    problem = id_problem(value)
    if problem is not None:
        raise UnsafeIdError(f"id {problem}")
    assert isinstance(value, str)
    return value


class GoldLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases and bounding the nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """One node, refused when it is an alias, carries an anchor or nests too deep."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise RefusedYAMLError(
                problem="anchors and aliases (&name, *name, <<) are not allowed in gold: "
                "write each value out",
                problem_mark=event.start_mark,
            )
        if self._depth >= MAX_DEPTH:
            raise RefusedYAMLError(
                problem=f"nested deeper than {MAX_DEPTH} levels: not a gold case",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(source: str) -> tuple[Any, yaml.Node | None]:
    """A YAML document (no anchors, aliases or deep nesting) and its node tree, for lines.

    yaml.YAMLError when it does not parse or is refused (a MarkedYAMLError says where).
    """
    loader = GoldLoader(source)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()


def yaml_problem(exc: yaml.YAMLError) -> tuple[int, str]:
    """(1-based line, or 0 when unknown; what is wrong) of a YAML error or refusal."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = str(getattr(exc, "problem", None) or exc)
    return line, problem if isinstance(exc, RefusedYAMLError) else f"YAML does not parse: {problem}"


def node_line(root: yaml.Node | None, at: KeyPath) -> int:
    """The 1-based line of the part of a document at `at` (a mapping entry's key line), or
    of the deepest part of it that exists; 1 without a node tree."""
    line = root.start_mark.line + 1 if root is not None else 1
    node = root
    for step in at:
        if isinstance(node, yaml.MappingNode):
            entry = next((kv for kv in node.value if kv[0].value == step), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                break
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def jsonl_document(row: dict[str, Any]) -> dict[str, Any]:
    """The gold document a JSONL dataset line stands for (a JSON number id is its digits)."""
    given = row.get("id")
    article_id = str(given) if type(given) is int else given
    return {"article_id": article_id, "facts": row.get("gold"), "metadata": row.get("metadata")}


def case_shape(data: Any) -> list[tuple[KeyPath, str]]:
    """What is wrong with the top of a gold case: not a mapping, article_id missing or not
    a plain name, facts missing or not a mapping, metadata not a mapping."""
    if not isinstance(data, dict):
        return [((), "not a gold case: a mapping with article_id and facts")]
    problems: list[tuple[KeyPath, str]] = []
    if "article_id" not in data:
        problems.append(((), "not a gold case: article_id missing"))
    elif (why := id_problem(data["article_id"])) is not None:
        problems.append((("article_id",), f"article_id {why}"))
    if "facts" not in data:
        problems.append(((), "not a gold case: facts missing"))
    elif not isinstance(data["facts"], dict):
        problems.append((("facts",), _not("facts", data["facts"], "a mapping of fact lists")))
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        problems.append((("metadata",), _not("metadata", data["metadata"], "a mapping")))
    return problems


def facts_shape(facts: dict[Any, Any]) -> list[tuple[KeyPath, str]]:
    """What is wrong with the types inside `facts` (paths relative to it): a list that is
    not a list, a fact that is not a mapping, aliases that are not a list of names."""
    problems: list[tuple[KeyPath, str]] = []
    for list_name, items in facts.items():
        if items is None:
            continue
        if not isinstance(items, list):
            why = _not(str(list_name), items, "a list of facts (write [] if none)")
            problems.append(((list_name,), why))
            continue
        for i, fact in enumerate(items):
            where = f"{list_name}[{i}]"
            if not isinstance(fact, dict):
                problems.append(((list_name, i), f"{where}: not a mapping of fields"))
                continue
            aliases = fact.get("aliases")
            if aliases is not None and (
                not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases)
            ):
                why = _not(f"{where}.aliases", aliases, "a list of names")
                problems.append(((list_name, i, "aliases"), why))
    return problems


def _not(where: str, value: Any, wanted: str) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{where}: must be {wanted}, not {shown}"
