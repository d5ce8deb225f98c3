"""The answer desk: an OpenAI-compatible endpoint on 127.0.0.1 that answers chat calls from
a batch's results, so the unchanged pipeline (client, re-asks, grounding, rows) runs over
answers that came back in bulk.

A call the results do not hold yet is written down to go in the next batch and answered
with a stand-in (the smallest valid tool call), so the article's other calls are asked in
the same round; an article that met such a call is held back and run again once the
batch has answered. Each article talks to its own route (`/a/<slot>/v1`), so the desk knows
whose calls were missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.bulk.placeholder import minimal_instance
from service.ports import free_port


def request_key(body: dict[str, Any]) -> str:
    """A chat request's identity: the sha256 of its canonical JSON (the batch custom_id)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class Answer:
    """One call's answer as the batch returned it: the HTTP status and the response body."""

    status_code: int
    body: dict[str, Any]


def stand_in(body: dict[str, Any]) -> dict[str, Any]:
    """A completion that calls the requested tool with the smallest valid arguments."""
    tools = {t["function"]["name"]: t["function"] for t in body.get("tools") or []}
    choice = body.get("tool_choice")
    name = choice["function"]["name"] if isinstance(choice, dict) else next(iter(tools), "")
    arguments = minimal_instance(tools[name].get("parameters", {})) if name in tools else {}
    call = {"id": "call_stand_in", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}  # fmt: skip
    return {
        "id": "chatcmpl-stand-in",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", ""),
        "choices": [{"index": 0, "finish_reason": "tool_calls",
                     "message": {"role": "assistant", "content": None, "tool_calls": [call]}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }  # fmt: skip


@dataclass
class AnswerDesk:
    """Known answers, the calls still to ask, and the articles (slots) that met one."""

    answers: dict[str, Answer] = field(default_factory=dict)
    asked: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> request body
    held: set[str] = field(default_factory=set)

    def app(self) -> Starlette:
        """The desk as an ASGI app."""
        return Starlette(
            routes=[
                Route("/a/{slot}/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/a/{slot}/v1/models", self._models, methods=["GET"]),
            ]
        )

    async def _models(self, request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": []})

    async def _chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        key = request_key(body)
        answer = self.answers.get(key)
        if answer is not None:
            return JSONResponse(answer.body, status_code=answer.status_code)
        self.asked.setdefault(key, body)
        self.held.add(request.path_params["slot"])
        return JSONResponse(stand_in(body))


@contextlib.asynccontextmanager
async def serving(desk: AnswerDesk) -> AsyncIterator[str]:
    """Serve the desk on a free loopback port for the block; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(desk.app(), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
