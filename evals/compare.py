"""Two eval runs side by side: per list, per fact (gained and lost), and what each cost."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from evals.report import counts_of, field_counts_of, report_name
from evals.run_report import CaseReport, RunReport
from schemas.facts import FACT_LISTS


def _matched(case: CaseReport, list_name: str) -> dict[int, str]:
    return {m.gold_index: m.label for m in case.lists[list_name].matched}


def _right_fields(case: CaseReport, list_name: str) -> dict[int, set[str]]:
    return {
        m.gold_index: {f for f, v in m.fields.items() if v == "agree"}
        for m in case.lists[list_name].matched
    }


def _field_changes(case_a: CaseReport, case_b: CaseReport, name: str) -> dict[str, list[str]]:
    """Fields of gold facts both runs matched that B got right and A did not, and back."""
    fa, fb = _right_fields(case_a, name), _right_fields(case_b, name)
    labels = _matched(case_b, name)
    both = sorted(set(fa) & set(fb))
    return {
        "fields_gained": [f"{labels[i]}: {f}" for i in both for f in sorted(fb[i] - fa[i])],
        "fields_lost": [f"{labels[i]}: {f}" for i in both for f in sorted(fa[i] - fb[i])],
    }


def _spurious(case: CaseReport, list_name: str) -> list[str]:
    return [m.label for m in case.lists[list_name].spurious]


CHANGE_KEYS = (
    "gained", "lost", "new_spurious", "fixed_spurious", "fields_gained", "fields_lost",
)  # fmt: skip


def _delta(value: float) -> str:
    colour = "green" if value > 0 else "red" if value < 0 else ""
    return f"[{colour}]{value:+.2f}[/{colour}]" if colour else f"{value:+.2f}"


class DifferentDatasetsError(ValueError):
    """Two runs of different datasets: their scores are of different articles."""


def compare_reports(a: RunReport, b: RunReport) -> dict[str, Any]:
    """What B gained and lost against A, list by list and gold fact by gold fact.

    Runs of two datasets are refused: DifferentDatasetsError.
    """
    named = a.dataset, b.dataset
    if named[0] != named[1]:
        raise DifferentDatasetsError(
            f"A is a run of dataset {named[0]!r}, B of {named[1]!r}: their scores are of "
            "different articles; compare two runs of one dataset"
        )
    per_list = {}
    for name in FACT_LISTS:
        ca, cb = counts_of(a, name), counts_of(b, name)
        fa, fb = field_counts_of(a, name), field_counts_of(b, name)
        per_list[name] = {
            "a": ca.as_dict(), "b": cb.as_dict(), "delta_f1": round(cb.f1 - ca.f1, 4),
            "fields_a": fa.as_dict(), "fields_b": fb.as_dict(),
            "delta_field_f1": round(fb.f1 - fa.f1, 4),
        }  # fmt: skip
    facts = []
    cases_b = {c.article_id: c for c in b.cases}
    for case_a in a.cases:
        case_b = cases_b.get(case_a.article_id)
        if case_b is None:
            continue
        for name in FACT_LISTS:
            ma, mb = _matched(case_a, name), _matched(case_b, name)
            sa, sb = _spurious(case_a, name), _spurious(case_b, name)
            change = {
                "article_id": case_a.article_id,
                "list": name,
                "gained": [mb[i] for i in sorted(set(mb) - set(ma))],
                "lost": [ma[i] for i in sorted(set(ma) - set(mb))],
                "new_spurious": [x for x in sb if x not in sa],
                "fixed_spurious": [x for x in sa if x not in sb],
                **_field_changes(case_a, case_b, name),
            }
            if any(change[k] for k in CHANGE_KEYS):
                facts.append(change)
    cost = {side: _cost(r) for side, r in (("a", a), ("b", b))}
    return {"per_list": per_list, "facts": facts, "cost": cost}


def _cost(r: RunReport) -> dict[str, Any]:
    """What a run scored and spent, as the comparison's cost table gives it."""
    s = r.summary
    return {
        "prompt": r.prompt,
        "model": r.model,
        "run": report_name(r),  # prompt, passes, policy, model and variant
        "micro_f1": s.micro_f1,
        "field_f1": s.field_f1 if s.field_f1 is not None else 0.0,
        "slot_f1": s.slot_f1 if s.slot_f1 is not None else 0.0,
        "prompt_tokens": s.tokens.prompt,
        "completion_tokens": s.tokens.completion,
        "llm_s": round(s.latency_ms / 1000, 1),
    }


def print_comparison(cmp: dict[str, Any], console: Console | None = None) -> None:
    """The comparison as terminal tables."""
    console = console or Console()
    a, b = cmp["cost"]["a"], cmp["cost"]["b"]
    console.print(f"A = {a['run']}\nB = {b['run']}")
    table = Table()
    columns = ("list", "P A", "P B", "R A", "R B", "F1 A", "F1 B", "ΔF1",
               "field F1 A", "field F1 B", "Δfield F1")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "list" else "right")
    for name, row in cmp["per_list"].items():
        ra, rb = row["a"], row["b"]
        table.add_row(
            name, f"{ra['precision']:.2f}", f"{rb['precision']:.2f}", f"{ra['recall']:.2f}",
            f"{rb['recall']:.2f}", f"{ra['f1']:.2f}", f"{rb['f1']:.2f}", _delta(row["delta_f1"]),
            f"{row['fields_a']['f1']:.2f}", f"{row['fields_b']['f1']:.2f}",
            _delta(row["delta_field_f1"]),
        )  # fmt: skip
    console.print(table)
    cost = Table(title="cost")
    for column in ("run", "micro-F1", "field F1", "slot F1", "prompt tokens",
                   "completion tokens", "LLM time (s)"):  # fmt: skip
        cost.add_column(column, justify="left" if column == "run" else "right")
    for side, row in (("A", a), ("B", b)):
        cost.add_row(side, f"{row['micro_f1']:.3f}", f"{row['field_f1']:.3f}",
                     f"{row['slot_f1']:.3f}", str(row["prompt_tokens"]),
                     str(row["completion_tokens"]), f"{row['llm_s']:.1f}")  # fmt: skip
    console.print(cost)
    for change in cmp["facts"]:
        console.print(f"[bold]{change['article_id']} {change['list']}[/bold]")
        for label in change["gained"]:
            console.print(f"  [green]+ {label}[/green]")
        for label in change["lost"]:
            console.print(f"  [red]- {label}[/red]")
        for label in change["new_spurious"]:
            console.print(f"  [yellow]! new spurious: {label}[/yellow]")
        for label in change["fixed_spurious"]:
            console.print(f"  [cyan]✓ no longer spurious: {label}[/cyan]")
        for label in change["fields_gained"]:
            console.print(f"  [green]+ field {label}[/green]")
        for label in change["fields_lost"]:
            console.print(f"  [red]- field {label}[/red]")
