"""Progress of a long command: a rich bar on a terminal; elsewhere (a log, CI) a line per
step, so that minutes of work never pass in silence."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

Step = Callable[[str], None]


@contextlib.contextmanager
def steps(description: str, total: int | None, console: Console | None = None) -> Iterator[Step]:
    """Yield `step(note)`, to call as each of `total` steps ends (the note names it)."""
    console = console or Console(stderr=True)
    if console.is_terminal:
        columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(description, total=total)
            yield lambda _note: progress.advance(task)
        return
    started, done = time.perf_counter(), 0
    console.print(f"{description}: {total if total is not None else '?'} to do", highlight=False)

    def step(note: str) -> None:
        nonlocal done
        done += 1
        elapsed = time.perf_counter() - started
        console.print(f"{description}: {done}/{total or '?'} {note} ({elapsed:.0f} s)",
                      highlight=False)  # fmt: skip

    yield step
