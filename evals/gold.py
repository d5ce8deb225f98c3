"""Gold cases: an article, its hand-labelled facts, their aliases and metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from schemas.facts import FACT_LISTS, NewsFacts
from service.candidates.folding import name_key
from service.candidates.names import COURTESY_TITLES

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


def parse_gold(data: dict[str, Any], text: str) -> GoldCase:
    """Build a GoldCase from a parsed YAML document; aliases are kept apart from the facts."""
    raw = data["facts"]
    missing = set(FACT_LISTS) - set(raw)
    if missing:
        raise ValueError(f"{data.get('article_id')}: fact lists missing: {sorted(missing)}")
    aliases: dict[str, tuple[str, ...]] = {}
    clean: dict[str, list[dict[str, Any]]] = {}
    for list_name in FACT_LISTS:
        clean[list_name] = []
        for fact in raw[list_name] or []:
            fact = dict(fact)
            names = tuple(fact.pop("aliases", None) or ())
            if names and "name" in fact:
                aliases[fact["name"]] = names
            clean[list_name].append(fact)
    return GoldCase(
        article_id=data["article_id"],
        text=text,
        facts=NewsFacts.model_validate(clean),
        aliases=aliases,
        metadata=data.get("metadata") or {},
    )


def load_case(path: Path, seeds_dir: Path = SEEDS_DIR) -> GoldCase:
    """Load one gold YAML and its article."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = (seeds_dir / f"{data['article_id']}.txt").read_text(encoding="utf-8")
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
