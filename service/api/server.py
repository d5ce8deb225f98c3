"""The HTTP server as `newsfacts serve` runs it: uvicorn, with what uvicorn lacks against
slow clients.

uvicorn closes a connection that stays idle between requests (keep-alive), but once a byte
of a request has come it waits for the rest for ever: a client trickling one header byte
every few seconds holds its connection indefinitely, and enough of them hold them all.
This protocol (uvicorn's own h11 protocol, given through its `http` option) adds:
- a header timeout: a request's headers must all arrive within NEWSFACTS_HEADER_TIMEOUT_S
  of its first byte (of the connection, for the first request); then 408 and closed;
- an idle timeout: a request body that stalls NEWSFACTS_IDLE_TIMEOUT_S between two reads
  is closed (the app sees the client leave and cancels the work);
- a connection limit: beyond NEWSFACTS_MAX_CONNECTIONS, a new connection gets 503 and is
  closed.
Each refusal is written in the documented error shape with a request id of its own (no
request was read, so there is no client id to echo), and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings

log = logging.getLogger("newsfacts")
STATUS_LINES = {408: b"408 Request Timeout", 503: b"503 Service Unavailable"}


def refusal_bytes(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 response in the error shape, closing the connection."""
    request_id = uuid.uuid4().hex
    log.warning("connection refused", extra={"status": status, "code": code,
                                             "request_id": request_id})  # fmt: skip
    body = json.dumps(
        {"error": {"code": code, "message": message, "request_id": request_id}}
    ).encode()
    head = (
        b"HTTP/1.1 " + STATUS_LINES[status] + b"\r\ncontent-type: application/json\r\n"
        b"connection: close\r\nx-request-id: " + request_id.encode() + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def guarded_protocol(settings: Settings) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the header and idle timeouts and the connection limit
    of `settings`."""

    class Guarded(H11Protocol):
        """One connection, refused or closed when it is too slow or one too many."""

        timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            """Refuse one connection too many; else start the header clock."""
            super().connection_made(transport)
            if len(self.connections) > settings.max_connections:
                message = (
                    f"more than {settings.max_connections} connections are open "
                    "(NEWSFACTS_MAX_CONNECTIONS); retry later"
                )
                self._refuse(503, "saturated", message)
                return
            self._arm(settings.header_timeout_s, self._headers_late)

        def data_received(self, data: bytes) -> None:
            """Read as uvicorn does, then set the clock for what is due next."""
            super().data_received(data)
            if self.transport.is_closing():
                return
            if self.conn.their_state is h11.IDLE:  # a request begun: its headers are due
                if self.timer is None:
                    self._arm(settings.header_timeout_s, self._headers_late)
            elif self.conn.their_state is h11.SEND_BODY:
                self._arm(settings.idle_timeout_s, self._body_stalled)
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            """Stop the clock; uvicorn does the rest."""
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            """Stop the clock: uvicorn's keep-alive timer runs until the next byte."""
            self._disarm()
            super().on_response_complete()

        def _arm(self, seconds: float, then: Any) -> None:
            self._disarm()
            self.timer = self.loop.call_later(seconds, then)

        def _disarm(self) -> None:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None

        def _headers_late(self) -> None:
            self.timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                seconds = f"{settings.header_timeout_s:g}"
                message = (
                    f"the request's headers did not arrive within {seconds} s "
                    "(NEWSFACTS_HEADER_TIMEOUT_S)"
                )
                self._refuse(408, "request_timeout", message)

        def _body_stalled(self) -> None:
            self.timer = None
            if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
                log.warning("request body stalled; connection closed",
                            extra={"idle_timeout_s": settings.idle_timeout_s})  # fmt: skip
                self.transport.close()  # the app's receive() sees the client leave

        def _refuse(self, status: int, code: str, message: str) -> None:
            self.transport.write(refusal_bytes(status, code, message))
            self.transport.close()

    return Guarded


def server_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration `serve` runs with (and the tests, for the same server)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(settings),
        log_config=None,
        timeout_keep_alive=max(1, round(settings.idle_timeout_s)),
        timeout_graceful_shutdown=round(settings.shutdown_grace_s),
        access_log=False,  # the app logs one JSON line per request, with its request id
    )
