"""The embedded model's OpenAI-compatible server: llama-cpp-python's chat template and
tokenizer in front of `Slots`, which decodes concurrent completions together in one
llama.cpp batch (continuous batching; see `service/llm/slots.py`).

A tool's grammar is asked after sampling instead of before: llama-cpp-python's own server
applies it to all 152k vocabulary entries at every generated token (about 20-25 ms a token
on 2 cores, a quarter of the token's time). Greedy decoding needs much less: take the best
token, ask the grammar about that one token, and mask the whole vocabulary only when the
grammar rejects it (as llama.cpp's own sampler does). The answer is the same token by
token. A temperature above zero masks with the grammar, then samples with llama-cpp-python's
default chain (top-k 40, top-p 0.95, min-p 0.05).

Run as `python -m service.llm.model_server --model PATH --port N --parallel P ...`; it
speaks the part of the OpenAI API the service uses: `GET /v1/models` and
`POST /v1/chat/completions` (messages, tools, tool_choice, temperature, max_tokens), prints
a line per completion, and answers `GET /stats` with the tokens evaluated and their rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp
import uvicorn
from llama_cpp import llama_chat_format, llama_grammar
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.llm import cpu_variants
from service.llm.cpu_variants import DEFAULT_EXCLUDE
from service.llm.slots import Decoded, Job, Slots


@dataclass
class Call:
    """One chat completion, ready to decode: its prompt tokens, limit and grammar."""

    prompt: list[int]
    limit: int
    gbnf: str | None
    temperature: float
    tool: dict[str, Any] | None


class Model:
    """The chat template and tokenizer (a vocabulary-only `Llama`) in front of the slots
    that decode (`Slots`, absent when only the HTTP layer is tested)."""

    def __init__(self, llama: llama_cpp.Llama, name: str, slots: Slots | None = None) -> None:
        self.llama = llama
        self.name = name
        self.slots = slots
        self.n_ctx = slots.n_ctx if slots is not None else llama.n_ctx()
        eos, bos = llama.token_eos(), llama.token_bos()
        self.formatter = llama_chat_format.Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=llama.detokenize([eos], special=True).decode() if eos != -1 else "",
            bos_token=llama.detokenize([bos], special=True).decode() if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def prepare(self, body: dict[str, Any]) -> Call:
        """The request's prompt tokens (through the model's chat template), its token limit,
        and the grammar of the tool `tool_choice` names (ValueError when it cannot run)."""
        tools = body.get("tools") or None
        choice = body.get("tool_choice")
        tool = None
        if isinstance(choice, dict) and tools:
            name = choice["function"]["name"]
            tool = next((t for t in tools if t["function"]["name"] == name), None)
            if tool is None:
                raise ValueError(f"tool_choice names {name!r}, which is not among the tools")
        formatted = self.formatter(messages=body["messages"], tools=tools, tool_choice=choice)
        prompt = self.llama.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        limit = int(body.get("max_tokens") or self.n_ctx - len(prompt))
        if len(prompt) + limit > self.n_ctx:
            raise ValueError(
                f"{len(prompt)} prompt tokens and max_tokens {limit} exceed the context "
                f"window of {self.n_ctx}"
            )
        gbnf = None
        if tool is not None:
            gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(tool["function"]["parameters"]))
        return Call(prompt, limit, gbnf, float(body.get("temperature", 0.2)), tool)

    async def decode(self, call: Call, stop: threading.Event) -> Decoded:
        """The call's answer from the slots, decoded alongside whatever else is running."""
        if self.slots is None:
            raise RuntimeError("this model server was started without a model to decode")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decoded] = loop.create_future()

        def done(result: Decoded | BaseException) -> None:
            def settle() -> None:
                if future.done():
                    return
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

            loop.call_soon_threadsafe(settle)

        self.slots.submit(Job(call.prompt, call.limit, call.gbnf, call.temperature, stop, done))
        return await future

    async def complete(self, body: dict[str, Any], stop: threading.Event) -> dict[str, Any]:
        """One chat completion (a forced tool call when `tool_choice` names a tool); decoding
        ends early once `stop` is set (the client has gone)."""
        call = await asyncio.to_thread(self.prepare, body)
        started = time.perf_counter()
        decoded = await self.decode(call, stop)
        print(
            f"completion: {len(call.prompt)} prompt tokens ({decoded.cached} cached), "
            f"{time.perf_counter() - started:.2f} s, {decoded.mean_batch} completions a step, "
            f"{decoded.finish}\n{perf_lines(decoded)}",
            file=sys.stderr,
        )
        text = self.llama.detokenize(decoded.tokens).decode("utf-8", errors="ignore")
        return self._response(text, call.tool, decoded.finish, len(call.prompt),
                              len(decoded.tokens))  # fmt: skip

    def _response(
        self, text: str, tool: dict[str, Any] | None, finish: str, n_prompt: int, n_gen: int
    ) -> dict[str, Any]:
        completion_id = f"chatcmpl-{uuid.uuid4()}"
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if tool is not None:
            name = tool["function"]["name"]
            call = {"name": name, "arguments": text}
            message = {
                "role": "assistant", "content": None, "function_call": call,
                "tool_calls": [{"id": f"call_{completion_id}", "type": "function",
                                "function": call}],
            }  # fmt: skip
            finish = "tool_calls" if finish == "stop" else finish
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.name,
            "choices": [{"index": 0, "message": message, "finish_reason": finish,
                         "logprobs": None}],
            "usage": {"prompt_tokens": n_prompt, "completion_tokens": n_gen,
                      "total_tokens": n_prompt + n_gen},
        }  # fmt: skip


