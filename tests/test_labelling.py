"""The labelling assistant end to end: `newsfacts label` drafts gold from the pipeline's
answer (the fake LLM's, over real HTTP), `gold check` accepts the draft as it stands, and
`gold diff` says what the person changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evals.bench.fake_llm import FakeLLM, tool_call
from evals.gold_check import check_dir
from evals.labelling import DRAFT_MARK
from schemas.facts import FACT_LISTS
from tests.conftest import FACTS_004, SEED_004
from tests.test_cli import run_cli

ID = "004_8b1c8c72e30bd7ca"


@pytest.fixture
def drafted(fake_llm: FakeLLM, tmp_path: Path) -> Path:
    """A dataset folder holding seed 004 and its draft gold."""
    article = tmp_path / f"{ID}.txt"
    article.write_text(SEED_004, encoding="utf-8")
    fake_llm.queue(tool_call(FACTS_004))
    r = run_cli(fake_llm, "label", str(article), "--out", str(tmp_path / "set"))
    assert r.returncode == 0, r.stderr
    assert "draft facts ->" in r.stdout
    return tmp_path / "set"


def test_a_draft_is_gold_that_gold_check_accepts(drafted: Path) -> None:
    source = (drafted / f"{ID}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(source)
    assert set(data["facts"]) == set(FACT_LISTS)  # every list, empty ones as []
    facts = [f for v in data["facts"].values() for f in v or []]
    assert facts and source.count(DRAFT_MARK) == len(facts)  # each fact marked for checking
    assert (drafted / f"{ID}.txt").read_text(encoding="utf-8") == SEED_004
    assert check_dir(drafted) == (1, [])
    # a name comes with the other forms the article writes it in
    [podolyak] = [p for p in data["facts"]["people"] if p["name"] == "Mykhailo Podolyak"]
    assert "Podolyak" in podolyak["aliases"]


def test_a_draft_is_not_overwritten_without_force(fake_llm: FakeLLM, drafted: Path) -> None:
    (drafted / f"{ID}.yaml").write_text("corrected by hand\n", encoding="utf-8")
    calls = len(fake_llm.requests)
    r = run_cli(fake_llm, "label", str(drafted / f"{ID}.txt"), "--out", str(drafted))
    assert r.returncode == 0 and "exists" in r.stdout
    assert len(fake_llm.requests) == calls  # nothing drafted, no model started
    assert (drafted / f"{ID}.yaml").read_text(encoding="utf-8") == "corrected by hand\n"


@pytest.mark.parametrize(
    ("content", "code", "says"),
    [
        (None, 2, "no such file"),
        ("caf\xe9".encode("latin-1"), 1, "not drafted: not UTF-8 text"),
    ],
)
def test_an_article_that_cannot_be_read_is_named(
    fake_llm: FakeLLM, tmp_path: Path, content: bytes | None, code: int, says: str
) -> None:
    article = tmp_path / "bad.txt"
    if content is not None:
        article.write_bytes(content)
    r = run_cli(fake_llm, "label", str(article), "--out", str(tmp_path / "set"))
    assert r.returncode == code and says in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "set" / "bad.yaml").exists()


def test_gold_diff_counts_what_the_person_kept_deleted_and_added(
    fake_llm: FakeLLM, drafted: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load((drafted / f"{ID}.yaml").read_text(encoding="utf-8"))
    people = data["facts"]["people"]
    kept = len(people) - 1
    people.pop(0)  # the person deletes one drafted person ...
    data["facts"]["quotes"] = []  # ... every quote ...
    data["facts"]["figures"] = [  # ... and adds a figure the draft missed
        {"evidence": "More than 1 million refugees", "value": 1000000, "unit": "people",
         "what": "refugees who fled Ukraine"},
    ]  # fmt: skip
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    (corrected / f"{ID}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    quotes = len(yaml.safe_load((drafted / f"{ID}.yaml").read_text())["facts"]["quotes"])
    r = run_cli(fake_llm, "gold", "diff", str(drafted), str(corrected), "--articles", str(drafted))
    assert r.returncode == 0, r.stderr
    assert f"people: kept {kept}, deleted or changed 1, added 0" in r.stdout
    assert f"quotes: kept 0, deleted or changed {quotes}, added 0" in r.stdout
    assert "figures: kept 0, deleted or changed 0, added 1" in r.stdout
    assert "all: " in r.stdout and "recall" in r.stdout
