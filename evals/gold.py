"""Gold cases: an article, its hand-labelled facts, their aliases and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from schemas.facts import FACT_LISTS, NewsFacts

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "evals" / "gold"
SEEDS_DIR = ROOT / "seeds"


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
