"""Stability over repeated runs: how often each gold fact is extracted, and the spread of
micro-F1, from N run reports of the same prompt, model and temperature."""

from __future__ import annotations

import statistics
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.run_report import RunReport


def stability(reports: list[RunReport]) -> dict[str, Any]:
    """Per gold fact, the share of runs that extracted it; micro-F1's mean, spread and range."""
    n = len(reports)
    f1s = [r.summary.micro_f1 for r in reports]
    facts: dict[tuple[str, str, int], dict[str, Any]] = {}
    for report in reports:
        for case in report.cases:
            for name, lst in case.lists.items():
                entries = [(1, m.gold_index, m.label) for m in lst.matched]
                entries += [(0, m.gold_index, m.label) for m in lst.missed]
                for hit, index, label in entries:
                    key = (case.article_id, name, index)
                    row = facts.setdefault(
                        key, {"article_id": key[0], "list": name, "label": label, "hits": 0}
                    )
                    row["hits"] += hit
    rows = [{**row, "extracted": round(row["hits"] / n, 4)} for _, row in sorted(facts.items())]
    return {
        "samples": n,
        "prompt": reports[0].prompt if reports else None,
        "model": reports[0].model if reports else None,
        "micro_f1": {
            "values": f1s,
            "mean": round(statistics.fmean(f1s), 4) if f1s else None,
            "stdev": round(statistics.stdev(f1s), 4) if n > 1 else 0.0,
            "min": min(f1s, default=None),
            "max": max(f1s, default=None),
        },
        "always": sum(r["hits"] == n for r in rows),
        "sometimes": sum(0 < r["hits"] < n for r in rows),
        "never": sum(r["hits"] == 0 for r in rows),
        "facts": rows,
    }


def print_stability(result: dict[str, Any], console: Console | None = None) -> None:
    """micro-F1's spread, then every gold fact that some runs extracted and others missed."""
    console = console or Console()
    f1 = result["micro_f1"]
    console.print(
        f"{result['samples']} runs of {result['prompt']} on {result['model']}: micro-F1 mean "
        f"{f1['mean']:.3f}, stdev {f1['stdev']:.3f}, range {f1['min']:.3f} to {f1['max']:.3f}"
    )
    console.print(
        f"gold facts extracted in every run {result['always']}, in some {result['sometimes']}, "
        f"in none {result['never']}"
    )
    unstable = [r for r in result["facts"] if 0 < r["hits"] < result["samples"]]
    if not unstable:
        return
    table = Table(title="Gold facts extracted in some runs only")
    for column in ("article", "list", "fact", "extracted"):
        table.add_column(column)
    for row in unstable:
        table.add_row(row["article_id"][:3], row["list"], row["label"], f"{row['extracted']:.0%}")
    console.print(table)
