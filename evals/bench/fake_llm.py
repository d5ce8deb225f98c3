"""A fake OpenAI-compatible LLM server speaking the real chat-completions protocol.

Tests script its replies in order (a tool call, a schema-invalid tool call, an HTTP error,
a hang); when the script runs out it repeats the default reply. Every request body is kept.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from evals.bench.fake_batches import FakeBatches


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
    media_type: str = "application/json"
    trickle_s: float = 0.0  # send the body a few bytes at a time, this long apart
    content: str | None = None  # answer in prose instead of a tool call


def prose(content: str, usage: tuple[int, int] = (100, 50)) -> Reply:
    """A well-formed completion that answers in text and makes no tool call."""
    return Reply(content=content, usage=usage, finish_reason="stop")


def garbage(body: str = "<html><body>502 Bad Gateway</body></html>") -> Reply:
    """A 200 whose body is not JSON at all (a proxy's error page, say)."""
    return Reply(body=body, media_type="text/html")


async def _trickled(payload: bytes, interval: float) -> AsyncIterator[bytes]:
    for i in range(0, len(payload), 16):
        yield payload[i : i + 16]
        await asyncio.sleep(interval)


def tool_call(arguments: Any, usage: tuple[int, int] = (100, 50), **kw: Any) -> Reply:
    """A reply whose tool call carries `arguments` (a dict, or a raw string)."""
    return Reply(arguments=arguments, usage=usage, **kw)


def http_error(status: int, headers: dict[str, str] | None = None, body: Any = None) -> Reply:
    """A reply that is an HTTP error with an OpenAI-style error body."""
    return Reply(status=status, headers=headers or {}, body=body or {"error": {"message": "boom"}})


def labels(delay_s: float = 0.0) -> dict[str, Reply]:
    """A label for every hybrid task, as a model would give it (the fake's `by_tool`),
    each answered after `delay_s`."""
    return {
        "NumberAnswer": tool_call({"counts": "people", "label": "killed"}, delay_s=delay_s),
        "NameAnswer": tool_call({"kind": "place"}, delay_s=delay_s),
        "SpeakerAnswer": tool_call({"speaker": "Ana Lusk"}, delay_s=delay_s),
        "TalksAnswer": tool_call({"talks": None}, delay_s=delay_s),
    }


def asked_tool(body: dict[str, Any]) -> str:
    """The tool a request asks for: its tool_choice, else its first tool."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("function", {}).get("name"):
        return str(choice["function"]["name"])
    tools = body.get("tools") or [{}]
    return str(tools[0].get("function", {}).get("name", ""))


class FakeLLM:
    """The fake server's state: scripted replies and the requests it received."""

    def __init__(
        self,
        default: Reply | None = None,
        model: str = "fake-model",
        keep: bool = True,
        by_tool: dict[str, Reply] | None = None,
    ) -> None:
        self.default = default or tool_call({})
        # Unscripted requests for these tools get their own reply instead of the default.
        self.by_tool = by_tool or {}
        self.keep = keep
        self.model = model
        self.script: deque[Reply] = deque()
        # Delayed replies being waited on now, and the most ever at once.
        self.in_flight = 0
        self.peak_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        # (host, port) of the connection each request came over: one client, one port.
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self.batches = FakeBatches(self.answer)
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                *self.batches.routes(),
            ]
        )

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self.script.extend(replies)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self.script:
                return self.script.popleft()
        return self.by_tool.get(asked_tool(body), self.default)

    def answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        """What the fake answers a request, as (status, JSON body), with no delay: a batch
        line is answered as the live call would be."""
        if self.keep:
            self.requests.append(body)
        reply = self._next(body)
        if reply.status != 200 or reply.body is not None:
            return reply.status, reply.body
        return 200, self._completion(body, reply)

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        if self.keep:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self.peers.append(
                (request.client.host, request.client.port) if request.client else ("", 0)
            )
        reply = self._next(body)
        if reply.delay_s:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                await asyncio.sleep(reply.delay_s)
            finally:
                self.in_flight -= 1
        if reply.status != 200 or reply.body is not None:
            content = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            return Response(
                content, status_code=reply.status, headers=reply.headers,
                media_type=reply.media_type,
            )  # fmt: skip
        completion = self._completion(body, reply)
        if reply.trickle_s:
            payload = json.dumps(completion).encode()
            return StreamingResponse(
                _trickled(payload, reply.trickle_s), media_type="application/json"
            )
        return JSONResponse(completion, headers=reply.headers)

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        """The chat.completion object for a scripted tool call (or prose) reply."""
        name = asked_tool(body) if body.get("tools") else "tool"
        arguments = (
            reply.arguments if isinstance(reply.arguments, str) else json.dumps(reply.arguments)
        )
        prompt_tokens, completion_tokens = reply.usage
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.content is None:
            message["tool_calls"] = [
                {
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ]
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", self.model),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": reply.finish_reason,
                    "message": message,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def main() -> None:  # pragma: no cover - a separate process in benchmarks
    """Serve the fake on 127.0.0.1: `python -m evals.bench.fake_llm PORT [DELAY_S]`.

    Every request is answered with seed 004's gold facts after DELAY_S seconds (a hybrid
    labelling call with a label); requests are not kept, so a long run does not grow the
    fake.
    """
    import sys

    import uvicorn

    from evals.gold import GOLD_DIR, load_case

    facts = load_case(GOLD_DIR / "004_8b1c8c72e30bd7ca.yaml").facts.model_dump(mode="json")
    port, delay = int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    default = tool_call(facts, usage=(3500, 900), delay_s=delay)
    by_tool = {name: replace(reply, delay_s=delay) for name, reply in labels().items()}
    fake = FakeLLM(default=default, keep=False, by_tool=by_tool)
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
