"""Request bodies parsed and validated off the event loop.

FastAPI parses a JSON body on the event loop. A body of a few MB made of many small values
(400,000 unknown keys) takes `json.loads` about 0.3 s and its 400,000 validation errors a
second more, and meanwhile no other request, `/healthz` included, is answered. A C call
holds the GIL, so a worker thread does not help: the time goes by the number of values,
not the bytes (16 MB of article text parses in 30 ms). So:
- a body with few separators (`:` and `,`, an upper bound on its values), as every real
  article's is, is parsed in a worker thread;
- any other is first checked by a child process (`python -m service.api.bodies MODEL`,
  one at a time, killed when its request goes), and parsed here only if it is valid: a
  valid body has a handful of keys (the schema forbids others, and duplicates are
  refused), so its parse costs what its bytes cost.
Either way a refusal names at most a few problems.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.api import BatchRequest, ExtractRequest
from service.errors import InvalidInput, validation_problems
from service.extraction.threads import off_loop

M = TypeVar("M", bound=BaseModel)
MODELS: dict[str, type[BaseModel]] = {m.__name__: m for m in (ExtractRequest, BatchRequest)}
# Values json.loads turns into Python objects in about 15 ms on this project's 2-core machine.
SEPARATORS_IN_THREAD = 20_000
CHECK_TIMEOUT_S = 60.0


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members as a dict; a key given twice is refused (the last would win
    silently, and a body of one key repeated would pass as valid however large)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise InvalidInput(f"body is not valid: the key {key[:80]!r} is given twice")
        found[key] = value
    return found


def decode(raw: bytes, model: type[M]) -> M:
    """The body as `model`, or InvalidInput naming (at most a few of) its problems."""
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys)  # UTF-8 checked too
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidInput(f"body is not valid JSON: {str(exc)[:200]}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        raise InvalidInput(validation_problems(errors) or "invalid request body") from None


class BodyReader:
    """Parses bodies off the event loop (see the module's docstring)."""

    def __init__(self) -> None:
        self._checks = asyncio.Semaphore(1)  # one child at a time, however many attack

    async def read(self, raw: bytes, model: type[M]) -> M:
        """`raw` parsed and validated as `model`, off the event loop."""
        if raw.count(b":") + raw.count(b",") > SEPARATORS_IN_THREAD:
            async with self._checks:
                await _check_in_child(raw, model.__name__)
        return await off_loop(lambda _: decode(raw, model))


async def _check_in_child(raw: bytes, model: str) -> None:
    """Raise InvalidInput unless a child process finds `raw` a valid `model`."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.api.bodies", model,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            answer, _ = await child.communicate(raw)
    except TimeoutError:
        raise InvalidInput(f"the body could not be checked within {CHECK_TIMEOUT_S:g} s") from None
    finally:
        if child.returncode is None:  # cancelled (the client left) or timed out
            child.kill()
            await child.wait()
    if child.returncode != 0:
        message = answer.decode("utf-8", "replace").strip()[:4000]
        raise InvalidInput(message or f"the body check failed (exit {child.returncode})")


def main() -> None:
    """The child: read a body on stdin, exit 0 if it is a valid MODEL, else print why, exit 1."""
    try:
        decode(sys.stdin.buffer.read(), MODELS[sys.argv[1]])
    except InvalidInput as exc:
        print(exc.message)
        sys.exit(1)


if __name__ == "__main__":
    main()
