"""Several hybrid calls decoded together against the same calls one by one, on the embedded
model, through llama.cpp's batch API (llama-cpp-python's low-level bindings): the measure
issue 25 asks for before the model server batches.

The calls are seed 004's labelling calls for N number candidates, as the service renders
them. Their shared prefix (instructions, tools, the article) is evaluated once, into
sequence 0; "one by one" then evaluates each call's own suffix and greedily generates
GENERATED tokens, one call after another (as the model server does today); "together"
copies the prefix to N sequences (`llama_memory_seq_cp`, which shares the cells), evaluates
every suffix in one batch and generates for all N in lockstep, one batch per step.
"""

from __future__ import annotations

import time
from typing import Any

import llama_cpp
import numpy as np

from evals.bench.harness import SEED_004
from service.llm.embedded import resolve_model_path
from service.prompts import fenced, load_prompt
from service.settings import load_settings

GENERATED = 16  # tokens per call: a label's tool call is 6-34
ITEMS = (
    "At least [[14]] people were killed in the blast.",
    "[[2,000]] civilians have been killed.",
    "Rockets hit [[Hamden]] on Friday.",
    "More than [[1.5 million]] people have fled.",
    "[[70]] bodies were found.",
    "[[3]] people were hurt.",
    "[[40]] soldiers died.",
    "[[9]] were missing.",
)
CHUNK = 512  # tokens per llama_decode call while evaluating a prompt


class Decoder:
    """One llama.cpp context with `n` sequences over one unified KV cache."""

    def __init__(self, n: int, threads: int = 2) -> None:
        path = resolve_model_path(load_settings())
        self.model = llama_cpp.llama_model_load_from_file(
            str(path).encode(), llama_cpp.llama_model_default_params()
        )
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_seq_max = 4096 * n, 2048, n
        params.kv_unified = True  # sequences share the prefix's cells (seq_cp needs it)
        params.n_threads = params.n_threads_batch = threads
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(4096, 0, n)

    def tokens(self, text: str) -> list[int]:
        """The text's tokens, special tokens parsed."""
        raw = text.encode("utf-8")
        buffer = (llama_cpp.llama_token * (len(raw) + 16))()
        n = llama_cpp.llama_tokenize(self.vocab, raw, len(raw), buffer, len(buffer), False, True)
        return list(buffer[:n])

    def decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants logits) entries."""
        batch = self.batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
            batch.seq_id[i][0], batch.logits[i] = seq, logits
        if llama_cpp.llama_decode(self.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    def best(self, index: int) -> int:
        """The greedy token at the batch entry `index`."""
        logits = llama_cpp.llama_get_logits_ith(self.ctx, index)
        return int(np.argmax(np.ctypeslib.as_array(logits, shape=(self.n_vocab,))))

    def prefill(self, seq: int, tokens: list[int], start: int) -> int:
        """Evaluate tokens into a sequence from position `start`; the first greedy token."""
        for lo in range(0, len(tokens), CHUNK):
            chunk = tokens[lo : lo + CHUNK]
            self.decode([(t, start + lo + j, seq, lo + j == len(tokens) - 1)
                         for j, t in enumerate(chunk)])  # fmt: skip
        return self.best(self.batch.n_tokens - 1)

    def one_by_one(self, calls: list[list[int]], shared: int) -> list[list[int]]:
        """Each call's suffix and answer in turn, in sequence 0 after the shared prefix."""
        answers = []
        for call in calls:
            llama_cpp.llama_memory_seq_rm(self.memory, 0, shared, -1)
            token, pos, out = self.prefill(0, call[shared:], shared), len(call), []
            for _ in range(GENERATED):
                out.append(token)
                self.decode([(token, pos, 0, True)])
                token, pos = self.best(0), pos + 1
            answers.append(out)
        return answers

    def together(self, calls: list[list[int]], shared: int) -> list[list[int]]:
        """Every call's suffix in one batch, then one batch per generated token."""
        n = len(calls)
        llama_cpp.llama_memory_seq_rm(self.memory, 0, shared, -1)
        for seq in range(1, n):
            llama_cpp.llama_memory_seq_rm(self.memory, seq, -1, -1)
            llama_cpp.llama_memory_seq_cp(self.memory, 0, seq, 0, shared)
        entries, last = [], []
        for seq, call in enumerate(calls):
            suffix = call[shared:]
            entries += [(t, shared + j, seq, j == len(suffix) - 1) for j, t in enumerate(suffix)]
            last.append(len(entries) - 1)
        self.decode(entries)
        tokens, positions = [self.best(i) for i in last], [len(c) for c in calls]
        answers: list[list[int]] = [[] for _ in calls]
        for _ in range(GENERATED):
            for seq in range(n):
                answers[seq].append(tokens[seq])
            self.decode([(tokens[s], positions[s], s, True) for s in range(n)])
            tokens, positions = [self.best(s) for s in range(n)], [p + 1 for p in positions]
        return answers


def _calls(decoder: Decoder, n: int) -> tuple[list[list[int]], int]:
    """N labelling calls as token lists (ChatML, as the chat template renders them) and the
    length of the prefix they share."""
    prompt = load_prompt("hybrid_labels@v3")
    calls = []
    for item in ITEMS[:n]:
        messages = prompt.render(text=fenced(SEED_004), task="numbers", item=fenced(item)).messages
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        calls.append(decoder.tokens(text + "<|im_start|>assistant\n"))
    shared = 0
    while all(len(c) > shared and c[shared] == calls[0][shared] for c in calls):
        shared += 1
    return calls, shared


def decode_together(sizes: tuple[int, ...] = (2, 4, 8)) -> dict[str, Any]:
    """For each N: the N calls one by one and together, seconds and the ratio."""
    rows = []
    for n in sizes:
        decoder = Decoder(n)
        calls, shared = _calls(decoder, n)
        llama_cpp.llama_memory_clear(decoder.memory, True)
        decoder.prefill(0, calls[0][:shared], 0)
        started = time.perf_counter()
        serial = decoder.one_by_one(calls, shared)
        serial_s = time.perf_counter() - started
        started = time.perf_counter()
        batched = decoder.together(calls, shared)
        together_s = time.perf_counter() - started
        rows.append({
            "calls": n, "shared_prefix_tokens": shared,
            "suffix_tokens": [len(c) - shared for c in calls], "generated_each": GENERATED,
            "one_by_one_s": round(serial_s, 2), "together_s": round(together_s, 2),
            "ratio": round(together_s / serial_s, 2),
            "same_answers": sum(a == b for a, b in zip(serial, batched, strict=True)),
        })  # fmt: skip
        llama_cpp.llama_free(decoder.ctx)
        llama_cpp.llama_model_free(decoder.model)
    return {"rows": rows}
