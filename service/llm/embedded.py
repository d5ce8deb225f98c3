"""Supervise the embedded llama.cpp OpenAI-compatible server on 127.0.0.1.

Started when no `NEWSFACTS_LLM_BASE_URL` is set: it serves the bundled GGUF (or
`NEWSFACTS_MODEL_PATH`), is restarted if it dies, and is stopped with the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from service.errors import ConfigError, LLMUnavailable
from service.llm.model_files import BUNDLED, ensure_model
from service.ports import free_port
from service.settings import Settings

log = logging.getLogger(__name__)
MAX_LOG_BYTES = 20 * 1024 * 1024
PR_SET_PDEATHSIG = 1
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0)


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF to serve: NEWSFACTS_MODEL_PATH if set, else the bundled model."""
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ConfigError(
                f"NEWSFACTS_MODEL_PATH={settings.model_path} is not a file; point it at a GGUF "
                f"or unset it to use the bundled {settings.embedded_model}"
            )
        return settings.model_path
    return ensure_model(BUNDLED[settings.embedded_model], settings.cache_dir)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to SIGKILL the child when the service process dies.

    Not SIGTERM: a model server in the middle of a generation finishes it first, so an
    orphan would burn both cores for minutes on an answer nobody will read.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


async def http_get(host: str, port: int, path: str, timeout: float = 2.0) -> bytes | None:
    """GET path's body when it answers 200, else None (a dependency-free probe used while
    starting)."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            answer = await reader.read()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    except (OSError, TimeoutError):
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    return body if head.split(b" ")[1:2] == [b"200"] else None


async def http_ok(host: str, port: int, path: str, timeout: float = 2.0) -> bool:
    """True when GET path answers 200."""
    return await http_get(host, port, path, timeout) is not None


class EmbeddedServer:
    """One embedded model server process (`service.llm.model_server`), kept alive until
    `stop()`."""

    def __init__(self, settings: Settings, model_path: Path) -> None:
        self.settings = settings
        self.model_path = model_path
        self.host = "127.0.0.1"
        self.port = free_port()
        self.log_path = settings.cache_dir / "embedded-server.log"
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL of the running server."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """The server process id, while one runs."""
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    def command(self) -> list[str]:
        """The server's command line."""
        threads = self.settings.embedded_threads or os.cpu_count() or 2
        return [
            sys.executable, "-m", "service.llm.model_server",
            "--model", str(self.model_path),
            "--model_alias", self.settings.llm_model,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.settings.embedded_ctx),
            "--n_threads", str(threads),
            "--n_threads_batch", str(threads),
            # every call in flight (NEWSFACTS_LLM_CALLS) and the warm-up may wait there;
            # the server refuses (503, retried) what is beyond them
            "--max_queue", str(self.settings.llm_calls + 1),
            "--parallel", str(self.settings.embedded_parallel),
            *([] if self.settings.embedded_jump_forward else ["--no_jump_forward"]),
            "--cpu_exclude", self.settings.embedded_cpu_exclude,
            *(["--cpu_variant", v] if (v := self.settings.embedded_cpu_variant) else []),
        ]  # fmt: skip

    async def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Keep the current log and one previous one, so a long-lived service cannot fill
        # the disk with llama.cpp's per-request timing lines.
        if self.log_path.is_file() and self.log_path.stat().st_size > MAX_LOG_BYTES:
            self.log_path.replace(self.log_path.with_suffix(".log.1"))
        with self.log_path.open("ab") as log_file:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        log.info("embedded model server started", extra={"pid": self._proc.pid, "port": self.port})
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.embedded_start_timeout_s
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.returncode is not None:
                raise LLMUnavailable(
                    f"the embedded model server exited while starting; see {self.log_path}"
                )
            if await http_ok(self.host, self.port, "/v1/models"):
                stats = await http_get(self.host, self.port, "/stats")
                figures = json.loads(stats) if stats else {}
                log.info("embedded model server ready", extra={
                    "cpu_variant": figures.get("cpu_variant"),
                    "jump_forward": figures.get("jump_forward"),
                })  # fmt: skip
                return
            await asyncio.sleep(0.25)
        raise LLMUnavailable(
            f"the embedded model server was not ready after "
            f"{self.settings.embedded_start_timeout_s:g} s; see {self.log_path}"
        )

    async def start(self) -> None:
        """Start the server, wait until it answers, and begin supervising it."""
        self._stopping = False
        await self._spawn()
        self._watcher = asyncio.create_task(self._supervise(), name="embedded-supervisor")

    async def _supervise(self) -> None:
        """Restart the server whenever it exits on its own."""
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            delay = RESTART_BACKOFF_S[min(self.restarts, len(RESTART_BACKOFF_S) - 1)]
            log.warning(
                "embedded model server exited; restarting",
                extra={"returncode": code, "restart_in_s": delay},
            )
            await asyncio.sleep(delay)
            self.restarts += 1
            try:
                await self._spawn()
            except LLMUnavailable:
                log.exception("embedded model server failed to restart")

    async def stop(self) -> None:
        """Stop supervising and terminate the server (SIGTERM, then SIGKILL)."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
