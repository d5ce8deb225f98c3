"""Eval reports: a JSON document, a terminal table and an HTML page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from evals.datasets import SEEDS, Dataset
from evals.matching import ListMatch
from evals.run_report import (
    CaseReport,
    CountsReport,
    ListOutcome,
    MatchedFact,
    MissedFact,
    RunReport,
    ScoreReport,
    SpuriousFact,
    Summary,
    TokensReport,
)
from evals.runner import EvalRun
from evals.scoring import CaseOutcome, Counts, RunSummary, evaluate_case, summarize
from schemas.facts import FACT_LISTS
from service.api.html_view import TEMPLATES_DIR as VIEW_TEMPLATES_DIR
from service.api.html_view import segments
from service.extraction.grounding import align
from service.extraction.strategies import STRATEGIES
from service.files import write_atomic
from service.settings import Settings

RUNS_DIR = SEEDS.runs_dir  # recorded runs, committed: the prompt-iteration path
REPORTS_DIR = SEEDS.reports_dir  # replays and live runs, not committed
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader([Path(__file__).parent / "templates", VIEW_TEMPLATES_DIR]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def fact_label(list_name: str, fact: BaseModel) -> str:
    """A short human label for a fact, e.g. 'killed 2000 civilians' or 'Podolyak: To our…'."""
    d = fact.model_dump()
    if list_name in ("people", "organizations", "locations"):
        return str(d["name"])
    if list_name == "casualties":
        return f"{d['count']:,} {d['outcome']} ({d['population'] or 'people'})"
    if list_name == "displacement":
        return f"{d['count']:,} {d['movement']}"
    if list_name == "attacks":
        return f"{d['target_type']}: {d['target']}"
    if list_name == "negotiations":
        return f"{' / '.join(d['parties'])} round {d['round']} at {d['venue']}"
    if list_name == "figures":
        return f"{d['value']:,g} {d['unit'] or ''} ({d['what']})"
    text = d["text"] if len(d["text"]) <= 60 else d["text"][:57] + "…"
    return f"{d['speaker']}: {text}"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _list_outcome(o: CaseOutcome, name: str, m: ListMatch) -> ListOutcome:
    g, p = getattr(o.case.facts, name), getattr(o.predicted, name) if o.predicted else []
    return ListOutcome(
        counts=CountsReport.of(o.counts(name)),
        matched=[
            MatchedFact(gold_index=x.gold, label=fact_label(name, g[x.gold]),
                        gold=g[x.gold].model_dump(), pred=p[x.pred].model_dump(),
                        fields=x.fields)
            for x in m.pairs
        ],
        missed=[MissedFact(gold_index=i, label=fact_label(name, g[i]), gold=g[i].model_dump())
                for i in m.missed],
        spurious=[SpuriousFact(label=fact_label(name, p[j]), pred=p[j].model_dump())
                  for j in m.spurious],
    )  # fmt: skip


def case_report(o: CaseOutcome) -> CaseReport:
    """One case as the report gives it: error, meta, usage, scores and every list."""
    return CaseReport(
        article_id=o.case.article_id,
        error=o.error,
        meta=o.meta,
        usage=o.usage,
        scores=[
            ScoreReport(name=s.name, value=_rate(s.value), reason=s.reason)
            for s in evaluate_case(o)
        ],
        lists={name: _list_outcome(o, name, m) for name, m in o.matches.items()},
    )


def _policies(run: EvalRun, raw: RunSummary) -> dict[str, CountsReport]:
    """The same answers scored as each policy would return them (reask needs its own run)."""
    if run.ungrounded == "reask":
        return {"reask": CountsReport.of(raw.micro)}
    return {"flag": CountsReport.of(raw.micro), "drop": CountsReport.of(raw.dropped_micro)}


def summary_report(s: RunSummary, policies: dict[str, CountsReport]) -> Summary:
    """The run's pooled scores as the report gives them, rounded."""
    return Summary(
        micro=CountsReport.of(s.micro),
        micro_f1=round(s.micro.f1, 4),
        macro_f1=round(s.macro_f1, 4),
        per_list={name: CountsReport.of(c) for name, c in s.per_list.items()},
        field=CountsReport.of(s.field_micro),
        field_f1=round(s.field_micro.f1, 4),
        slot=CountsReport.of(s.slots),
        slot_f1=round(s.slots.f1, 4),
        fields_per_list={
            name: CountsReport.of(fields_of_list(s.fields, name)) for name in FACT_LISTS
        },
        fields={f"{lst}.{name}": CountsReport.of(c) for (lst, name), c in s.fields.items()},
        grounding_rate=_rate(s.grounding.rate),
        match_levels=s.match_levels,
        failed_checks=s.failed_checks,
        policies=policies,
        unsupported_number_rate=_rate(s.unsupported_numbers.rate),
        schema_valid_rate=_rate(s.schema_valid.rate),
        tokens=TokensReport(prompt=s.prompt_tokens, completion=s.completion_tokens),
        latency_ms=round(s.latency_ms, 1),
    )


