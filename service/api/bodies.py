"""Request bodies parsed and validated off the event loop.

FastAPI parses a JSON body on the event loop. A body of a few MB made of many small values
(400,000 unknown keys) takes `json.loads` about 0.3 s and its 400,000 validation errors a
second more, and meanwhile no other request, `/healthz` included, is answered. A C call
holds the GIL, so a thread alone does not help: the time goes by the number of values, not
the bytes (16 MB of article text parses in 30 ms). So a body is parsed in a worker thread
when its separators (`:` and `,`, an upper bound on its values) are few, as every real
article's are, and in a worker process otherwise; either way the error message is bounded.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from service.errors import InvalidInput, validation_problems
from service.extraction.threads import off_loop

M = TypeVar("M", bound=BaseModel)
# Values json.loads turns into Python objects in about 15 ms on this project's 2-core machine.
SEPARATORS_IN_THREAD = 20_000


def parse_body(raw: bytes, model: type[M]) -> M:
    """The body as `model`, or InvalidInput naming (at most a few of) its problems."""
    try:
        data = json.loads(raw)  # bytes: UTF-8 checked too (UnicodeDecodeError is a ValueError)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {str(exc)[:200]}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        raise InvalidInput(validation_problems(errors) or "invalid request body") from None


class BodyReader:
    """Parses bodies in a thread, or (many values) in one worker process started on first
    need and stopped with the app."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def read(self, raw: bytes, model: type[M]) -> M:
        """`raw` parsed and validated as `model`, off the event loop."""
        if raw.count(b":") + raw.count(b",") <= SEPARATORS_IN_THREAD:
            return await off_loop(lambda _: parse_body(raw, model))
        if self._pool is None:
            # spawn, not fork: the service has threads (a forked child would copy held locks)
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, parse_body, raw, model)

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
