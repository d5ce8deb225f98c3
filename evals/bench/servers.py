"""Run ASGI apps on 127.0.0.1 in a background thread with a real uvicorn server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from service.api.server import server_config
from service.ports import free_port
from service.settings import Settings


@contextmanager
def serve_in_thread(
    app: object, timeout: float = 30.0, settings: Settings | None = None
) -> Iterator[str]:
    """Serve app over real HTTP until the block ends; yields its base URL. With `settings`,
    the server is configured as `newsfacts serve` configures it (timeouts, limits)."""
    port = free_port()
    if settings is not None:
        config = server_config(app, settings, "127.0.0.1", port)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                                lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server in thread did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
