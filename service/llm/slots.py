"""Continuous batching for the embedded model server: several completions decoded together
in one llama.cpp batch, the way llama.cpp's own server runs its slots.

One context holds `parallel` sequences over one unified KV cache. A completion takes a free
sequence when it arrives and frees it when it ends; every step evaluates, in one
`llama_decode`, the next token of each completion that is generating and as much of the
waiting prompts as the batch has room for. A prompt starts from the longest prefix any
sequence already holds, copied with `llama_memory_seq_cp` (the copy shares the cells: the
instructions and tools every labelling call begins with are evaluated once per process).
Each completion keeps its own grammar, asked after sampling (`CheckedGrammar`), and its own
repeat penalty. When the cache is full, idle sequences are dropped first, then the newest
completion is put back in the queue and started again later.

Jump-forward: at temperature 0, once a token is chosen, the text the grammar forces next
(keys, quotes, braces, the rest of an enum value once its first token is chosen) is
tokenized and evaluated in the same step as that token, as a draft. Each drafted position's
logits are checked the way the token would have been chosen alone: the draft is kept up to
the first token the model would not have chosen, which replaces it, and the cells after it
are dropped. So the answer is the greedy answer, while the steps are only as many as the
choices the grammar leaves.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from service.llm import cpu_variants

# llama-cpp-python's chat-completion defaults, kept so that answers stay the same.
REPEAT_PENALTY = 1.1
PENALTY_LAST_N = 64
TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05
_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")], align=True)
# A prompt waits for another one still evaluating a prefix they share, when sharing saves
# at least this many tokens (a burst of labelling calls evaluates the instructions once).
WAIT_FOR_SHARED = 64
MAX_FORCED = 48  # characters of forced text drafted at once


def apply_sampler(sampler: Any, data: npt.NDArray[Any]) -> None:
    """Run a llama.cpp sampler over candidate tokens in place (rejected ones get -inf)."""
    array = llama_cpp.llama_token_data_array(
        data=ctypes.cast(data.ctypes.data, llama_cpp.llama_token_data_p),
        size=len(data), selected=-1, sorted=False,
    )  # fmt: skip
    llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))


class CheckedGrammar:
    """A GBNF grammar asked about the sampled token first, the whole vocabulary second."""

    def __init__(self, vocab: Any, n_vocab: int, gbnf: str) -> None:
        self._sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._sampler:
            raise ValueError("the tool's schema gave a grammar llama.cpp does not accept")
        self._all = np.zeros(n_vocab, dtype=_TOKEN_DATA)
        self._all["id"] = np.arange(n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        self.full_masks = 0  # how often the sampled token was rejected

    def _apply(self, data: npt.NDArray[Any]) -> None:
        apply_sampler(self._sampler, data)

    def allows(self, token: int) -> bool:
        """Whether the grammar accepts `token` next."""
        self._one["id"], self._one["logit"] = token, 0.0
        self._apply(self._one)
        return bool(np.isfinite(self._one["logit"][0]))

    def masked(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The logits with every token the grammar rejects next at minus infinity."""
        self.full_masks += 1
        self._all["logit"] = logits
        self._apply(self._all)
        return np.array(self._all["logit"], dtype=np.float32)

    def best(self, logits: npt.NDArray[np.float32]) -> int:
        """The highest-scoring token the grammar accepts next."""
        token = int(np.argmax(logits))
        if self.allows(token):
            return token
        return int(np.argmax(self.masked(logits)))

    def accept(self, token: int) -> None:
        """Advance the grammar past `token`."""
        llama_cpp.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        """Free the llama.cpp sampler."""
        llama_cpp.llama_sampler_free(self._sampler)

    def forced(self, probe: Probe, before: str) -> str:
        """The text the grammar forces next, read one character at a time on a copy of the
        grammar; `before` is the answer's last character. Where only a space is optional
        (JSON's `space ::= " "?`) the draft writes JSON as models do, a space after ':'
        and ',' only; the model's own choice is checked all the same."""
        copy = llama_cpp.llama_sampler_clone(self._sampler)
        text = ""
        try:
            while len(text) < MAX_FORCED:
                chars, may_end = probe.allowed(copy)
                if may_end or not chars:
                    break
                if len(chars) == 2 and " " in chars:
                    other = chars[0] if chars[1] == " " else chars[1]
                    chars = [" " if (text or before)[-1:] in (":", ",") else other]
                if len(chars) != 1:
                    break
                text += chars[0]
                llama_cpp.llama_sampler_accept(copy, probe.ids[chars[0]])
        finally:
            llama_cpp.llama_sampler_free(copy)
        return text