def run_report(run: EvalRun) -> RunReport:
    """The whole run as a report (summary first, then every case)."""
    raw = summarize(run.outcomes)
    s = summarize(run.scored()) if run.ungrounded == "drop" else raw
    return RunReport(
        prompt=run.prompt,
        model=run.model,
        mode=str(run.mode),
        strategy=run.strategy,
        ungrounded=run.ungrounded,
        passes=run.passes,
        variant=run.variant,
        dataset=run.dataset,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        wall_s=round(run.wall_s, 2),
        summary=summary_report(s, _policies(run, raw)),
        cases=[case_report(o) for o in run.scored()],
    )


def fields_of_list(fields: dict[tuple[str, str], Counts], list_name: str) -> Counts:
    """One list's field counts, pooled over its fields."""
    return sum((c for (lst, _), c in fields.items() if lst == list_name), Counts())


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_table(report: RunReport, console: Console | None = None) -> None:
    """Per-list P/R/F1 and the headline metrics, as a terminal table."""
    console = console or Console()
    s = report.summary
    table = Table(title=f"{report.prompt} · {report.model} · {report.mode}")
    for column in ("list", "gold", "pred", "P", "R", "F1", "fields P", "fields R", "fields F1"):
        table.add_column(column, justify="left" if column == "list" else "right")
    empty = CountsReport.of(Counts())
    for name in FACT_LISTS:
        c, f = s.per_list[name], (s.fields_per_list or {}).get(name, empty)
        table.add_row(name, *_row(c), *_rates(f))
    table.add_row("micro (all facts)", *_row(s.micro), *_rates(s.field or empty), style="bold")
    console.print(table)
    if s.fields is not None:
        console.print(_field_line(s.fields))
    console.print(
        f"micro-F1 {s.micro_f1:.3f} · field F1 {s.field_f1 or 0:.3f} · "
        f"slot F1 {s.slot_f1 or 0:.3f} · macro-F1 {s.macro_f1:.3f} · "
        f"grounding {_fmt(s.grounding_rate)} · unsupported numbers "
        f"{_fmt(s.unsupported_number_rate)} · schema-valid {_fmt(s.schema_valid_rate)} · "
        f"tokens {s.tokens.prompt}+{s.tokens.completion} · "
        f"LLM time {s.latency_ms / 1000:.1f} s"
        + (" (as recorded)" if report.mode == "replay" else "")
    )
    if s.match_levels is not None:  # reports written before grounding checks lack these
        _print_checks(s, console)
    for case in report.cases:
        if case.error:
            console.print(f"[red]{case.article_id} failed: {case.error}[/red]")


def _print_checks(s: Summary, console: Console) -> None:
    """How the evidence matched, which checks failed, and the scores under each policy."""
    levels = " ".join(f"{k} {v}" for k, v in (s.match_levels or {}).items())
    checks = " ".join(f"{k} {v}" for k, v in (s.failed_checks or {}).items()) or "none"
    policies = " · ".join(
        f"{name} P {c.precision:.2f} R {c.recall:.2f} F1 {c.f1:.2f}"
        for name, c in (s.policies or {}).items()
    )
    console.print(f"evidence match: {levels} · failed checks: {checks}")
    console.print(f"policy {policies}")


def _rates(c: CountsReport) -> tuple[str, str, str]:
    return _fmt(c.precision), _fmt(c.recall), _fmt(c.f1)


def _row(c: CountsReport) -> tuple[str, ...]:
    return str(c.tp + c.fn), str(c.tp + c.fp), *_rates(c)