def perf_lines(decoded: Decoded) -> str:
    """A completion's prompt and generation time in llama.cpp's `llama_perf` format (its
    share of each batch it was decoded in; a run is a step, forced tokens ride along), which
    the benchmarks read from the log."""
    return "\n".join(
        f"slots_perf: {kind:>11} time = {seconds * 1000:10.2f} ms / {count:5d} {unit}"
        for kind, seconds, count, unit in (
            ("prompt eval", decoded.prompt_s, decoded.evaluated, "tokens"),
            ("eval", decoded.generate_s, len(decoded.tokens) - decoded.forced, "runs"),
        )
    ) + (
        f"\nslots_perf: {'forced':>11} {decoded.forced} of {decoded.drafted} drafted tokens"
        " kept (evaluated in the steps above)"
    )


def create_app(model: Model, max_queue: int = 16) -> Starlette:
    """The HTTP layer: the model list, chat completions (decoded together, at most
    `max_queue` waiting for a sequence; more get 503 with Retry-After) and `/stats`; a
    completion whose client has hung up is dropped, or stopped at its next token."""

    async def models(_: Request) -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": model.name, "object": "model", "owned_by": "me"}]}
        )

    async def stats(_: Request) -> JSONResponse:
        slots = model.slots
        if slots is None:
            return JSONResponse({"parallel": 0})
        cpu = cpu_variants.loaded()
        figures = {"parallel": slots.parallel, "n_ctx": slots.n_ctx, "running": len(slots.active),
                   "waiting": slots.waiting, "jump_forward": slots.probe is not None,
                   "cpu_variant": cpu.variant if cpu else "linked in"}  # fmt: skip
        return JSONResponse(figures | slots.stats.as_dict())

    async def chat(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "the body must be a JSON object with a `messages` list")
        waiting = model.slots.waiting if model.slots is not None else 0
        if waiting >= max_queue:
            return _error(503, f"{waiting} completions waiting; retry later", retry_after=2)
        started, stop = time.perf_counter(), threading.Event()
        watch = asyncio.create_task(_set_on_disconnect(request, stop))
        try:
            answer = await model.complete(body, stop)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"{type(exc).__name__}: {exc}")
        finally:
            watch.cancel()
        if stop.is_set():
            return _error(499, "the client closed the connection")
        ms = round((time.perf_counter() - started) * 1000)
        return JSONResponse(answer, headers={"openai-processing-ms": str(ms)})

    return Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


async def _set_on_disconnect(request: Request, stop: threading.Event) -> None:
    """Set `stop` when the client hangs up (the body has been read: the next message the
    server gives is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    stop.set()


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error"}},
        status_code=status,
        headers=headers,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Load the model and serve it until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--model_alias", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n_ctx", type=int, default=16384)
    parser.add_argument("--n_threads", type=int, default=2)
    parser.add_argument("--n_threads_batch", type=int, default=2)
    parser.add_argument("--max_queue", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--no_jump_forward", action="store_true",
                        help="decode every token, forced or not")  # fmt: skip
    parser.add_argument("--cpu_exclude", default=",".join(sorted(DEFAULT_EXCLUDE)))
    parser.add_argument("--cpu_variant", default=None)
    args = parser.parse_args(argv)
    cpu = cpu_variants.ensure({v for v in args.cpu_exclude.split(",") if v}, args.cpu_variant)
    vocab = llama_cpp.Llama(model_path=args.model, vocab_only=True, verbose=False)
    threads = (args.n_threads, args.n_threads_batch)
    slots = Slots(args.model, args.n_ctx, threads, args.parallel,
                  jump_forward=not args.no_jump_forward)  # fmt: skip
    print(
        f"model server: {args.model_alias} on {args.host}:{args.port}, "
        f"{args.parallel} sequences decoded together, jump-forward "
        f"{'off' if args.no_jump_forward else 'on'}, {cpu_variants.describe(cpu)}",
        file=sys.stderr,
    )
    app = create_app(Model(vocab, args.model_alias, slots), max_queue=args.max_queue)
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
