"""The labelling assistant: draft gold facts from the pipeline's answer for a person to
correct, and how much of a draft survived the correction.

A draft is a gold YAML (format: evals/gold/README.md) that `gold check` accepts as it
stands: every fact the pipeline found, each under a `# draft: check` comment, names with
the other forms the article writes them in as `aliases`, every list present. The person
fixes, deletes and adds facts, deletes the comments, and the folder is a dataset for
`newsfacts eval --dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evals.gold import lines_of, load_case, parse_gold, read_gold_yaml
from evals.gold_files import id_problem, safe_id
from evals.scoring import CaseOutcome, Counts
from schemas.api import ExtractResponse
from schemas.facts import FACT_LISTS
from service.candidates.article import Article

DRAFT_MARK = "# draft: check"


def _block(value: Any, indent: int) -> list[str]:
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=10_000)
    return [" " * indent + line for line in text.rstrip("\n").splitlines()]


def unnamed_articles(articles: list[Path]) -> list[str]:
    """The articles whose file name cannot be a gold id (`<name>.txt` gives the id), each
    with why: the id names the dataset's `<id>.txt`, `<id>.yaml` and cassette files."""
    return [f"{a}: {why}" for a in articles if (why := id_problem(a.stem)) is not None]


def draft_yaml(article_id: str, source: str, response: ExtractResponse, article: Article) -> str:
    """The draft gold YAML of one article from the pipeline's answer (evidence as the
    article writes it, at the offsets the service grounded it to)."""
    safe_id(article_id)
    meta = response.meta
    aliases = {e.name: e.aliases for e in article.entities if e.aliases}
    # evidence as the article writes it (the answer may have straightened a quote mark)
    spans = {g.path: (g.start, g.end) for g in response.grounding if g.start is not None}
    lines = [
        f"# Draft gold facts for {source}, written by `newsfacts label` ({meta.strategy},",
        f"# prompt {meta.prompt}, model {meta.model}). Every fact below is the pipeline's:",
        "# check each one, fix or delete it, add what it missed, then delete the draft lines",
        "# and run `newsfacts gold check` on the folder. Format: evals/gold/README.md.",
        *_block({"article_id": article_id}, 0),
        "metadata:",
        *_block(
            {"draft": {"strategy": meta.strategy, "prompt": meta.prompt, "model": meta.model}}, 2
        ),
        "facts:",
    ]
    for list_name in FACT_LISTS:
        facts = getattr(response.facts, list_name)
        if not facts:
            lines.append(f"  {list_name}: []")
            continue
        lines.append(f"  {list_name}:")
        for i, fact in enumerate(facts):
            data = fact.model_dump(mode="json")
            if f"{list_name}[{i}]" in spans:
                start, end = spans[f"{list_name}[{i}]"]
                data["evidence"] = article.text[start:end]
            if list_name in ("people", "organizations", "locations") and aliases.get(data["name"]):
                data["aliases"] = aliases[data["name"]]
            lines.append(f"    {DRAFT_MARK}")
            lines += _block([data], 4)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Correction:
    """What a person changed in one article's draft, list by list."""

    article_id: str
    counts: dict[str, Counts]  # tp: kept as drafted; fp: deleted or changed; fn: added

    @property
    def total(self) -> Counts:
        """Over every list."""
        total = Counts()
        for counts in self.counts.values():
            total = total + counts
        return total


def correction(draft: Path, corrected: Path, articles_dir: Path) -> Correction:
    """Score a draft against its corrected gold, as a prediction against gold facts."""
    gold = load_case(corrected, articles_dir)
    data, line_of = read_gold_yaml(draft)
    with lines_of(draft, line_of):
        drafted = parse_gold(data, gold.text).facts
    outcome = CaseOutcome.build(gold, drafted)
    return Correction(gold.article_id, {name: outcome.counts(name) for name in FACT_LISTS})