def _field_line(fields: dict[str, CountsReport]) -> str:
    """Each field's F1 with its right / gold-stated count, e.g. 'casualties.period 0.50 (2/4)'."""
    return "fields: " + " · ".join(
        f"{key} {c.f1:.2f} ({c.tp}/{c.tp + c.fn})" for key, c in fields.items()
    )


def predicted_spans(case: CaseReport, text: str) -> list[tuple[int, int, str, str]]:
    """Where a report case's predicted facts (matched and spurious) stand in the text."""
    spans = []
    for name in FACT_LISTS:
        listed = case.lists.get(name)
        if listed is None:
            continue
        predicted = [m.pred for m in listed.matched] + [s.pred for s in listed.spurious]
        for i, fact in enumerate(predicted):
            start, end, _ = align(fact.get("evidence") or "", text)
            if start is not None and end is not None:
                spans.append((start, end, name, f"{name}[{i}]"))
    return spans


def write_html(report: RunReport, texts: dict[str, str], path: Path) -> Path:
    """An HTML page of a report (and the articles' texts, by id): each article with
    predicted spans highlighted, and matched/missed/spurious facts side by side."""
    cases = []
    for case in report.cases:
        text = texts.get(case.article_id, "")
        cases.append((case, segments(text, predicted_spans(case, text))))
    html = _templates.get_template("report.html.j2").render(
        report=report, cases=cases, lists=FACT_LISTS
    )
    return write_atomic(path, html)


def write_json(report: RunReport | dict[str, Any], path: Path) -> Path:
    """A report (or any JSON-ready document, e.g. a stability summary) as pretty JSON."""
    data = report.model_dump(mode="json") if isinstance(report, RunReport) else report
    return write_atomic(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def run_name(
    prompt: str, model: str, *, passes: str = "none", ungrounded: str = "flag",
    dataset: str = SEEDS.name, variant: str = "",
) -> str:  # fmt: skip
    """File name (without suffix) of a run: prompt, passes and policy when not the defaults,
    model, the dataset when not the seeds, and the variant (joined, articles) if any."""
    prompt += (f"+{passes}" if passes != "none" else "") + (
        f"+{ungrounded}" if ungrounded != "flag" else ""
    )
    parts = [f"dataset-{dataset}"] if dataset != SEEDS.name else []
    parts += [variant] if variant else []
    suffix = "--" + "-".join(parts) if parts else ""
    return f"{prompt}--{model}{suffix}".replace("/", "_")


def report_name(report: RunReport) -> str:
    """File name (without suffix) of a report's run: see `run_name`."""
    return run_name(report.prompt, report.model, passes=report.passes,
                    ungrounded=report.ungrounded, dataset=report.dataset,
                    variant=report.variant)  # fmt: skip


def strategy_run(strategy: str, settings: Settings, dataset: Dataset = SEEDS) -> str:
    """The recorded run a strategy name stands for in `compare`: its default prompt (the
    nlp strategy has none) under the default grounding policy, on the default model, in
    the dataset's runs."""
    chosen = STRATEGIES[strategy]
    name = run_name(chosen.run_prompt(settings), chosen.model_name(settings),
                    ungrounded=settings.ungrounded, dataset=dataset.name)  # fmt: skip
    return str(dataset.runs_dir / f"{name}.json")


def load_report(ref: str, dataset: Dataset = SEEDS) -> RunReport:
    """A saved report by path, or by prompt ref: the recorded run in the dataset's runs."""
    path = Path(ref)
    runs = dataset.runs_dir
    if path.suffix != ".json":
        # prompt--model[--dataset-X].json, not prompt--model--joined.json
        wanted = run_name(ref, "*", dataset=dataset.name)
        matches = [
            p
            for p in sorted(runs.glob(f"{wanted}.json"))
            if p.stem.count("--") == wanted.count("--")
        ]
        path = matches[0] if len(matches) == 1 else runs / f"{ref}.json"
    return RunReport.load(path)


def counts_of(report: RunReport, list_name: str) -> Counts:
    """A list's pooled counts from a saved report."""
    return report.summary.per_list[list_name].counts()


def field_counts_of(report: RunReport, list_name: str) -> Counts:
    """A list's pooled field counts from a saved report (none in reports before fields)."""
    c = (report.summary.fields_per_list or {}).get(list_name)
    return c.counts() if c else Counts()
