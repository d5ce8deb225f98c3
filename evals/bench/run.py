"""`newsfacts bench`: run the benchmarks, print a table, write evals/bench/results.json."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import platform
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.bench import (
    calls_together,
    ci_eval_bench,
    decode_bench,
    embedded_bench,
    hostile_bench,
    levers,
    replica_bench,
    service_bench,
    speed_bench,
)
from evals.bench.harness import RESULTS_PATH
from service.files import write_atomic
from service.progress import steps

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "overhead": service_bench.overhead,
    "concurrency": service_bench.concurrency,
    "soak": service_bench.soak,
    "hostile": hostile_bench.hostile,  # about a minute
    "side_by_side": service_bench.side_by_side,  # seed 004's hybrid calls, 1 s each
    # every article of the seeds and other_news, calls one at a time and at the default
    "calls_together_fake": calls_together.calls_together_fake,  # 5 minutes
    "calls_together_embedded": calls_together.calls_together_embedded,  # 15 minutes
    "ci_eval": ci_eval_bench.ci_eval,
    "embedded": embedded_bench.embedded,  # minutes per seed on 2 cores
    "levers": levers.levers,  # about 3 minutes per server variant
    "speed": speed_bench.speed,  # a few minutes per side
    # every recorded call of the seeds and two datasets, jump-forward off and on: 25 minutes
    "decode": decode_bench.decode,
    "replicas": replica_bench.replicas,  # needs nginx (apt-get install nginx-light)
}


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def run(
    names: list[str],
    path: Path = RESULTS_PATH,
    other_build: Path | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Run the named benchmarks and merge their figures into the results file.

    `other_build` (a directory holding a `llama_cpp` package) adds a levers variant;
    `baseline` (another checkout) a side to the speed and hostile benchmarks."""
    results: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    results["machine"] = machine()
    benchmarks = dict(BENCHMARKS)
    if other_build is not None:
        variant: levers.Variant = ([], {"PYTHONPATH": str(other_build)})
        benchmarks["levers"] = functools.partial(
            levers.levers, {**levers.VARIANTS, f"build in {other_build}": variant}
        )
    if other_build is not None:
        benchmarks["decode"] = functools.partial(decode_bench.decode, other_build)
    if baseline is not None:
        benchmarks["speed"] = functools.partial(speed_bench.speed, baseline)
        benchmarks["hostile"] = functools.partial(hostile_bench.hostile, baseline)
    with steps("bench", len(names)) as step:
        for name in names:
            started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            results[name] = {"run_at": started, **benchmarks[name]()}
            write_atomic(path, json.dumps(results, indent=1) + "\n")
            step(name)
    return results


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    return table


def print_results(results: dict[str, Any], console: Console | None = None) -> None:
    """The figures as terminal tables, each benchmark's by its own printer."""
    console = console or Console()
    m = results.get("machine", {})
    console.print(f"machine: {m.get('cpu')} · {m.get('cores')} cores")
    for name, printer in PRINTERS.items():
        if name in results:
            printer(results[name], console=console)


def _print_overhead(r: dict[str, Any], console: Console) -> None:
    """The `overhead` figures."""
    table = _table(
        "service overhead: /extract vs direct openai call (zero-latency fake)",
        ["conc.", "direct p50", "direct p99", "direct rps", "/extract p50", "/extract p99",
         "/extract rps", "added p50", "rps ratio"],
    )  # fmt: skip
    for row in r["rows"]:
        d, e = row["direct_openai"], row["extract"]
        table.add_row(
            str(row["concurrency"]), f"{d['p50_ms']:.1f} ms", f"{d['p99_ms']:.1f} ms",
            f"{d['rps']:.0f}", f"{e['p50_ms']:.1f} ms", f"{e['p99_ms']:.1f} ms",
            f"{e['rps']:.0f}", f"{row['added_p50_ms']:+.1f} ms", f"{row['rps_ratio']:.2f}",
        )  # fmt: skip
    console.print(table)


def _print_concurrency(r: dict[str, Any], console: Console) -> None:
    """The `concurrency` figures."""
    c = r
    console.print(
        f"concurrency: {c['calls']} concurrent /extract, LLM answering after "
        f"{c['llm_delay_s']:g} s: wall {c['wall_s']:.2f} s, statuses {c['statuses']}"
        + (f" (with the embedded limits 4 + 32: {c['with_embedded_limits']['statuses']})"
           if "with_embedded_limits" in c else "")
    )  # fmt: skip


def _print_replicas(r: dict[str, Any], console: Console) -> None:
    """The `replicas` figures."""
    table = _table(
        f"replicas behind nginx: {r['requests']} /extract at concurrency "
        f"{r['concurrency']}, fake LLM answering after {r['llm_delay_s']:g} s",
        ["setup", "req/s", "p50", "p99", "statuses"],
    )
    for name in ("one_replica", "two_replicas_nginx", "failover"):
        d = r[name]
        table.add_row(name, f"{d['rps']:.0f}", f"{d['p50_ms']:.0f} ms", f"{d['p99_ms']:.0f} ms",
                      str(d["statuses"]))  # fmt: skip
    console.print(table)
    f = r["failover"]
    console.print(
        f"failover: one replica SIGKILLed after {f['killed_after']} answers; every "
        f"request answered once with its own id: {f['answered_once']}"
    )


