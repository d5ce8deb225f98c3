"""llama.cpp's CPU variants: the one loaded is the best this CPU runs, by its flags; AMX is
left out; a CPU without AVX-512 still runs (the AVX2 variant, pinned, decodes an answer)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.llm import cpu_variants
from service.llm.cpu_variants import (
    DEFAULT_EXCLUDE,
    VARIANT_FLAGS,
    best_for,
    choose,
    cpu_flags,
    variant_dirs,
    variants,
)

HASWELL = {"sse4_2", "avx", "f16c", "fma", "avx2", "bmi2"}
SKYLAKE_X = HASWELL | {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"}
SAPPHIRE = SKYLAKE_X | {"avx512vbmi", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8"}


@pytest.mark.parametrize(
    ("flags", "exclude", "best"),
    [
        (set(), set(), {"x64"}),  # the oldest x86-64
        ({"sse4_2"}, set(), {"sse42"}),
        (HASWELL, set(), {"haswell"}),  # AVX2, no AVX-512: no AVX-512 variant
        (HASWELL | {"avx_vnni"}, set(), {"alderlake"}),
        (SKYLAKE_X, set(), {"skylakex"}),
        (SKYLAKE_X | {"avx512vbmi", "avx512_vnni"}, set(), {"icelake"}),
        (SAPPHIRE, set(), {"sapphirerapids"}),
        (SAPPHIRE, {"sapphirerapids"}, {"zen4"}),  # AMX left out: the same without it
        (SKYLAKE_X | {"avx512vbmi", "avx512_bf16"}, set(), {"cannonlake"}),
    ],
)
def test_the_best_variant_for_a_cpus_flags(flags: set[str], exclude: set[str], best: set[str]
                                           ) -> None:  # fmt: skip
    assert best_for(flags, set(VARIANT_FLAGS), exclude) == best


@pytest.mark.parametrize(
    ("scores", "exclude", "pin", "chosen"),
    [
        ({"haswell": 63, "skylakex": 191, "x64": 1}, set(), None, "skylakex"),
        ({"haswell": 63, "skylakex": 0, "x64": 1}, set(), None, "haswell"),  # cannot run
        ({"zen4": 2047, "sapphirerapids": 8191}, {"sapphirerapids"}, None, "zen4"),
        ({"haswell": 63, "skylakex": 191}, set(), "haswell", "haswell"),  # pinned
    ],
)
def test_choose(scores: dict[str, int], exclude: set[str], pin: str | None, chosen: str) -> None:
    assert choose(scores, exclude, pin) == chosen


@pytest.mark.parametrize(
    ("scores", "pin", "says"),
    [
        ({"haswell": 63}, "zen9", "no CPU variant 'zen9' was built"),
        ({"haswell": 63, "skylakex": 0}, "skylakex", "cannot run on this CPU"),
        ({"skylakex": 0}, None, "no usable CPU variant"),
    ],
)
def test_a_variant_that_cannot_be_loaded_is_refused(scores: dict[str, int], pin: str | None,
                                                    says: str) -> None:  # fmt: skip
    with pytest.raises(ValueError, match=says):
        choose(scores, set(), pin)


def test_cpu_flags_are_read_from_cpuinfo() -> None:
    text = "processor\t: 0\nflags\t\t: fpu sse4_2 avx2\nbugs\t\t: spectre\n"
    assert cpu_flags(text) == {"fpu", "sse4_2", "avx2"}


def test_every_variant_was_built_and_scores_this_cpu_as_its_flags_say() -> None:
    built = variants(variant_dirs())
    assert set(built) == set(VARIANT_FLAGS)  # the build has runtime CPU dispatch
    flags = cpu_flags(Path("/proc/cpuinfo").read_text())
    for name, path in built.items():
        # ggml's own check of the CPU (CPUID) and ours (the kernel's flags) agree
        assert (cpu_variants.score(path) > 0) == (set(VARIANT_FLAGS[name]) <= flags), name


def test_the_loaded_variant_is_the_best_this_cpu_runs() -> None:
    loaded = cpu_variants.ensure()
    assert loaded is not None
    flags = cpu_flags(Path("/proc/cpuinfo").read_text())
    assert loaded.variant in best_for(flags, set(loaded.scores), set(DEFAULT_EXCLUDE))
    assert loaded.variant not in DEFAULT_EXCLUDE
    assert "CPU variant " + loaded.variant in cpu_variants.describe(loaded)


PINNED = """
import json, sys, threading
from concurrent.futures import Future
from llama_cpp import llama_grammar
from service.llm import cpu_variants
from service.llm.embedded import resolve_model_path
from service.llm.slots import Job, Slots, tokenize
from service.settings import load_settings
cpu = cpu_variants.ensure(pin="haswell")
slots = Slots(str(resolve_model_path(load_settings())), 1024, (2, 2), 1)
prompt = tokenize(slots.vocab, "Rockets hit Hamden on Friday. Is Hamden a place? Answer:")
gbnf = 'root ::= " yes" | " no"'
answer = Future()
slots.submit(Job(prompt, 4, gbnf, 0.0, threading.Event(), answer.set_result))
print(json.dumps({"variant": cpu.variant, "tokens": answer.result(timeout=120).tokens}))
"""


@pytest.mark.embedded
def test_a_cpu_without_avx512_runs_the_avx2_variant() -> None:
    done = subprocess.run([sys.executable, "-c", PINNED], capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["variant"] == "haswell" and len(answer["tokens"]) >= 1
    assert "loaded CPU backend from" in done.stderr and "libggml-cpu-haswell.so" in done.stderr
