"""Dependencies are used through their public API: no module of ours imports a dependency's
private module (a dotted path with a part starting with `_`, or a package its authors keep
internal). The arrows between our own packages are import-linter's contracts in
pyproject.toml, checked by `lint-imports` in .ci/run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("schemas", "service", "evals", "tests")
# Internal by their authors' word though not underscored: instructor's v2 implementation.
INTERNAL = ("instructor.v2",)


def private_imports(source: str) -> list[str]:
    """The dependency modules `source` imports that are private."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in OURS or name == "__future__":
                continue
            if any(p.startswith("_") for p in parts) or name.startswith(INTERNAL):
                found.append(name)
    return found


@pytest.mark.parametrize(
    ("source", "private"),
    [
        ("import instructor", []),
        ("from instructor.core import Hooks", []),
        ("from instructor.v2.core import patch", ["instructor.v2.core"]),
        ("import llama_cpp._internals", ["llama_cpp._internals"]),
        ("from pydantic._internal import _model_construction", ["pydantic._internal"]),
        ("from __future__ import annotations", []),
        ("from service._x import y", []),  # ours: a private module of our own is ours to use
        ("from . import _sibling", []),
    ],
)  # fmt: skip
def test_private_imports_are_found(source: str, private: list[str]) -> None:
    assert private_imports(source) == private


def test_no_module_of_ours_imports_a_private_module_of_a_dependency() -> None:
    files = sorted(p for package in OURS for p in (ROOT / package).rglob("*.py"))
    assert len(files) > 100
    offenders = {str(p.relative_to(ROOT)): private_imports(p.read_text(encoding="utf-8"))
                 for p in files}  # fmt: skip
    assert {path: names for path, names in offenders.items() if names} == {}
