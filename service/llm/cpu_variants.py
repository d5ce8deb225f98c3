"""llama.cpp's CPU kernels chosen at start for the CPU the server runs on.

llama.cpp is built once with every x86 variant of its CPU backend (`GGML_BACKEND_DL` with
`GGML_CPU_ALL_VARIANTS`: x64, sse42, ..., haswell, skylakex, icelake, zen4, sapphirerapids),
each a shared library that scores this CPU (`ggml_backend_score`, 0 when the CPU lacks an
instruction it needs). The server loads the best-scoring one through ggml's public
`ggml_backend_load`, as `ggml_backend_load_all` would, except that a variant can be left
out (`NEWSFACTS_EMBEDDED_CPU_EXCLUDE`) or pinned (`NEWSFACTS_EMBEDDED_CPU_VARIANT`), and
that it says which it loaded.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

PREFIX, SUFFIX = "libggml-cpu-", ".so"
# AMX traps (SIGILL, invalid opcode) on CPUs whose CPUID reports it but whose kernel or
# hypervisor has not enabled its tile state, as on this project's 2-core machines.
DEFAULT_EXCLUDE = frozenset({"sapphirerapids"})
_lock = threading.Lock()
_loaded: list[Loaded | None] = []  # once per process: ggml keeps every backend it loads
# The instructions each variant is built with (ggml/src/CMakeLists.txt), as /proc/cpuinfo
# names them: a variant runs on a CPU that has them all.
_HASWELL = ("sse4_2", "avx", "f16c", "fma", "avx2", "bmi2")
_SKYLAKEX = (*_HASWELL, "avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")
_ICELAKE = (*_SKYLAKEX, "avx512vbmi", "avx512_vnni")
VARIANT_FLAGS: dict[str, tuple[str, ...]] = {
    "x64": (),
    "sse42": ("sse4_2",),
    "sandybridge": ("sse4_2", "avx"),
    "ivybridge": ("sse4_2", "avx", "f16c"),
    "piledriver": ("sse4_2", "avx", "f16c", "fma"),
    "haswell": _HASWELL,
    "skylakex": _SKYLAKEX,
    "cannonlake": (*_SKYLAKEX, "avx512vbmi"),
    "cascadelake": (*_SKYLAKEX, "avx512_vnni"),
    "icelake": _ICELAKE,
    "cooperlake": (*_SKYLAKEX, "avx512_vnni", "avx512_bf16"),
    "zen4": (*_ICELAKE, "avx512_bf16"),
    "alderlake": (*_HASWELL, "avx_vnni"),
    "sapphirerapids": (*_ICELAKE, "avx512_bf16", "amx_tile", "amx_int8"),
}


@dataclass(frozen=True)
class Loaded:
    """The variant the server loaded, its score, and every variant's score on this CPU."""

    variant: str
    path: Path
    scores: dict[str, int]


def library_dir() -> Path:
    """Where llama-cpp-python installed llama.cpp's libraries."""
    return Path(llama_cpp.__file__).parent / "lib"


def variant_dirs() -> list[Path]:
    """Where the CPU variants are: ggml installs backends it loads as binaries, which the
    wheel puts in `bin/` beside the package; a build may also put them with the libraries."""
    return [library_dir(), Path(llama_cpp.__file__).parent.parent / "bin"]


def variants(directories: list[Path]) -> dict[str, Path]:
    """The CPU backend variants built into `directories`, by name."""
    return {
        path.name[len(PREFIX) : -len(SUFFIX)]: path
        for directory in directories
        for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))
    }


def score(path: Path) -> int:
    """The variant's own score of this CPU (0: it cannot run here)."""
    function = ctypes.CDLL(str(path)).ggml_backend_score
    function.restype = ctypes.c_int
    return int(function())


def choose(scores: dict[str, int], exclude: set[str], pin: str | None) -> str:
    """The variant to load: `pin` when given, else the best score not excluded."""
    if pin is not None:
        if pin not in scores:
            raise ValueError(f"no CPU variant {pin!r} was built; built: {sorted(scores)}")
        if scores[pin] == 0:
            raise ValueError(f"the CPU variant {pin!r} cannot run on this CPU")
        return pin
    usable = {name: s for name, s in scores.items() if s > 0 and name not in exclude}
    if not usable:
        raise ValueError(f"no usable CPU variant among {scores} (excluded: {sorted(exclude)})")
    return max(usable, key=lambda name: usable[name])


def load(exclude: set[str], pin: str | None = None) -> Loaded | None:
    """Load the chosen CPU backend variant; None when llama.cpp was built without variants
    (its CPU backend is then linked in, nothing to load)."""
    built = variants(variant_dirs())
    if not built:
        return None
    scores = {name: score(path) for name, path in built.items()}
    name = choose(scores, exclude, pin)
    ggml = _loaded_ggml()
    ggml.ggml_backend_load.restype = ctypes.c_void_p
    ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
    if not ggml.ggml_backend_load(str(built[name]).encode()):
        raise RuntimeError(f"ggml could not load the CPU variant {built[name]}")
    return Loaded(name, built[name], scores)


def _loaded_ggml() -> ctypes.CDLL:
    """The libggml llama.cpp itself loaded: a wheel holds no links, so libggml.so,
    libggml.so.0 and libggml.so.0.x are three copies, and only the one libllama names (by
    its soname, found among the loaded libraries) holds the backend registry it reads."""
    soname = min((p.name for p in library_dir().glob("libggml.so.*")), key=len, default=None)
    try:
        return ctypes.CDLL(soname or "libggml.so")
    except OSError:
        return ctypes.CDLL(str(library_dir() / "libggml.so"))


def ensure(exclude: set[str] | frozenset[str] = DEFAULT_EXCLUDE, pin: str | None = None
           ) -> Loaded | None:  # fmt: skip
    """Load the CPU variant once per process (later calls get the first one's)."""
    with _lock:
        if not _loaded:
            _loaded.append(load(set(exclude), pin))
        return _loaded[0]


def loaded() -> Loaded | None:
    """The variant this process loaded, if any."""
    return _loaded[0] if _loaded else None


def describe(cpu: Loaded | None) -> str:
    """A line for the log: the variant loaded and what the others scored."""
    if cpu is None:
        return "CPU backend linked in (llama.cpp built without variants)"
    others = ", ".join(f"{name} {s}" for name, s in sorted(cpu.scores.items(), key=lambda x: -x[1]))
    return f"CPU variant {cpu.variant} (scores: {others})"


def cpu_flags(cpuinfo: str) -> set[str]:
    """The instruction-set flags of the first CPU in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def best_for(flags: set[str], built: set[str], exclude: set[str]) -> set[str]:
    """The variants a CPU with `flags` should run: those it supports whose instructions no
    other supported variant strictly extends (several when none extends the others)."""
    runs = {name for name in built - exclude if set(VARIANT_FLAGS.get(name, ("?",))) <= flags}
    return {
        name
        for name in runs
        if not any(set(VARIANT_FLAGS[name]) < set(VARIANT_FLAGS[other]) for other in runs)
    }
