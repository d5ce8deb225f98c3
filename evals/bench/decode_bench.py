"""Jump-forward measured against its bound: every recorded labelling call of an article (the
cassettes of the seeds and the datasets) decoded by the embedded model in this process,
without and with jump-forward, article by article, both sides in one run.

Per article: calls, new prompt tokens, sampled tokens (steps), forced tokens (drafted and
kept), the model's time for the article's calls (submitted together, as the service sends
them), the time the CPU's own token rates predict (measured here first: a prompt evaluated
in one batch, tokens generated one a step), and their ratio; and whether each answer is the
same on both sides and the same as the recorded one.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import llama_cpp

from evals.bench.harness import ROOT, rss_mb
from service.llm.embedded import resolve_model_path
from service.llm.model_server import Call, Model
from service.llm.slots import Decoded, Job, Slots
from service.settings import load_settings

CASSETTES = {
    "seeds": ROOT / "tests" / "cassettes" / "hybrid_labels@v3",
    **{name: ROOT / "evals" / "datasets" / name / "cassettes" / "hybrid_labels@v3"
       for name in ("news_events", "other_news")},
}  # fmt: skip
PARALLEL = 4  # the default NEWSFACTS_EMBEDDED_PARALLEL


def article_calls(path: Path, model: Model) -> list[tuple[Call, str]]:
    """An article's recorded calls, ready to decode, each with its recorded answer."""
    calls = []
    for interaction in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        body = interaction["request"]["body"]["json"]
        message = interaction["response"]["body"]["string"]["json"]["choices"][0]["message"]
        tool_calls = message.get("tool_calls") or []
        recorded = tool_calls[0]["function"]["arguments"] if tool_calls else message["content"]
        calls.append((model.prepare(body), recorded or ""))
    return calls


def decode_all(slots: Slots, calls: list[Call]) -> tuple[list[Decoded], float]:
    """The calls submitted together; their answers and the wall time until the last."""
    futures: list[Future[Decoded]] = []
    started = time.perf_counter()
    for call in calls:
        future: Future[Decoded] = Future()

        def done(result: Decoded | BaseException, future: Future[Decoded] = future) -> None:
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        slots.submit(Job(call.prompt, call.limit, call.gbnf, call.temperature,
                         threading.Event(), done))  # fmt: skip
        futures.append(future)
    answers = [f.result(timeout=900) for f in futures]
    return answers, time.perf_counter() - started


def token_rates(slots: Slots, vocab: llama_cpp.Llama) -> dict[str, float]:
    """This CPU's rates on this model: a 256-token prompt evaluated in one batch, and 32
    tokens generated one a step (no grammar, nothing to draft)."""
    words = " ".join(f"item{i}" for i in range(400))
    prompt = vocab.tokenize(words.encode(), add_bos=False, special=False)[:256]
    call = Call(prompt, 32, None, 0.0, None)
    [decoded], _ = decode_all(slots, [call])
    return {
        "prompt_tokens_per_s": round(decoded.evaluated / decoded.prompt_s, 1),
        "sampled_tokens_per_s": round((len(decoded.tokens) - 1) / decoded.generate_s, 1),
    }


def side_row(answers: list[Decoded], wall_s: float, rates: dict[str, float]) -> dict[str, Any]:
    """One side's figures for one article."""
    evaluated = sum(d.evaluated for d in answers)
    drafted = sum(d.drafted for d in answers)
    forced = sum(d.forced for d in answers)
    sampled = sum(len(d.tokens) for d in answers) - forced
    predicted = (evaluated + drafted) / rates["prompt_tokens_per_s"] + sampled / rates[
        "sampled_tokens_per_s"
    ]
    return {
        "new_prompt_tokens": evaluated, "sampled_tokens": sampled, "forced_tokens": forced,
        "drafted_tokens": drafted, "model_s": round(wall_s, 2),
        "predicted_s": round(predicted, 2), "ratio": round(wall_s / predicted, 2),
    }  # fmt: skip


def decode(limit: int | None = None) -> dict[str, Any]:
    """Every cassette article, jump-forward off then on, each side its own warm model."""
    path = str(resolve_model_path(load_settings()))
    vocab = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False, n_ctx=16384)
    model = Model(vocab, "bench")
    sides = {
        name: Slots(path, 16384, (os.cpu_count() or 2,) * 2, PARALLEL, jump_forward=on)
        for name, on in (("off", False), ("on", True))
    }
    rates = {name: token_rates(slots, vocab) for name, slots in sides.items()}
    files = [(name, f) for name, folder in CASSETTES.items()
             for f in sorted(folder.glob("*.json"))][:limit]  # fmt: skip
    rows = []
    for dataset, file in files:
        calls = article_calls(file, model)
        row: dict[str, Any] = {"dataset": dataset, "article": file.stem, "calls": len(calls)}
        texts = {}
        for name, slots in sides.items():
            answers, wall_s = decode_all(slots, [call for call, _ in calls])
            row[name] = side_row(answers, wall_s, rates[name])
            texts[name] = [vocab.detokenize(d.tokens).decode("utf-8", "ignore") for d in answers]
            row[name]["same_as_recorded"] = sum(
                t == recorded for t, (_, recorded) in zip(texts[name], calls, strict=True)
            )
        row["same_on_both"] = sum(a == b for a, b in zip(texts["off"], texts["on"], strict=True))
        row["differences"] = [
            {"recorded": recorded, "off": a, "on": b}
            for a, b, (_, recorded) in zip(texts["off"], texts["on"], calls, strict=True)
            if a != b
        ]
        rows.append(row)
        print(_line(row), flush=True)
    totals = {name: _totals([r for r in rows if r["dataset"] == name]) for name in CASSETTES}
    return {"parallel": PARALLEL, "rates": rates, "rows": rows, "totals": _totals(rows),
            "per_dataset": totals, "memory": rss_mb(os.getpid())}  # fmt: skip


def _line(row: dict[str, Any]) -> str:
    off, on = row["off"], row["on"]
    return (
        f"{row['dataset']:<11} {row['article']:<42} {row['calls']:>3} calls  "
        f"off {off['model_s']:6.2f} s (x{off['ratio']:.2f})  "
        f"on {on['model_s']:6.2f} s (x{on['ratio']:.2f}, "
        f"{on['forced_tokens']} forced)  same {row['same_on_both']}/{row['calls']}"
    )


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {"articles": len(rows), "calls": sum(r["calls"] for r in rows)}
    for name in ("off", "on"):
        keys = ("new_prompt_tokens", "sampled_tokens", "forced_tokens", "drafted_tokens",
                "model_s", "predicted_s", "same_as_recorded")  # fmt: skip
        side = {key: round(sum(r[name][key] for r in rows), 2) for key in keys}
        side["ratio"] = round(side["model_s"] / side["predicted_s"], 2) if rows else None
        side["mean_s_per_article"] = round(side["model_s"] / max(len(rows), 1), 2)
        totals[name] = side
    totals["same_on_both"] = sum(r["same_on_both"] for r in rows)
    off_s = totals["off"]["model_s"]
    totals["on_over_off"] = round(totals["on"]["model_s"] / off_s, 3) if off_s else None
    return totals
