"""What every request passes before a route sees it: an id, the token, the body limit, and
the one catch that turns any unexpected exception into the error shape with that id."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.api import ErrorDetail, ErrorResponse
from service.errors import (
    INTERNAL_ERROR_MESSAGE,
    BodyTooLarge,
    ClientDisconnected,
    NewsfactsError,
    Unauthorized,
)
from service.logs import request_id_var
from service.settings import Settings

log = logging.getLogger("newsfacts")
T = TypeVar("T")
# The routes that spend model time take the token; probes, the schema and the docs do not.
GUARDED_PREFIX = "/extract"


def error_response(
    status: int, code: str, message: str, retry_after: float | None = None
) -> JSONResponse:
    """The one error shape, with the current request id and Retry-After when given."""
    body = ErrorResponse(
        error=ErrorDetail(code=code, message=message, request_id=request_id_var.get())
    )
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _request_id(scope: Scope) -> str:
    given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
    return given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex


class Guard:
    """ASGI middleware, outermost of ours: the request id (the client's X-Request-ID or a
    new one, echoed back and logged), the bearer token and the body limit checked before
    a byte of the body is read, and no exception leaving without the error shape."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _refusal(self, scope: Scope) -> NewsfactsError | None:
        """Why the request is refused before its body is read, if it is."""
        headers = dict(scope["headers"])
        token = self.settings.api_token
        if token is not None and scope["path"].startswith(GUARDED_PREFIX):
            expected = f"Bearer {token.get_secret_value()}".encode()
            if not hmac.compare_digest(headers.get(b"authorization", b""), expected):
                return Unauthorized(
                    "missing or invalid bearer token; send 'Authorization: Bearer <token>'"
                )
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return self._too_large(int(declared))
        return None

    def _too_large(self, size: int) -> BodyTooLarge:
        limit = self.settings.max_body_bytes
        return BodyTooLarge(
            f"the body has {size} bytes or more; the limit is {limit} (NEWSFACTS_MAX_BODY_BYTES)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id set; answer any failure in the error shape."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state = {"status": 500, "started": False, "logged": False, "body": 0}

        def access_line() -> None:
            # One access line per request: no query string, no body.
            state["logged"] = True
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": state["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Written before the last byte goes out, so a client that has its answer
                # can already read the line (written after, the two raced).
                access_line()
            await send(message)

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["body"] += len(message.get("body", b""))
                if state["body"] > self.settings.max_body_bytes:
                    raise self._too_large(state["body"])
            return message

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                raise refusal
            await self.app(scope, counted_receive, send_with_id)
        except Exception as exc:
            if state["started"]:
                raise  # the response has started: nothing more can be said to the client
            if isinstance(exc, NewsfactsError):
                response = error_response(exc.status, exc.code, exc.message, exc.retry_after)
            else:
                log.exception("unexpected error")
                response = error_response(500, "internal_error", INTERNAL_ERROR_MESSAGE)
            await response(scope, receive, send_with_id)
        finally:
            if not state["logged"]:
                access_line()
            request_id_var.reset(token)


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """`work`'s result; cancelled (and ClientDisconnected raised) as soon as the client
    hangs up, so nothing keeps a slot or the model for an answer nobody will read."""
    task = asyncio.ensure_future(work)

    async def hung_up() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watch = asyncio.create_task(hung_up())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
        watch.cancel()
    if task.cancelled() or not task.done():
        raise ClientDisconnected("the client closed the connection; the work was cancelled")
    return task.result()
