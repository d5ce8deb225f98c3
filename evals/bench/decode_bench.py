"""The embedded model's kernels and jump-forward measured against their bound: every recorded
labelling call of an article (the cassettes of the seeds and the datasets) decoded by the
embedded model, article by article, by three sides in one run, each in its own process:
today's main (the portable build, or its AVX2 variant), the best CPU variant, and the best
variant with jump-forward.

Per article: calls, new prompt tokens, sampled tokens (steps), forced tokens (drafted and
kept), the model's time for the article's calls (submitted together, as the service sends
them), the time the CPU's own token rates predict (measured here first: a prompt evaluated
in one batch, tokens generated one a step), and their ratio; and whether each answer is the
same on both sides and the same as the recorded one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import llama_cpp

from evals.bench.harness import ROOT, rss_mb
from service.llm import cpu_variants
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


SIDES: dict[str, dict[str, Any]] = {
    # today's main: the portable build (`--other-build`), or its AVX2 variant pinned
    "main": {"pin": "haswell", "jump_forward": False},
    "dispatch": {"pin": None, "jump_forward": False},  # the best variant this CPU runs
    "dispatch+jump-forward": {"pin": None, "jump_forward": True},
}


def decode(other_build: Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """Every cassette article decoded by each side in its own process, one side after the
    other: today's main (the build in `other_build`, else the AVX2 variant), the best CPU
    variant, and the best variant with jump-forward."""
    sides: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, side in SIDES.items():
            out = Path(tmp) / f"{len(sides)}.json"
            pin = None if name == "main" and other_build else side["pin"]
            flag = "--jump-forward" if side["jump_forward"] else "--no-jump-forward"
            command = [sys.executable, "-m", "evals.bench.decode_bench", str(out), flag]
            command += ["--pin", pin] if pin else []
            command += ["--limit", str(limit)] if limit else []
            env = dict(os.environ)
            if name == "main" and other_build:
                env["PYTHONPATH"] = f"{other_build}:{ROOT}"
            subprocess.run(command, env=env, check=True, cwd=ROOT)
            sides[name] = json.loads(out.read_text())
    return merge(sides)


def one_side(jump_forward: bool, pin: str | None, limit: int | None) -> dict[str, Any]:
    """This process's side: every cassette article's calls, submitted together per article."""
    cpu = cpu_variants.ensure(cpu_variants.DEFAULT_EXCLUDE, pin)
    path = str(resolve_model_path(load_settings()))
    vocab = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False, n_ctx=16384)
    model = Model(vocab, "bench")
    slots = Slots(path, 16384, (os.cpu_count() or 2,) * 2, PARALLEL, jump_forward=jump_forward)
    rates = token_rates(slots, vocab)
    files = [(name, f) for name, folder in CASSETTES.items()
             for f in sorted(folder.glob("*.json"))][:limit]  # fmt: skip
    rows = []
    for dataset, file in files:
        calls = article_calls(file, model)
        answers, wall_s = decode_all(slots, [call for call, _ in calls])
        texts = [vocab.detokenize(d.tokens).decode("utf-8", "ignore") for d in answers]
        row = {"dataset": dataset, "article": file.stem, "calls": len(calls),
               **side_row(answers, wall_s, rates), "texts": texts,
               "recorded": [recorded for _, recorded in calls]}  # fmt: skip
        row["same_as_recorded"] = sum(a == b for a, b in zip(texts, row["recorded"], strict=True))
        rows.append(row)
        print(f"{dataset:<11} {file.stem:<42} {len(calls):>3} calls {wall_s:6.2f} s "
              f"(x{row['ratio']:.2f}, {row['forced_tokens']} forced)", flush=True)  # fmt: skip
    return {"cpu_variant": cpu.variant if cpu else "linked in (portable build)",
            "jump_forward": jump_forward, "rates": rates, "rows": rows,
            "memory": rss_mb(os.getpid())}  # fmt: skip


def merge(sides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sides' figures per article and per dataset, each answer compared with main's."""
    main_rows = sides["main"]["rows"]
    for side in sides.values():
        for row, base in zip(side["rows"], main_rows, strict=True):
            row["same_as_main"] = sum(
                a == b for a, b in zip(row["texts"], base["texts"], strict=True)
            )
            row["differences"] = [
                {"recorded": r, "main": b, "this": a}
                for a, b, r in zip(row["texts"], base["texts"], row["recorded"], strict=True)
                if a != b
            ]
    totals = {
        name: {"all": _totals(side["rows"]),
               **{d: _totals([r for r in side["rows"] if r["dataset"] == d]) for d in CASSETTES}}
        for name, side in sides.items()
    }  # fmt: skip
    main_s = totals["main"]["all"]["model_s"]
    for name in sides:
        totals[name]["all"]["over_main"] = round(totals[name]["all"]["model_s"] / main_s, 3)
        for dataset in CASSETTES:
            base = totals["main"][dataset]["model_s"]
            mine = totals[name][dataset]["model_s"]
            totals[name][dataset]["over_main"] = round(mine / base, 3) if base else None
    for side in sides.values():
        for row in side["rows"]:
            del row["texts"], row["recorded"]
    return {"parallel": PARALLEL, "sides": sides, "totals": totals}


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("calls", "new_prompt_tokens", "sampled_tokens", "forced_tokens", "drafted_tokens",
            "model_s", "predicted_s", "same_as_recorded", "same_as_main")  # fmt: skip
    totals: dict[str, Any] = {"articles": len(rows)}
    totals |= {key: round(sum(r.get(key, 0) for r in rows), 2) for key in keys}
    totals["ratio"] = round(totals["model_s"] / totals["predicted_s"], 2) if rows else None
    totals["mean_s_per_article"] = round(totals["model_s"] / max(len(rows), 1), 2)
    return totals


def main() -> None:
    """One side, in its own process (its own llama.cpp build and CPU variant)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--jump-forward", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pin", default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    figures = one_side(args.jump_forward, args.pin, args.limit)
    args.out.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