def _print_embedded(r: dict[str, Any], console: Console) -> None:
    """The `embedded` figures."""
    table = _table(
        "embedded model: /extract wall time vs the model server's own time",
        ["strategy", "seed", "status", "facts", "wall s", "model s", "ratio",
         "prompt tok", "prompt tok/s", "gen tok", "gen tok/s"],
    )  # fmt: skip
    for row in r["rows"]:
        table.add_row(*(str(row.get(k)) for k in (
            "strategy", "seed", "status", "facts", "wall_s", "model_s", "ratio",
            "prompt_tokens", "prompt_tok_s", "gen_tokens", "gen_tok_s")))  # fmt: skip
    console.print(table)
    for name, total in r.get("totals", {}).items():
        console.print(f"  {name}: {total['wall_s']} s over the seeds, {total['vs_llm']}x llm")


def _print_ci_eval(r: dict[str, Any], console: Console) -> None:
    """The `ci_eval` figures."""
    c = r
    console.print(
        f"CI eval (gold set replayed by a fresh `newsfacts eval --replay`): median "
        f"{c['median_s']:.2f} s, max {c['max_s']:.2f} s over {len(c['runs'])} runs"
    )


def _print_levers(r: dict[str, Any], console: Console) -> None:
    """The `levers` figures."""
    table = _table(
        f"model-server levers ({r['request']})",
        ["variant", "prompt tok/s", "gen tok/s", "sampling s", "model s", "wall s",
         "prompt speedup", "gen speedup", "RSS MiB"],
    )  # fmt: skip
    for row in r["rows"]:
        table.add_row(
            row["variant"], str(row["prompt_tok_s"]), str(row["gen_tok_s"]),
            str(row["sampling_s"]), str(row["model_s"]), str(row["wall_s"]),
            f"{row['prompt_speedup']:.2f}", f"{row['gen_speedup']:.2f}",
            str(row["memory"]["rss_mb"]),
        )  # fmt: skip
    console.print(table)


def _print_side_by_side(r: dict[str, Any], console: Console) -> None:
    """The `side_by_side` figures."""
    s = r
    one, default = s["rows"]["one at a time"], s["rows"]["default"]
    console.print(
        f"seed 004, hybrid, fake LLM answering in {s['llm_delay_s']:g} s: "
        f"{one['calls']} calls one at a time {one['seconds']} s, side by side "
        f"({default['calls_at_once']['article']} at once) {default['seconds']} s "
        f"({s['ratio']}x)"
    )


def _print_soak(r: dict[str, Any], console: Console) -> None:
    """The `soak` figures."""
    s = r
    console.print(
        f"soak: {s['requests']} requests at concurrency {s['concurrency']}: statuses "
        f"{s['statuses']}, p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms; service RSS "
        f"{s['memory_before']['rss_mb']} -> {s['memory_after']['rss_mb']} MiB "
        f"(peak {s['memory_after']['peak_rss_mb']}); healthy after: {s['still_healthy']}"
    )


def _print_calls_together(r: dict[str, Any], console: Console, backend: str) -> None:
    """Issue 25's table: per article, calls one at a time against the default."""
    scores = r["scores"]
    table = _table(
        f"hybrid on the {backend}: calls one at a time vs the default "
        f"({r['calls_at_once']['article']} at once): total {r['total_s']['one_at_a_time']} s "
        f"-> {r['total_s']['default']} s ({r['ratio']}x), fact F1 "
        f"{scores['one_at_a_time']['fact_f1']} / {scores['default']['fact_f1']}, field F1 "
        f"{scores['one_at_a_time']['field_f1']} / {scores['default']['field_f1']}",
        ["article", "chars", "calls", "one at a time", "default", "ratio", "same facts",
         "prompt tok/s", "gen tok/s"],
    )  # fmt: skip
    for row in r["rows"]:
        one, default = row.get("model_one_at_a_time") or {}, row.get("model_default") or {}
        table.add_row(
            row["article"], str(row["chars"]), str(row["calls"]),
            f"{row['one_at_a_time_s']} s", f"{row['default_s']} s", str(row["ratio"]),
            str(row["same_facts"]),
            f"{one.get('prompt_tok_s', '-')} / {default.get('prompt_tok_s', '-')}",
            f"{one.get('gen_tok_s', '-')} / {default.get('gen_tok_s', '-')}",
        )  # fmt: skip
    console.print(table)
    if "model_server_memory" in r:
        console.print(f"model server memory: {r['model_server_memory']}")


