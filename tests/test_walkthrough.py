"""The README's "your own articles" walkthrough, run line by line as written.

Each `uv run newsfacts ...` line runs in a temporary folder (`uv run newsfacts` becomes this
environment's `newsfacts`) with the fake LLM as the backend and the default strategy; the
"correct by hand" comment is a real correction (a fact deleted, one added). If the README's
commands change so that they no longer work, this test fails.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from evals.bench.fake_llm import FakeLLM, tool_call
from evals.datasets import SEEDS
from tests.conftest import ROOT, child_env
from tests.test_cli import NEWSFACTS

README = ROOT / "README.md"

# Two short articles of our own, not seeds: a flood and a ceasefire meeting.
ARTICLES = {
    "flood": (
        "Floods kill 12 in northern province\n\n"
        "Floods in the northern province of Varna killed 12 people on Monday, the regional "
        'governor Elena Petrova said. "We have never seen water like this," Petrova told '
        "reporters in the town of Dobrich. About 3,000 residents were evacuated, the Red "
        "Cross said.\n"
    ),
    "talks": (
        "Ceasefire talks open in Geneva\n\n"
        "Envoys of Armenia and Azerbaijan met in Geneva on Tuesday for a second round of "
        "talks, the Swiss foreign ministry said. Swiss Foreign Minister Ignazio Cassis said "
        '"both sides came to listen." Shelling killed four soldiers on Sunday.\n'
    ),
}
ANSWERS = {
    "NumberAnswer": tool_call({"counts": "people killed", "label": "killed"}),
    "NameAnswer": tool_call({"kind": "person"}),
    "SpeakerAnswer": tool_call({"speaker": "Elena Petrova"}),
    "TalksAnswer": tool_call({"talks": None}),
}


def walkthrough() -> list[str]:
    """The lines of the README's walkthrough block (after its marker)."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no <!-- walkthrough --> bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _correct(desk: Path) -> None:
    """What a person does by hand: fix a drafted fact, add a person the draft missed."""
    flood = yaml.safe_load((desk / "flood.yaml").read_text(encoding="utf-8"))
    [dead] = flood["facts"]["casualties"]
    dead.update(evidence="killed 12 people", population="people", location="Varna")
    talks = yaml.safe_load((desk / "talks.yaml").read_text(encoding="utf-8"))
    talks["facts"]["people"].append(
        {"name": "Ignazio Cassis", "role": "foreign minister", "affiliation": "Switzerland",
         "evidence": "Swiss Foreign Minister Ignazio Cassis", "aliases": ["Cassis"]}
    )  # fmt: skip
    for name, data in (("flood", flood), ("talks", talks)):
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (desk / f"{name}.yaml").write_text(text, encoding="utf-8")


def _snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for f in folders if f.is_dir() for p in f.rglob("*.*")}


@pytest.fixture
def fake(fake_llm: FakeLLM) -> FakeLLM:
    """The fake LLM answering every labelling question of the hybrid strategy."""
    fake_llm.by_tool = ANSWERS
    return fake_llm


def test_the_readme_walkthrough_runs_as_written(fake: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "my").mkdir()
    for name, text in ARTICLES.items():
        (tmp_path / "my" / f"{name}.txt").write_text(text, encoding="utf-8")
    seeds = (SEEDS.cassettes_dir, SEEDS.runs_dir, SEEDS.reports_dir)
    seeds_before = _snapshot(*seeds), SEEDS.baseline_path.read_bytes()
    env = child_env(NEWSFACTS_LLM_BASE_URL=fake.url, NEWSFACTS_LLM_RETRY_BACKOFF_S="0")  # type: ignore[attr-defined]
    outputs: dict[str, str] = {}
    lines = walkthrough()
    for line in lines:
        if line.startswith("# correct"):
            _correct(tmp_path / "desk")
            continue
        assert line.startswith(("uv run newsfacts ", "cp ")), f"unexpected README line: {line}"
        command = line.split("  #")[0].replace("uv run newsfacts", NEWSFACTS, 1)
        r = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr, line
        outputs[line.split("  #")[0].strip()] = r.stdout

    def said(phrase: str) -> str:
        return next(out for command, out in outputs.items() if phrase in command)

    desk = tmp_path / "desk"
    # label: a draft per article, the article copied beside it
    assert sorted(p.name for p in desk.glob("*.yaml")) == ["flood.yaml", "talks.yaml"]
    assert (desk / "flood.txt").read_text(encoding="utf-8") == ARTICLES["flood"]
    # check, diff: the corrected set is valid, and the added person is counted
    assert "ok: 2 gold files" in said("gold check")
    assert re.search(r"talks: kept \d+, deleted or changed 0, added 1", said("gold diff"))
    # record: cassettes and runs in the dataset's own folders, a baseline naming it
    assert sorted(p.name for p in (desk / "cassettes").rglob("*.json")) == [
        "flood.json",
        "talks.json",
    ]
    baseline = json.loads((desk / "baseline.json").read_text(encoding="utf-8"))
    assert baseline["dataset"] == "desk" and baseline["strategy"] == "hybrid"
    runs = sorted(p.name for p in (desk / "runs").glob("*.json"))
    assert len(runs) == 2 and all("dataset-desk" in name for name in runs)
    # compare: what the model added over the rules; gate; history lists both runs
    assert "+ 3,000 evacuated" in said("eval compare")
    assert "gate passed: desk" in said("eval gate")
    assert said("eval history").count("desk") >= 3  # the title and both rows
    # the seeds' cassettes, runs, reports and baseline are untouched
    assert (_snapshot(*seeds), SEEDS.baseline_path.read_bytes()) == seeds_before


def test_the_gate_fails_a_dataset_below_its_baseline(fake: FakeLLM, tmp_path: Path) -> None:
    """The walkthrough's gate line is a real gate: once the gold holds a fact the recorded
    answers miss, the replay falls below the baseline and the gate exits 1, saying why."""
    (tmp_path / "my").mkdir()
    (tmp_path / "my" / "flood.txt").write_text(ARTICLES["flood"], encoding="utf-8")
    env = child_env(NEWSFACTS_LLM_BASE_URL=fake.url)  # type: ignore[attr-defined]
    for command in ("label my/flood.txt --out desk", "eval --dataset desk --record --set-baseline"):
        r = subprocess.run([NEWSFACTS, *command.split()], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0, r.stderr
    gold = tmp_path / "desk" / "flood.yaml"
    data = yaml.safe_load(gold.read_text(encoding="utf-8"))
    data["facts"]["organizations"].append(
        {"name": "regional government", "kind": "government", "evidence": "the regional governor"}
    )
    gold.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    r = subprocess.run([NEWSFACTS, "eval", "gate", "--dataset", "desk"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1, r.stdout
    assert "gate failed: micro-F1" in r.stderr and "fell below the baseline 1.0000" in r.stderr