class Probe:
    """The vocabulary's one-character ASCII tokens and its end token: asking a grammar about
    these few says which character it allows next, and whether the answer may end."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab
        self.ids: dict[str, int] = {}
        for code in range(32, 127):
            tokens = tokenize(vocab, chr(code))
            if len(tokens) == 1:
                self.ids[chr(code)] = tokens[0]
        self.chars = list(self.ids)
        self._data = np.zeros(len(self.chars) + 1, dtype=_TOKEN_DATA)
        self._data["id"][:-1] = [self.ids[c] for c in self.chars]
        self._data["id"][-1] = llama_cpp.llama_vocab_eos(vocab)

    def allowed(self, sampler: Any) -> tuple[list[str], bool]:
        """The characters `sampler`'s grammar accepts next, and whether it accepts the end."""
        data = self._data.copy()
        apply_sampler(sampler, data)
        ok = np.isfinite(data["logit"])
        return [self.chars[i] for i in np.flatnonzero(ok[:-1])], bool(ok[-1])

    def piece(self, token: int) -> str:
        """A token's text (its last character is what a draft needs)."""
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[: max(n, 0)].decode("utf-8", errors="ignore")


def tokenize(vocab: Any, text: str) -> list[int]:
    """`text`'s tokens, no special tokens."""
    raw = text.encode()
    buf = (llama_cpp.llama_token * (len(raw) + 8))()
    n = llama_cpp.llama_tokenize(vocab, raw, len(raw), buf, len(buf), False, False)
    return list(buf[: max(n, 0)])


def penalized(logits: npt.NDArray[np.float32], recent: Sequence[int]) -> npt.NDArray[np.float32]:
    """llama.cpp's repeat penalty over the last tokens generated in this answer."""
    out = np.array(logits, dtype=np.float32)
    seen = np.unique(np.asarray(recent[-PENALTY_LAST_N:], dtype=np.int64))
    if len(seen):
        values = out[seen]
        out[seen] = np.where(values <= 0, values * REPEAT_PENALTY, values / REPEAT_PENALTY)
    return out


def sample(logits: npt.NDArray[np.float32], temperature: float, rng: np.random.Generator) -> int:
    """llama-cpp-python's default sampling chain: top-k, temperature, top-p, min-p."""
    top = np.argsort(logits)[::-1][:TOP_K]
    top = top[np.isfinite(logits[top])]
    scaled = logits[top] / temperature
    p = np.exp(scaled - scaled.max())
    p /= p.sum()
    keep = max(1, int(np.searchsorted(np.cumsum(p), TOP_P) + 1))
    top, p = top[:keep], p[:keep]
    top, p = top[p >= MIN_P * p[0]], p[p >= MIN_P * p[0]]
    return int(rng.choice(top, p=p / p.sum()))


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two token lists share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if len(diff) else n


@dataclass
class Decoded:
    """One answer's tokens, why it ended, and how often the grammar masked the vocabulary."""

    tokens: list[int] = field(default_factory=list)
    finish: str = "stop"  # or "length", "cancelled"
    full_masks: int = 0
    cached: int = 0  # prompt tokens found in the cache
    evaluated: int = 0  # prompt tokens evaluated
    mean_batch: float = 0.0  # completions decoded in the same steps, on average
    drafted: int = 0  # forced tokens evaluated as drafts (jump-forward)
    forced: int = 0  # of them, kept: tokens that took no step of their own
    prompt_s: float = 0.0  # its share of the steps' time: prompt tokens
    generate_s: float = 0.0  # and generated tokens


@dataclass
class Job:
    """One completion: its prompt, limits, and where it stands."""

    prompt: list[int]
    limit: int
    gbnf: str | None
    temperature: float
    stop: threading.Event
    on_done: Callable[[Decoded | BaseException], None]
    seq: int = -1
    fed: int = 0  # prompt tokens in the cache
    next: int = -1  # the token to evaluate next (once generating)
    gen_fed: int = 0  # generated tokens in the cache
    grammar: CheckedGrammar | None = None
    decoded: Decoded = field(default_factory=Decoded)
    steps: int = 0
    companions: int = 0
    in_step: int = 0  # tokens in the step being decoded
    draft: list[int] = field(default_factory=list)  # forced tokens to evaluate after `next`

    @property
    def generating(self) -> bool:
        """Whether the whole prompt is in the cache."""
        return self.fed >= len(self.prompt)

    @property
    def in_cache(self) -> list[int]:
        """The tokens this completion's sequence holds."""
        return self.prompt[: self.fed] + self.decoded.tokens[: self.gen_fed]


