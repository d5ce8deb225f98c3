"""The eval gate: a dataset's cassettes replayed against the baseline it committed.

No model and no network. CI runs it for the seeds and every dataset under evals/datasets/
with a baseline; `newsfacts eval gate --dataset DIR` runs it for one of your own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from evals.baseline import Baseline, load_baseline
from evals.datasets import Dataset
from evals.report import run_report
from evals.run_report import RunReport
from evals.runner import Mode, run_gold
from service.settings import Settings


@dataclass(frozen=True)
class GateResult:
    """The replayed report, the baseline it was held to, why it failed (if it did), and
    how long the replay took."""

    dataset: Dataset
    baseline: Baseline
    report: RunReport
    failures: tuple[str, ...]
    replay_wall_s: float

    @property
    def passed(self) -> bool:
        """Whether the replay held its baseline."""
        return not self.failures


async def replay_gate(dataset: Dataset, settings: Settings) -> GateResult:
    """Replay the dataset's cassettes with its baseline's prompt, strategy, model, passes
    and policy, and say where the run falls short of the baseline.

    A missing or stale cassette raises StaleCassetteError naming the record command.
    """
    baseline = load_baseline(dataset.baseline_path)
    settings = settings.model_copy(
        update={"llm_model": baseline.model, "strategy": baseline.strategy}
    )
    started = time.perf_counter()
    run = await run_gold(dataset.cases(), settings, baseline.prompt, Mode.REPLAY,
                         ungrounded=baseline.ungrounded, passes=baseline.passes,
                         dataset=dataset)  # fmt: skip
    report = run_report(run)
    replay_wall_s = round(time.perf_counter() - started, 2)
    failures = []
    if baseline.dataset != dataset.name:
        failures.append(f"{dataset.baseline_path} is the baseline of dataset {baseline.dataset!r}")
    errors = [f"{c.article_id}: {c.error}" for c in report.cases if c.error]
    if len(errors) > baseline.failed_cases:
        failures.append(
            f"{len(errors)} cases failed, the baseline allows {baseline.failed_cases}: "
            + "; ".join(errors)
        )
    s = report.summary
    for label, held, now in (
        ("micro-F1", baseline.micro_f1, s.micro_f1),
        ("field F1", baseline.field_f1, s.field_f1 or 0.0),  # a fresh report has field F1
    ):
        if now < held - baseline.tolerance:
            failures.append(
                f"{label} {now:.4f} fell below the baseline {held:.4f} minus "
                f"tolerance {baseline.tolerance} for {baseline.prompt} on {dataset.name}"
            )
    return GateResult(dataset, baseline, report, tuple(failures), replay_wall_s)
