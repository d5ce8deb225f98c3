"""The embedded model's OpenAI-compatible server: llama-cpp-python's model, chat template
and decoding, with the tool's grammar checked after sampling instead of before.

llama-cpp-python's own server applies a tool call's grammar to all 152k vocabulary
entries at every generated token (about 20-25 ms a token on 2 cores, a quarter of the
token's time). Greedy decoding needs much less: take the best token, ask the grammar
about that one token, and mask the whole vocabulary only when the grammar rejects it
(as llama.cpp's own sampler does). The answer is the same token by token: the best token
the grammar allows is the best token whenever the grammar allows the best token. A
sampling temperature above zero goes through llama-cpp-python's own grammar chain.

Run as `python -m service.llm.model_server --model PATH --port N ...`; it speaks the part
of the OpenAI API the service uses: `GET /v1/models` and `POST /v1/chat/completions`
(messages, tools, tool_choice, temperature, max_tokens), and prints llama.cpp's timing
lines per request, as llama-cpp-python's server does.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt
import uvicorn
from llama_cpp import llama_chat_format, llama_grammar
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# llama-cpp-python's chat-completion defaults, kept so that answers stay the same.
REPEAT_PENALTY = 1.1
PENALTY_LAST_N = 64
_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")], align=True)


class CheckedGrammar:
    """A GBNF grammar asked about the sampled token first, the whole vocabulary second."""

    def __init__(self, model: llama_cpp.Llama, gbnf: str) -> None:
        vocab = llama_cpp.llama_model_get_vocab(model.model)
        self._sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._sampler:
            raise ValueError("the tool's schema gave a grammar llama.cpp does not accept")
        self._all = np.zeros(model.n_vocab(), dtype=_TOKEN_DATA)
        self._all["id"] = np.arange(model.n_vocab(), dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        self.full_masks = 0  # how often the sampled token was rejected

    def _apply(self, data: npt.NDArray[Any]) -> None:
        array = llama_cpp.llama_token_data_array(
            data=ctypes.cast(data.ctypes.data, llama_cpp.llama_token_data_p),
            size=len(data), selected=-1, sorted=False,
        )  # fmt: skip
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(array))

    def allows(self, token: int) -> bool:
        """Whether the grammar accepts `token` next."""
        self._one["id"], self._one["logit"] = token, 0.0
        self._apply(self._one)
        return bool(np.isfinite(self._one["logit"][0]))

    def best(self, logits: npt.NDArray[np.float32]) -> int:
        """The highest-scoring token the grammar accepts next."""
        token = int(np.argmax(logits))
        if self.allows(token):
            return token
        self.full_masks += 1
        self._all["logit"] = logits
        self._apply(self._all)
        return int(np.argmax(self._all["logit"]))

    def accept(self, token: int) -> None:
        """Advance the grammar past `token`."""
        llama_cpp.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        """Free the llama.cpp sampler."""
        llama_cpp.llama_sampler_free(self._sampler)


def penalized(logits: npt.NDArray[np.float32], recent: Sequence[int]) -> npt.NDArray[np.float32]:
    """llama.cpp's repeat penalty over the last tokens generated in this answer."""
    seen = np.unique(np.asarray(recent[-PENALTY_LAST_N:], dtype=np.int64))
    if not len(seen):
        return logits
    out = logits.copy()
    values = out[seen]
    out[seen] = np.where(values <= 0, values * REPEAT_PENALTY, values / REPEAT_PENALTY)
    return out


