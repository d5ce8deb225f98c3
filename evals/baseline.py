"""The committed eval baseline that CI holds: prompt, model, fact and field F1, tolerance."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from evals.datasets import SEEDS
from evals.run_report import RunReport
from schemas.api import RecallPasses, Strategy, UngroundedPolicy
from service.files import write_atomic

BASELINE_PATH = SEEDS.baseline_path
DEFAULT_TOLERANCE = 0.01


class Baseline(BaseModel):
    """What a replayed eval must still reach: micro-F1 and field F1, each less the
    tolerance, and no more failed cases."""

    dataset: str = Field(default=SEEDS.name, description="Dataset the run scored.")
    prompt: str = Field(description="Prompt whose cassettes the gate replays, name@version.")
    strategy: Strategy = Field(default="llm", description="Extraction strategy of the run.")
    model: str = Field(description="Model the cassettes were recorded from.")
    passes: RecallPasses = Field(default="none", description="Recall passes of the recording.")
    ungrounded: UngroundedPolicy = Field(default="flag", description="Grounding policy.")
    micro_f1: float = Field(ge=0, le=1)
    field_f1: float = Field(ge=0, le=1, description="Field F1 on matched facts.")
    tolerance: float = Field(default=DEFAULT_TOLERANCE, ge=0, le=0.05)
    failed_cases: int = Field(default=0, ge=0, description="Cases that failed when recorded.")


def load_baseline(path: Path = BASELINE_PATH) -> Baseline:
    """Read the committed baseline."""
    return Baseline.model_validate_json(path.read_text())


def baseline_from_report(
    report: RunReport, tolerance: float | None = None, path: Path = BASELINE_PATH
) -> Baseline:
    """The baseline a run report sets; the tolerance of the one at `path` carries over
    unless one is given. A report scored before field F1 sets none: ValueError."""
    if report.summary.field_f1 is None:
        raise ValueError(f"the run of {report.prompt} on {report.model} has no field F1 to hold")
    if tolerance is None:
        tolerance = load_baseline(path).tolerance if path.is_file() else DEFAULT_TOLERANCE
    return Baseline(
        dataset=report.dataset,
        prompt=report.prompt,
        strategy=report.strategy,
        model=report.model,
        passes=report.passes,
        ungrounded=report.ungrounded,
        micro_f1=round(report.summary.micro_f1, 4),
        field_f1=round(report.summary.field_f1, 4),
        tolerance=tolerance,
        failed_cases=sum(case.error is not None for case in report.cases),
    )


def save_baseline(baseline: Baseline, path: Path = BASELINE_PATH) -> Path:
    """Write the baseline as indented JSON."""
    return write_atomic(path, json.dumps(baseline.model_dump(), indent=2) + "\n")
