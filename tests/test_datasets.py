"""Datasets: the seeds, a folder, a JSONL file; where each keeps its artefacts; bad input
named by file (and line), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.datasets import SEEDS, DatasetError, gated_datasets, load_dataset
from evals.gold import GOLD_DIR
from schemas.facts import FACT_LISTS
from tests.test_cli import NEWSFACTS, run_cli

TEXT = "Floods in Sindh killed 12 people, officials said."
GOLD: dict[str, Any] = {name: [] for name in FACT_LISTS} | {
    "locations": [{"name": "Sindh", "kind": "region", "evidence": "Sindh"}],
    "casualties": [{"count": 12, "outcome": "killed", "evidence": "killed 12 people"}],
}


def _jsonl(path: Path, *rows: Any) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _folder(path: Path, name: str = "floods") -> Path:
    path.mkdir()
    (path / f"{name}.txt").write_text(TEXT, encoding="utf-8")
    (path / f"{name}.yaml").write_text(
        json.dumps({"article_id": name, "facts": GOLD}), encoding="utf-8"
    )  # JSON is YAML
    return path


def test_the_seeds_are_the_built_in_dataset() -> None:
    data = load_dataset(None)
    assert data is SEEDS and data.option == ""
    assert [c.article_id for c in data.cases()] == sorted(p.stem for p in GOLD_DIR.glob("*.yaml"))


def test_a_folder_keeps_its_artefacts_inside(tmp_path: Path) -> None:
    data = load_dataset(_folder(tmp_path / "desk"))
    assert data.name == "desk" and not data.is_seeds
    assert data.cassettes_dir == tmp_path / "desk" / "cassettes"
    assert data.baseline_path == tmp_path / "desk" / "baseline.json"
    assert data.option == f" --dataset {tmp_path / 'desk'}"
    [case] = data.cases()
    assert case.article_id == "floods" and case.facts.casualties[0].count == 12


def test_a_jsonl_file_keeps_its_artefacts_in_the_folder_of_its_name(tmp_path: Path) -> None:
    first = {"id": "a", "text": TEXT, "gold": GOLD, "metadata": {"src": "x"}}
    path = _jsonl(tmp_path / "quakes.jsonl", {"id": "b", "text": TEXT, "gold": GOLD}, "", first)
    data = load_dataset(path)
    assert data.name == "quakes" and data.runs_dir == tmp_path / "quakes" / "runs"
    cases = data.cases()
    assert [c.article_id for c in cases] == ["a", "b"] and cases[0].metadata == {"src": "x"}


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        (["{not json"], "quakes.jsonl:1: not JSON"),
        ([{"id": "a", "text": TEXT}], "quakes.jsonl:1: a line needs id, text and gold"),
        (
            [{"id": "a", "text": TEXT, "gold": GOLD}, {"id": "a", "text": TEXT, "gold": GOLD}],
            "quakes.jsonl:2: id 'a' given twice",
        ),
        (
            [{"id": "a", "text": TEXT, "gold": {**GOLD, "locations": [{"name": "X"}]}}],
            "quakes.jsonl:1: not a valid gold case",
        ),
        (
            [{"id": "a", "text": TEXT, "gold": {"people": []}}],
            "quakes.jsonl:1: not a valid gold case (a: fact lists missing",
        ),
        ([{"id": "../../x", "text": TEXT, "gold": GOLD}], "id '../../x' is not a plain name"),
        ([{"id": "/etc/x", "text": TEXT, "gold": GOLD}], "id '/etc/x' is not a plain name"),
        ([{"id": ".hidden", "text": TEXT, "gold": GOLD}], "id '.hidden' is not a plain name"),
        ([{"id": "x" * 129, "text": TEXT, "gold": GOLD}], "is not a plain name"),
    ],
    ids=[
        "not-json",
        "no-gold",
        "repeated-id",
        "schema",
        "lists-missing",
        "parent-path",
        "absolute-path",
        "hidden",
        "too-long",
    ],
)
def test_a_bad_jsonl_line_is_named(tmp_path: Path, rows: list[Any], says: str) -> None:
    data = load_dataset(_jsonl(tmp_path / "quakes.jsonl", *rows))
    with pytest.raises(DatasetError) as err:
        data.cases()
    assert says in str(err.value)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d / "nowhere", "no such dataset"),
        (lambda d: _jsonl(d / "set.jsonl", "") and _folder(d / "set") and d / "set.jsonl",
         "holds gold YAML files"),
    ],
    ids=["missing", "jsonl-home-is-a-folder-dataset"],
)  # fmt: skip
def test_a_dataset_that_cannot_be_one_is_refused(tmp_path: Path, make: Any, says: str) -> None:
    with pytest.raises(DatasetError, match=says):
        load_dataset(make(tmp_path))


@pytest.mark.parametrize(
    ("write", "says"),
    [
        (lambda d: (d / "floods.txt").unlink(), "floods.yaml: file missing"),
        (lambda d: (d / "floods.yaml").write_text("facts: [1\n"), "YAML does not parse"),
        (lambda d: (d / "floods.txt").write_bytes("caf\xe9".encode("latin-1")), "not UTF-8"),
    ],
    ids=["article-missing", "yaml", "encoding"],
)
def test_a_bad_folder_file_is_named_by_the_cli(
    fake_llm: Any, tmp_path: Path, write: Any, says: str
) -> None:
    desk = _folder(tmp_path / "desk")
    write(desk)
    r = run_cli(fake_llm, "eval", "--dataset", str(desk))
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    assert not fake_llm.requests


def test_the_gate_holds_every_dataset_with_a_baseline(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    root.mkdir()
    _folder(root / "ungated")
    (_folder(root / "desk") / "baseline.json").write_text("{}", encoding="utf-8")
    _jsonl(root / "quakes.jsonl", {"id": "a", "text": TEXT, "gold": GOLD})
    (root / "quakes").mkdir()  # the JSONL's own folder: not a dataset of its own
    (root / "quakes" / "baseline.json").write_text("{}", encoding="utf-8")
    assert [d.name for d in gated_datasets(root)] == ["seeds", "desk", "quakes"]


def test_eval_gate_without_a_baseline_says_how_to_set_one(tmp_path: Path) -> None:
    import subprocess

    desk = _folder(tmp_path / "desk")
    r = subprocess.run([NEWSFACTS, "eval", "gate", "--dataset", str(desk)], capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "--record --dataset" in r.stderr and "--set-baseline" in r.stderr


def test_a_jsonl_dataset_records_and_gates_in_its_own_folder(fake_llm: Any, tmp_path: Path) -> None:
    from evals.bench.fake_llm import tool_call
    from tests.conftest import FACTS_004, SEED_004

    fake_llm.default = tool_call(FACTS_004)
    gold = {name: FACTS_004.get(name, []) for name in FACT_LISTS}
    path = _jsonl(tmp_path / "wire.jsonl", {"id": "kyiv", "text": SEED_004, "gold": gold})
    r = run_cli(fake_llm, "eval", "--dataset", str(path), "--record", "--set-baseline")
    assert r.returncode == 0, r.stderr
    home = tmp_path / "wire"
    assert [p.name for p in (home / "cassettes").rglob("*.json")] == ["kyiv.json"]
    assert json.loads((home / "baseline.json").read_text())["dataset"] == "wire"
    r = run_cli(fake_llm, "eval", "gate", "--dataset", str(path))
    assert r.returncode == 0 and "gate passed: wire" in r.stdout