def greedy_processor(
    grammar: CheckedGrammar, generated: list[int]
) -> Callable[[Any, npt.NDArray[np.float32]], npt.NDArray[np.float32]]:
    """A llama-cpp-python logits processor that leaves only the grammar's best token."""

    def choose(_input_ids: Any, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        token = grammar.best(penalized(np.asarray(logits, dtype=np.float32), generated))
        only = np.full_like(logits, -np.inf)
        only[token] = 0.0
        return only

    return choose


@dataclass
class Decoded:
    """One answer's tokens, why it ended, and how often the grammar masked the vocabulary."""

    tokens: list[int] = field(default_factory=list)
    finish: str = "stop"  # or "length"
    full_masks: int = 0


class Model:
    """One loaded model, its chat template, and one request at a time."""

    def __init__(self, llama: llama_cpp.Llama, name: str) -> None:
        self.llama = llama
        self.name = name
        eos, bos = llama.token_eos(), llama.token_bos()
        self.vocab = llama_cpp.llama_model_get_vocab(llama.model)
        self.formatter = llama_chat_format.Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=llama.detokenize([eos], special=True).decode() if eos != -1 else "",
            bos_token=llama.detokenize([bos], special=True).decode() if bos != -1 else "",
            stop_token_ids=[eos],
        )
        self.lock = asyncio.Lock()

    def complete(self, body: dict[str, Any], stop: threading.Event | None = None) -> dict[str, Any]:
        """One chat completion (a forced tool call when `tool_choice` names a tool);
        decoding ends early once `stop` is set (the client has gone)."""
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
        limit = int(body.get("max_tokens") or self.llama.n_ctx() - len(prompt))
        if len(prompt) + limit > self.llama.n_ctx():
            raise ValueError(
                f"{len(prompt)} prompt tokens and max_tokens {limit} exceed the context "
                f"window of {self.llama.n_ctx()}"
            )
        gbnf = None
        if tool is not None:
            gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(tool["function"]["parameters"]))
        temperature = float(body.get("temperature", 0.2))
        llama_cpp.llama_perf_context_reset(self.llama.ctx)
        decoded = self.decode(prompt, limit, gbnf, temperature, stop=stop)
        llama_cpp.llama_perf_context_print(self.llama.ctx)
        text = self.llama.detokenize(decoded.tokens).decode("utf-8", errors="ignore")
        return self._response(text, tool, decoded.finish, len(prompt), len(decoded.tokens))

    def decode(
        self,
        prompt: list[int],
        limit: int,
        gbnf: str | None,
        temperature: float,
        checked: bool = True,
        stop: threading.Event | None = None,
    ) -> Decoded:
        """The answer's tokens: greedy with the grammar asked after sampling (`checked`),
        else through llama-cpp-python's own grammar chain (always when sampling)."""
        decoded = Decoded()
        grammar = None
        if gbnf and temperature <= 0 and checked:
            grammar = CheckedGrammar(self.llama, gbnf)
        options: dict[str, Any]
        if grammar is not None:
            processor = greedy_processor(grammar, decoded.tokens)
            options = {"temp": 0.0, "logits_processor": [processor]}
        else:  # llama-cpp-python's own chain, grammar and all
            chain = llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False) if gbnf else None
            options = {"temp": temperature, "repeat_penalty": REPEAT_PENALTY, "grammar": chain}
        try:
            for token in self.llama.generate(prompt, **options):
                if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                    break
                if stop is not None and stop.is_set():
                    decoded.finish = "cancelled"
                    break
                if grammar is not None:
                    grammar.accept(token)
                decoded.tokens.append(token)
                if len(decoded.tokens) >= limit:
                    decoded.finish = "length"
                    break
        finally:
            if grammar is not None:
                decoded.full_masks = grammar.full_masks
                grammar.close()
        return decoded

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


def create_app(model: Model, max_queue: int = 16) -> Starlette:
    """The HTTP layer: the model list and chat completions, one completion at a time, at
    most `max_queue` waiting (more get 503 with Retry-After); a completion whose client has
    hung up is skipped, or stopped at its next token."""
    waiting = 0

    async def models(_: Request) -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": model.name, "object": "model", "owned_by": "me"}]}
        )

    async def chat(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "the body must be a JSON object with a `messages` list")
        nonlocal waiting
        if waiting >= max_queue:
            return _error(503, f"{waiting} completions waiting; retry later", retry_after=2)
        started, stop = time.perf_counter(), threading.Event()
        watch = asyncio.create_task(_set_on_disconnect(request, stop))
        waiting += 1
        try:
            async with model.lock:
                waiting -= 1
                if stop.is_set():
                    return _error(499, "the client closed the connection")
                answer = await asyncio.to_thread(model.complete, body, stop)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"{type(exc).__name__}: {exc}")
        finally:
            watch.cancel()
        ms = round((time.perf_counter() - started) * 1000)
        return JSONResponse(answer, headers={"openai-processing-ms": str(ms)})

    return Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
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
    args = parser.parse_args(argv)
    llama = llama_cpp.Llama(
        model_path=args.model, n_ctx=args.n_ctx, n_threads=args.n_threads,
        n_threads_batch=args.n_threads_batch, logits_all=False, verbose=True,
    )  # fmt: skip
    print(f"model server: {args.model_alias} on {args.host}:{args.port}", file=sys.stderr)
    app = create_app(Model(llama, args.model_alias), max_queue=args.max_queue)
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
