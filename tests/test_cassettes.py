"""Every committed cassette is free of secrets and readable as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evals.baseline import load_baseline
from evals.cassettes import CASSETTES_DIR, Recording
from evals.datasets import DATASETS_DIR
from evals.gold import GOLD_DIR

# the seeds' cassettes and every committed dataset's (evals/datasets/*/cassettes/)
CASSETTES = sorted(CASSETTES_DIR.rglob("*.json")) + sorted(
    DATASETS_DIR.glob("*/cassettes/*/*.json")
)
SECRETS = [
    re.compile(r"sk-(?!REDACTED)[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\"authorization\"", re.I),
    re.compile(r"bearer\s+[A-Za-z0-9._\-]{8,}", re.I),
    re.compile(r"\"(x-)?api-key\"", re.I),
]


def test_the_baseline_prompt_has_a_cassette_for_every_gold_case() -> None:
    ids = {p.stem for p in GOLD_DIR.glob("*.yaml")}
    recorded = {p.stem for p in (CASSETTES_DIR / load_baseline().prompt).glob("*.json")}
    assert ids and ids <= recorded


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_has_no_secret(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [pattern.pattern for pattern in SECRETS if pattern.search(text)]
    assert found == []


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_bodies_are_json(path: Path) -> None:
    for interaction in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        assert "json" in interaction["request"]["body"]
        assert "json" in interaction["response"]["body"]["string"]


@pytest.mark.parametrize(
    ("recording", "name", "base", "command"),
    [
        (Recording("p@v1"), "p@v1", None, ""),
        (Recording("p@v1", reask=True), "p@v1+reask", "p@v1", " --ungrounded reask"),
        (Recording("p@v1", "lists"), "p@v1+lists", None, " --passes lists"),
        (Recording("p@v1", "lists", reask=True), "p@v1+lists+reask", "p@v1+lists",
         " --passes lists --ungrounded reask"),
    ],
    ids=["plain", "reask", "passes", "passes-reask"],
)  # fmt: skip
def test_each_recording_has_its_folder_base_and_command(
    recording: Recording, name: str, base: str | None, command: str
) -> None:
    assert recording.name == name
    assert (recording.base.name if recording.base else None) == base
    assert recording.command == f"uv run newsfacts eval --record --prompt p@v1{command}"
