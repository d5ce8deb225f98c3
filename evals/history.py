"""The run index: every saved eval run with its prompt, model, dataset, scores and cost,
newest first, so the path of a prompt's history is one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from evals.report import RUNS_DIR
from evals.run_report import RunReport
from service.files import write_atomic

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class RunRow:
    """One saved run, as the index lists it."""

    created: str
    prompt: str
    strategy: str
    model: str
    dataset: str
    policy: str  # the grounding policy, and the recall passes when there were any
    mode: str
    micro_f1: float
    field_f1: float | None  # None: a run scored before fields were
    macro_f1: float
    tokens: int
    llm_s: float
    path: Path


def history(runs_dir: Path = RUNS_DIR) -> tuple[list[RunRow], list[str]]:
    """Every run report in `runs_dir`, newest first, and the files that are not one."""
    rows: list[RunRow] = []
    skipped: list[str] = []
    for path in sorted(runs_dir.glob("*.json")):
        try:
            rows.append(_row(RunReport.load(path), path))
        except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
            skipped.append(path.name)
    rows.sort(key=lambda r: r.created, reverse=True)
    return rows, skipped


def _row(report: RunReport, path: Path) -> RunRow:
    """A run report as the index lists it."""
    s = report.summary
    return RunRow(
        created=report.created, prompt=report.prompt or "-", strategy=report.strategy,
        model=report.model,
        dataset=report.dataset + (f" ({report.variant})" if report.variant else ""),
        policy=report.ungrounded + ("" if report.passes == "none" else f"+{report.passes}"),
        mode=report.mode, micro_f1=s.micro_f1, field_f1=s.field_f1, macro_f1=s.macro_f1,
        tokens=s.tokens.prompt + s.tokens.completion, llm_s=s.latency_ms / 1000, path=path,
    )  # fmt: skip


def write_index(runs_dir: Path = RUNS_DIR) -> Path:
    """`runs_dir/index.html`: the history as one page, each run linked to its HTML page when
    one was built (`newsfacts eval html`), else to its JSON report."""
    rows, _ = history(runs_dir)
    listed = [
        {**vars(r), "html": r.path.with_suffix(".html").name
         if r.path.with_suffix(".html").is_file() else r.path.name}
        for r in rows
    ]  # fmt: skip
    page = _templates.get_template("index.html.j2").render(rows=listed, title=runs_dir.name)
    return write_atomic(runs_dir / "index.html", page)
