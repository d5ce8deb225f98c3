"""The bundled model is assembled from its data packages only when the sha256 matches."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import get_args

import pytest

from service.errors import ConfigError
from service.llm.model_files import (
    BUNDLED,
    QWEN_1_5B,
    BundledModel,
    BundledName,
    concatenate_verified,
    ensure_model,
    is_verified,
    part_files,
)


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks, 1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_concatenation_in_order_with_matching_hash(tmp_path: Path) -> None:
    chunks = [b"GGUF", b"-middle-", b"end"]
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    target = concatenate_verified(_parts(tmp_path, chunks), tmp_path / "m.gguf", sha)
    assert target.read_bytes() == b"GGUF-middle-end"
    assert is_verified(target, sha)


def test_wrong_hash_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sha256"):
        concatenate_verified(_parts(tmp_path, [b"a", b"b"]), tmp_path / "m.gguf", "0" * 64)
    assert not (tmp_path / "m.gguf").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_a_changed_file_is_no_longer_verified(tmp_path: Path) -> None:
    sha = hashlib.sha256(b"ab").hexdigest()
    target = concatenate_verified(_parts(tmp_path, [b"a", b"b"]), tmp_path / "m.gguf", sha)
    target.write_bytes(b"tampered")
    assert not is_verified(target, sha)


@pytest.mark.parametrize("install", ["uv sync", "uv sync --extra small-model"])
def test_missing_package_says_how_to_fix(install: str) -> None:
    model = BundledModel("x", "newsfacts-no-such-package-part", 2, "1.0", "0" * 64, install)
    with pytest.raises(ConfigError, match="NEWSFACTS_MODEL_PATH") as raised:
        part_files(model)
    assert f"run `{install}` " in raised.value.message


def test_bundled_model_parts_are_installed_in_order() -> None:
    files = part_files(QWEN_1_5B)
    assert [f.name for f in files] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert all(f.is_file() for f in files)


def test_bundled_model_assembles_and_verifies(tmp_path: Path) -> None:
    """The real 1.1 GB assembly, hashed end to end (a few seconds)."""
    path = ensure_model(QWEN_1_5B, tmp_path)
    assert path.read_bytes()[:4] == b"GGUF"
    assert is_verified(path, QWEN_1_5B.sha256)
    assert ensure_model(QWEN_1_5B, tmp_path) == path  # second call reuses the verified file


def test_the_names_settings_accept_are_the_bundled_models() -> None:
    assert get_args(BundledName) == tuple(BUNDLED)