@dataclass
class Stats:
    """Totals since start: tokens evaluated and the seconds they took, prompt and generation
    apart (a step's time is shared between them by their tokens)."""

    prompt_tokens: int = 0
    prompt_s: float = 0.0
    generated_tokens: int = 0
    generate_s: float = 0.0
    steps: int = 0
    preempted: int = 0
    drafted: int = 0
    forced: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The totals and the two rates, for `GET /stats`."""
        return {
            "prompt_tokens": self.prompt_tokens, "prompt_s": round(self.prompt_s, 3),
            "generated_tokens": self.generated_tokens,
            "generate_s": round(self.generate_s, 3), "steps": self.steps,
            "preempted": self.preempted, "drafted_tokens": self.drafted,
            "forced_tokens": self.forced,
            "prompt_tokens_per_s": _rate(self.prompt_tokens, self.prompt_s),
            "generated_tokens_per_s": _rate(self.generated_tokens, self.generate_s),
        }  # fmt: skip


def _rate(tokens: int, seconds: float) -> float | None:
    return round(tokens / seconds, 1) if seconds > 0 else None


class Slots:
    """One llama.cpp context decoding up to `parallel` completions together."""

    def __init__(
        self,
        model_path: str,
        n_ctx: int,
        threads: tuple[int, int],
        parallel: int,
        n_batch: int = 512,
        jump_forward: bool = True,
    ) -> None:
        """Load the model (its weights mapped, not copied) and start the decoding thread;
        `threads` is (generating, evaluating prompts); `jump_forward` drafts what the
        grammar forces (greedy answers only)."""
        cpu_variants.ensure()  # a build with CPU variants has no backend until one is loaded
        self.model = llama_cpp.llama_model_load_from_file(
            model_path.encode(), llama_cpp.llama_model_default_params()
        )
        if not self.model:
            raise ValueError(f"llama.cpp could not load {model_path}")
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, n_batch, n_batch
        params.n_seq_max, params.kv_unified = parallel, True  # prefixes shared by copying
        params.n_threads, params.n_threads_batch = threads
        # off, as llama-cpp-python's Llama has it: on 2 cores it evaluates a 48-token
        # suffix after the 1,086-token instructions at 49 tokens/s, against 66 without
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        self.n_ctx, self.n_batch, self.parallel = n_ctx, n_batch, parallel
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.probe = Probe(self.vocab) if jump_forward else None
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.cached: list[list[int]] = [[] for _ in range(parallel)]  # what each sequence holds
        self.used = [0] * parallel  # when each sequence was last given to a completion
        self.held = False  # after a completion was put back: admit none until one ends
        self.clock = 0
        self.active: list[Job] = []
        self.queue: deque[Job] = deque()
        self.stats = Stats()
        self.rng = np.random.default_rng()
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="slots", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue a completion; `job.on_done` gets its answer (from the decoding thread)."""
        with self._wake:
            self.queue.append(job)
            self._wake.notify()

    @property
    def waiting(self) -> int:
        """Completions queued, not yet decoding."""
        return len(self.queue)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self.queue and not self.active:
                    self._wake.wait()
                self._admit()
            if self.active:
                try:
                    self._step()
                except Exception as exc:  # the thread must outlive any one step
                    self._fail_all(exc)

    def _admit(self) -> None:
        """Give free sequences to queued completions, each from the longest cached prefix."""
        while self.queue and len(self.active) < self.parallel and not self.held:
            job = self.queue[0]
            if job.stop.is_set():
                self.queue.popleft()
                job.decoded.finish = "cancelled"
                job.on_done(job.decoded)
                continue
            source, n = self._longest_prefix(job.prompt)
            if any(
                not other.generating
                and common_prefix(other.prompt, job.prompt) - n >= WAIT_FOR_SHARED
                for other in self.active
            ):
                return  # a prompt being evaluated will hold more of this one: copy it then
            self.queue.popleft()
            try:
                grammar = CheckedGrammar(self.vocab, self.n_vocab, job.gbnf) if job.gbnf else None
            except ValueError as exc:  # the caller's schema: its error, not the server's
                job.on_done(exc)
                continue
            self._place(job, source, min(n, len(job.prompt) - 1), grammar)

    def _longest_prefix(self, prompt: list[int]) -> tuple[int, int]:
        holders = [(common_prefix(self._holds(s), prompt), s) for s in range(self.parallel)]
        n, source = max(holders)
        return source, n

    def _holds(self, seq: int) -> list[int]:
        for job in self.active:
            if job.seq == seq:
                return job.in_cache
        return self.cached[seq]

    def _place(self, job: Job, source: int, n: int, grammar: CheckedGrammar | None) -> None:
        busy = {j.seq for j in self.active}
        free = [s for s in range(self.parallel) if s not in busy]
        # keep other prompts' caches where possible: a sequence this prompt only extends,
        # else an empty one, else the one used longest ago
        extends = [
            s for s in free if common_prefix(self.cached[s], job.prompt) == len(self.cached[s])
        ]
        seq = (
            max(extends, key=lambda s: len(self.cached[s]))
            if extends
            else min(free, key=lambda s: self.used[s])
        )
        self.clock += 1
        self.used[seq] = self.clock
        if seq == source:
            llama_cpp.llama_memory_seq_rm(self.memory, seq, n, -1)
        else:
            llama_cpp.llama_memory_seq_rm(self.memory, seq, -1, -1)
            if n > 0:
                llama_cpp.llama_memory_seq_cp(self.memory, source, seq, 0, n)
        self.cached[seq] = []
        job.seq, job.fed = seq, n
        job.decoded.cached = n
        job.grammar = grammar
        job.draft = self._draft(job)
        self.active.append(job)

    def _entries(self) -> tuple[list[tuple[int, int, int, bool]], list[tuple[Job, int, int]]]:
        """This step's batch: each generating completion's next token and its draft, then
        prompt chunks (a prompt's last chunk with its draft when there is room); and where
        each completion's logits are: (completion, first index, rows)."""
        entries: list[tuple[int, int, int, bool]] = []
        readers: list[tuple[Job, int, int]] = []
        for job in self.active:
            if job.generating:
                if len(entries) + 1 + len(job.draft) > self.n_batch - (self.parallel - 1):
                    job.draft = []  # the batch keeps room for every completion's next token
                pos = len(job.prompt) + len(job.decoded.tokens) - 1
                readers.append((job, len(entries), 1 + len(job.draft)))
                for i, token in enumerate([job.next, *job.draft]):
                    entries.append((token, pos + i, job.seq, True))
                job.in_step = 1 + len(job.draft)
        for job in self.active:
            room = self.n_batch - len(entries)
            if job.generating or room <= 0:
                continue
            chunk = job.prompt[job.fed : job.fed + room]
            last = job.fed + len(chunk) == len(job.prompt)
            for i, token in enumerate(chunk):
                entries.append((token, job.fed + i, job.seq, last and i == len(chunk) - 1))
            job.fed += len(chunk)
            job.decoded.evaluated += len(chunk)
            job.in_step = len(chunk)
            if last:
                if len(entries) + len(job.draft) > self.n_batch:
                    job.draft = []
                readers.append((job, len(entries) - 1, 1 + len(job.draft)))
                for i, token in enumerate(job.draft):
                    entries.append((token, len(job.prompt) + i, job.seq, True))
                job.in_step += len(job.draft)
        return entries, readers

    def _step(self) -> None:
        """One llama_decode for every active completion, then each one's next tokens."""
        for job in [j for j in self.active if j.stop.is_set()]:
            self._finish(job, "cancelled")
        if not self.active:
            return
        before = {id(job): job.fed for job in self.active}
        entries, readers = self._entries()
        started = time.perf_counter()
        status = self._decode(entries)
        if status == 1 and self._make_room():
            for job in self.active:
                job.decoded.evaluated -= job.fed - before.get(id(job), job.fed)
                job.fed = before.get(id(job), job.fed)
            return  # the batch was not applied: build it again
        if status != 0:
            self._fail_all(RuntimeError(f"llama_decode failed ({status})"))
            return
        self._count(entries, readers, time.perf_counter() - started)
        for job, first, rows in readers:
            logits = [
                np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(self.ctx, first + i), shape=(self.n_vocab,)
                )
                for i in range(rows)
            ]
            drafted, job.draft = job.draft, []
            self._advance(job, logits, drafted)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> int:
        batch = self.batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
            batch.seq_id[i][0], batch.logits[i] = seq, logits
        return int(llama_cpp.llama_decode(self.ctx, batch))

    def _count(
        self,
        entries: list[tuple[int, int, int, bool]],
        readers: list[tuple[Job, int, int]],
        s: float,
    ) -> None:
        generated = sum(1 for job, _, _ in readers if job.decoded.tokens)
        drafted = sum(len(job.draft) for job, _, _ in readers)
        prompt = len(entries) - generated - drafted
        self.stats.steps += 1
        self.stats.prompt_tokens += prompt
        self.stats.generated_tokens += generated
        self.stats.drafted += drafted
        self.stats.prompt_s += s * prompt / len(entries)
        self.stats.generate_s += s * (generated + drafted) / len(entries)
        for job in self.active:
            job.steps += 1
            job.companions += len(self.active)
            share = s * job.in_step / len(entries)
            if job.decoded.tokens:
                job.decoded.generate_s += share
            else:
                job.decoded.prompt_s += share
            job.in_step = 0

    def _make_room(self) -> bool:
        """Free cache cells: idle sequences first, then the newest completion goes back to
        the queue (it starts again later). False when nothing can be freed."""
        busy = {j.seq for j in self.active}
        idle = [s for s in range(self.parallel) if s not in busy and self.cached[s]]
        for seq in idle:
            llama_cpp.llama_memory_seq_rm(self.memory, seq, -1, -1)
            self.cached[seq] = []
        if idle:
            return True
        if len(self.active) < 2:
            return False
        job = self.active.pop()
        llama_cpp.llama_memory_seq_rm(self.memory, job.seq, -1, -1)
        if job.grammar is not None:
            job.grammar.close()
        self.stats.preempted += 1
        self.held = True
        self.queue.appendleft(Job(job.prompt, job.limit, job.gbnf, job.temperature, job.stop,
                                  job.on_done))  # fmt: skip
        return True

    def _choose(self, job: Job, logits: npt.NDArray[np.float32]) -> int:
        scores = penalized(logits, job.decoded.tokens)
        if job.temperature > 0:
            if job.grammar is not None:
                scores = job.grammar.masked(scores)
            return sample(scores, job.temperature, self.rng)
        if job.grammar is not None:
            return job.grammar.best(scores)
        return int(np.argmax(scores))

    def _advance(self, job: Job, rows: list[npt.NDArray[np.float32]], drafted: list[int]) -> None:
        """Choose the completion's next token from each row of logits, keeping the drafted
        tokens up to the first the model would not have chosen; end it at the end of
        generation, its limit, or when its client has gone."""
        decoded = job.decoded
        start = len(decoded.tokens)  # all of them in the cache now
        kept = 0
        token = self._choose(job, rows[0])
        while kept < len(drafted) and token == drafted[kept]:
            if job.grammar is not None:
                job.grammar.accept(token)
            decoded.tokens.append(token)
            kept += 1
            token = self._choose(job, rows[kept])
        job.gen_fed = start + kept
        decoded.drafted += len(drafted)
        decoded.forced += kept
        self.stats.forced += kept
        if kept < len(drafted):  # the cells of the draft the model did not choose
            llama_cpp.llama_memory_seq_rm(self.memory, job.seq, len(job.prompt) + start + kept, -1)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            return self._finish(job, "stop")
        if job.stop.is_set():
            return self._finish(job, "cancelled")
        if job.grammar is not None:
            job.grammar.accept(token)
        decoded.tokens.append(token)
        job.next = token
        if len(decoded.tokens) >= job.limit:
            return self._finish(job, "length")
        job.draft = self._draft(job)
        return None

    def _draft(self, job: Job) -> list[int]:
        """The tokens of the text the completion's grammar forces next (jump-forward), as
        many as its limit leaves room for; none when sampling or without a grammar."""
        if self.probe is None or job.grammar is None or job.temperature > 0:
            return []
        tokens = job.decoded.tokens
        before = self.probe.piece(tokens[-1]) if tokens else ""
        text = job.grammar.forced(self.probe, before)
        room = job.limit - len(tokens) - 1
        return tokenize(self.vocab, text)[: max(room, 0)] if text else []

    def _finish(self, job: Job, finish: str) -> None:
        decoded = job.decoded
        decoded.finish = finish
        decoded.mean_batch = round(job.companions / max(job.steps, 1), 2)
        if job.grammar is not None:
            decoded.full_masks = job.grammar.full_masks
            job.grammar.close()
        self.active.remove(job)
        self.cached[job.seq] = job.in_cache
        self.held = False
        job.on_done(decoded)

    def _fail_all(self, error: BaseException) -> None:
        print(f"slots: {error}", file=sys.stderr)
        self.held = False
        for job in list(self.active):
            llama_cpp.llama_memory_seq_rm(self.memory, job.seq, -1, -1)
            self.cached[job.seq] = []
            if job.grammar is not None:
                job.grammar.close()
            self.active.remove(job)
            job.on_done(error)
