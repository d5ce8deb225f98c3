"""The CI eval: the gold set replayed from cassettes by a fresh `newsfacts eval --replay`,
wall time including interpreter start and imports (what CI pays)."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from typing import Any

from evals.bench.harness import newsfacts_command

RUNS = 5


def ci_eval(runs: int = RUNS) -> dict[str, Any]:
    """Time `runs` replays of the gold set, each in a new process."""
    walls = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(
                [*newsfacts_command(), "eval", "--replay", "--out", out],
                check=True, capture_output=True,
            )  # fmt: skip
            walls.append(round(time.perf_counter() - started, 2))
    return {"runs": walls, "median_s": statistics.median(walls), "max_s": max(walls)}