def _print_hostile(hostile: dict[str, Any], console: Console) -> None:
    seed = hostile["seed_004"]
    table = _table(
        f"bounded work: {hostile['chars']:,}-character hostile articles, hybrid, fake LLM "
        f"answering at once (seed 004: {seed['seconds']} s, {seed['model_calls']} calls)",
        ["article", "status", "seconds", "x seed", "model calls", "slowest /healthz", "capped"],
    )
    for kind, row in hostile["articles"].items():
        table.add_row(
            kind, str(row["status"]), str(row["seconds"]), str(row["ratio_to_seed"]),
            str(row["model_calls"]), f"{row['slowest_healthz_ms']} ms",
            ", ".join(sorted({m for line in row["capped"] or [] for m in
                              re.findall(r"NEWSFACTS_[A-Z_]+", line)})) or "-",
        )  # fmt: skip
    console.print(table)
    for key, side in (("clients_baseline", "the baseline checkout"), ("clients", "this checkout")):
        if key in hostile:
            _print_clients(hostile[key], side, console)


def _print_clients(rows: dict[str, Any], side: str, console: Console) -> None:
    table = _table(
        f"hostile clients against `newsfacts serve` of {side}, /healthz polled every 50 ms",
        ["attack", "what happened", "slowest /healthz", "/healthz failures"],
    )
    for attack, row in rows.items():
        what = ", ".join(f"{k}={v}" for k, v in row.items() if not k.startswith("slowest_healthz")
                         and k != "healthz_failures")  # fmt: skip
        table.add_row(attack, what, f"{row['slowest_healthz_ms']} ms", str(row["healthz_failures"]))
    console.print(table)


def _print_speed(speed: dict[str, Any], console: Console) -> None:
    table = _table(
        "embedded speed: default pipeline, fresh `serve` per side",
        ["side", "prompt", "ready s", "first 004 s", "warm 004 s", "first/warm",
         "gold set s", "model s", "gen tok/s", "prompt tok/s"],
    )  # fmt: skip
    for name, s in speed["sides"].items():
        gold = [r for r in s["rows"] if r["request"] == "gold set"]
        gen = sum(r["gen_tokens"] for r in gold) / max(
            sum(r["gen_tokens"] / r["gen_tok_s"] for r in gold if r["gen_tok_s"]), 1e-9
        )
        prompt = sum(r["prompt_tokens"] for r in gold) / max(
            sum(r["prompt_tokens"] / r["prompt_tok_s"] for r in gold if r["prompt_tok_s"]), 1e-9
        )
        table.add_row(
            name, s["prompt"], str(s["ready_s"]), str(s["first_004_s"]), str(s["warm_004_s"]),
            str(s["first_vs_warm"]), str(s["gold_set_s"]),
            f"{s['gold_set_model_s']} ({s['gold_set_s'] / s['gold_set_model_s']:.3f}x)",
            f"{gen:.1f}", f"{prompt:.1f}",
        )  # fmt: skip
    console.print(table)
    if "ratios" in speed:
        console.print(f"  new / baseline: {speed['ratios']}")
    lim = speed["limits"]
    console.print(
        f"  machine: {lim['memory_read_gb_s']} GB/s memory read -> at most "
        f"{lim['gen_tok_s_bound']} generated tok/s for {lim['model_gb']} GB of weights; "
        f"{lim['sgemm_gflop_s']} GFLOP/s sgemm -> at most {lim['prompt_tok_s_bound']} prompt tok/s"
    )


def _print_decode(r: dict[str, Any], console: Console) -> None:
    """The `decode` figures: each side per dataset, against main and against the bound."""
    sides = r["sides"]
    rates = "; ".join(
        f"{name}: {side['cpu_variant']}, {side['rates']['prompt_tokens_per_s']} prompt tok/s, "
        f"{side['rates']['sampled_tokens_per_s']} sampled tok/s"
        for name, side in sides.items()
    )
    table = _table(
        f"recorded calls decoded by each side ({rates})",
        ["dataset", "side", "articles", "calls", "prompt tok", "sampled", "forced", "s/article",
         "over main", "predicted s", "ratio", "= recorded", "= main"],
    )  # fmt: skip
    datasets = list(next(iter(r["totals"].values())))
    for dataset in datasets:
        for name in sides:
            t = r["totals"][name][dataset]
            table.add_row(
                dataset, name, str(t["articles"]), str(t["calls"]), str(t["new_prompt_tokens"]),
                str(t["sampled_tokens"]), str(t["forced_tokens"]),
                f"{t['mean_s_per_article']:.2f}", f"{t['over_main']}",
                f"{t['predicted_s']:.1f}", f"{t['ratio']}", str(t["same_as_recorded"]),
                str(t["same_as_main"]),
            )  # fmt: skip
    console.print(table)


PRINTERS: dict[str, Callable[..., None]] = {
    "decode": _print_decode,
    "overhead": _print_overhead,
    "concurrency": _print_concurrency,
    "replicas": _print_replicas,
    "embedded": _print_embedded,
    "speed": _print_speed,
    "ci_eval": _print_ci_eval,
    "levers": _print_levers,
    "side_by_side": _print_side_by_side,
    "calls_together_fake": functools.partial(
        _print_calls_together, backend="fake LLM answering each call in 1 s"
    ),
    "calls_together_embedded": functools.partial(
        _print_calls_together, backend="embedded model, 2 cores"
    ),
    "hostile": _print_hostile,
    "soak": _print_soak,
}
