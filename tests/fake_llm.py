"""A fake OpenAI-compatible LLM server speaking the real chat-completions protocol.

Tests script its replies in order (a tool call, a schema-invalid tool call, an HTTP error,
a hang); when the script runs out it repeats the default reply. Every request body is kept.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Reply:
    """One scripted answer: a tool call with arguments, or a raw HTTP status and body."""

    arguments: Any = None
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    usage: tuple[int, int] = (100, 50)
    finish_reason: str = "tool_calls"


def tool_call(arguments: Any, usage: tuple[int, int] = (100, 50), **kw: Any) -> Reply:
    """A reply whose tool call carries `arguments` (a dict, or a raw string)."""
    return Reply(arguments=arguments, usage=usage, **kw)


def http_error(status: int, headers: dict[str, str] | None = None, body: Any = None) -> Reply:
    """A reply that is an HTTP error with an OpenAI-style error body."""
    return Reply(status=status, headers=headers or {}, body=body or {"error": {"message": "boom"}})


class FakeLLM:
    """The fake server's state: scripted replies and the requests it received."""

    def __init__(self, default: Reply | None = None, model: str = "fake-model") -> None:
        self.default = default or tool_call({})
        self.model = model
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self.script.extend(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        reply = self._next()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200 or reply.body is not None:
            content = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            return Response(
                content, status_code=reply.status, headers=reply.headers,
                media_type="application/json",
            )  # fmt: skip
        name = body["tools"][0]["function"]["name"] if body.get("tools") else "tool"
        arguments = (
            reply.arguments if isinstance(reply.arguments, str) else json.dumps(reply.arguments)
        )
        prompt_tokens, completion_tokens = reply.usage
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", self.model),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": reply.finish_reason,
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": f"call_{len(self.requests)}",
                                    "type": "function",
                                    "function": {"name": name, "arguments": arguments},
                                }
                            ],
                        },
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )
