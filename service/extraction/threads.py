"""CPU work off the event loop that stops when its request is gone.

`asyncio.to_thread` cannot stop a thread: cancelled, its caller moves on at once while the
thread runs to the end, so a slot is freed for work that is still using the CPU. Here the
work gets a `threading.Event` to check between its steps (spaCy's parse checks it before
each component), and a cancelled caller sets it and waits for the thread to return before
the cancellation goes on up, so whoever holds a slot holds it until the work has stopped.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def off_loop(work: Callable[[threading.Event], T]) -> T:
    """`work(stop)` in a worker thread, with the caller's context (its request id); when the
    caller is cancelled, `stop` is set and the thread awaited before CancelledError goes on."""
    stop = threading.Event()
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, functools.partial(context.run, work, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        while not future.done():  # the thread returns soon (Stopped, or its last step done)
            try:
                await asyncio.wait({future})
            except asyncio.CancelledError:
                continue
        if not future.cancelled():
            future.exception()  # retrieved: a Stopped nobody reads is not an error
        raise
