"""Gold cases: an article, its hand-labelled facts, their aliases and metadata."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evals.gold_files import (
    CaseError,
    GoldFileError,
    LineOf,
    case_shape,
    facts_shape,
    load_yaml,
    node_line,
    yaml_problem,
)
from schemas.facts import FACT_LISTS, NewsFacts
from service.candidates.names import COURTESY_TITLES
from service.folding import name_key

# Titles a gold name and a predicted one may differ by: courtesy titles, and ranks.
_TITLES = re.compile(rf"\b(?:{'|'.join((*COURTESY_TITLES, 'president', 'gen', 'col'))})\b")


def checkout_root() -> Path:
    """The checkout whose seeds, gold, cassettes and runs the harness reads: the one it
    runs from (`uv sync`), else the current directory (an installed `newsfacts[eval]` run
    inside a checkout)."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "seeds").is_dir() else Path.cwd()


ROOT = checkout_root()
GOLD_DIR = ROOT / "evals" / "gold"
SEEDS_DIR = ROOT / "seeds"


def normalize_name(name: str) -> str:
    """A name as `name_key` folds it (case, accents, punctuation, spacing), titles dropped."""
    return " ".join(_TITLES.sub(" ", name_key(name)).split())


@dataclass(frozen=True)
class GoldCase:
    """One article with its expected facts (like a pydantic_evals Case)."""

    article_id: str
    text: str
    facts: NewsFacts
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def names_of(self, name: str) -> tuple[str, ...]:
        """A name with every alias recorded for it in this case."""
        return (name, *self.aliases.get(name, ()))


def parse_gold(data: Any, text: str) -> GoldCase:
    """Build a GoldCase from a parsed gold document; aliases are kept apart from the facts.

    CaseError says what is wrong and where (a key path) for a case of the wrong shape or
    types, or a fact that breaks the schema.
    """
    article_id = case_id(data)
    raw = data["facts"]
    bad = facts_shape(raw)
    if bad:
        at, message = bad[0]
        raise CaseError(("facts", *at), message)
    missing = set(FACT_LISTS) - set(raw)
    if missing:
        raise CaseError(("facts",), f"{article_id}: fact lists missing: {sorted(missing)}")
    aliases: dict[str, tuple[str, ...]] = {}
    clean: dict[str, list[dict[str, Any]]] = {}
    for list_name in FACT_LISTS:
        clean[list_name] = []
        for fact in raw[list_name] or []:
            fact = dict(fact)
            names = tuple(fact.pop("aliases", None) or ())
            if names and isinstance(fact.get("name"), str):
                aliases[fact["name"]] = names
            clean[list_name].append(fact)
    try:
        facts = NewsFacts.model_validate(clean)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"]
        field = ".".join(str(p) for p in loc[2:]) or "fact"
        where = f"{loc[0]}[{loc[1]}].{field}" if len(loc) > 1 else str(loc[0])
        raise CaseError(("facts", *loc), f"{where}: {error['msg']}") from None
    return GoldCase(
        article_id=article_id,
        text=text,
        facts=facts,
        aliases=aliases,
        metadata=data.get("metadata") or {},
    )


def case_id(data: Any) -> str:
    """A gold document's article id, once its shape is right (CaseError says what is not)."""
    bad = case_shape(data)
    if bad:
        raise CaseError(*bad[0])
    return str(data["article_id"])


def read_gold_yaml(path: Path) -> tuple[Any, LineOf]:
    """A gold YAML's document and the line of each part of it; GoldFileError names the
    file and line when it does not parse or uses anchors or aliases."""
    source = path.read_text(encoding="utf-8")
    try:
        data, root = load_yaml(source)
    except yaml.YAMLError as exc:
        raise GoldFileError(path, *yaml_problem(exc)) from None
    return data, lambda at: node_line(root, at)


@contextlib.contextmanager
def lines_of(path: Path, line_of: LineOf) -> Iterator[None]:
    """A CaseError raised inside becomes a GoldFileError naming the file and line."""
    try:
        yield
    except CaseError as exc:
        raise GoldFileError(path, line_of(exc.at), exc.message) from None


def load_case(path: Path, seeds_dir: Path = SEEDS_DIR) -> GoldCase:
    """Load one gold YAML and its article (the id checked before it names a file)."""
    data, line_of = read_gold_yaml(path)
    with lines_of(path, line_of):
        article_id = case_id(data)
        text = (seeds_dir / f"{article_id}.txt").read_text(encoding="utf-8")
        return parse_gold(data, text)


def load_gold(gold_dir: Path = GOLD_DIR, seeds_dir: Path = SEEDS_DIR) -> list[GoldCase]:
    """Every gold case, sorted by article id."""
    return [load_case(p, seeds_dir) for p in sorted(gold_dir.glob("*.yaml"))]


ENTITY_LISTS = ("people", "organizations", "locations")


def joined_case(cases: list[GoldCase]) -> GoldCase:
    """One long article made of every case's text, scored against the union of their facts.

    A person, organisation or place named in several articles is one fact (the first one),
    matched when any of its names or aliases coincide; every other fact is kept as it is.
    """
    aliases: dict[str, tuple[str, ...]] = {}
    union: dict[str, list[Any]] = {name: [] for name in FACT_LISTS}
    for list_name in FACT_LISTS:
        owner: dict[str, str] = {}  # normalised name or alias -> the kept fact's name
        for case in cases:
            for fact in getattr(case.facts, list_name):
                if list_name not in ENTITY_LISTS:
                    union[list_name].append(fact)
                    continue
                names = case.names_of(fact.name)
                keys = {normalize_name(n) for n in names}
                kept = next((owner[k] for k in keys if k in owner), None)
                if kept is None:
                    kept = fact.name
                    union[list_name].append(fact)
                merged = {*aliases.get(kept, ()), *names} - {kept}
                aliases[kept] = tuple(sorted(merged))
                owner.update(dict.fromkeys(keys, kept))
    return GoldCase(
        article_id="joined_" + "_".join(c.article_id.split("_")[0] for c in cases),
        text="\n\n".join(c.text for c in cases),
        facts=NewsFacts.model_validate({k: [f.model_dump() for f in v] for k, v in union.items()}),
        aliases={k: v for k, v in aliases.items() if v},
        metadata={"joined": [c.article_id for c in cases]},
    )
