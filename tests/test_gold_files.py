"""Gold and dataset files are data, never paths or programs: an article id that is not a
plain file name, a part of the wrong type, YAML anchors and aliases (the "billion laughs")
are each refused with the file and line, by `gold check`, by every loader, by `eval`
(`--record` included) and by `label`, before anything outside the dataset is read or
written."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evals.bench.fake_llm import FakeLLM, tool_call
from evals.cassettes import cassette_path
from evals.datasets import DatasetError, load_dataset
from evals.gold import load_gold
from evals.gold_check import check_dir
from evals.runner import Mode, run_gold
from schemas.facts import FACT_LISTS
from service.cli import app
from tests.conftest import FACTS_004, child_env, make_settings
from tests.test_cli import NEWSFACTS, run_cli

ARTICLE = "Floods in Sindh killed 12 people, Amina Bibi said."
OUTSIDE = "{outside}"  # stands for the absolute path of a file outside the dataset


def _gold(article_id: Any = "floods", top: str = "", **lists: str) -> str:
    """A gold YAML: line 1 the id, then `top` lines, then `facts:` and one line per list
    (`lists` replaces a list's `[]`)."""
    lines = [f"article_id: {json.dumps(article_id)}", *top.splitlines(), "facts:"]
    lines += [f"  {name}: {lists.get(name, '[]')}" for name in FACT_LISTS]
    return "\n".join(lines) + "\n"


def _dataset(tmp_path: Path, gold: str) -> Path:
    """tmp_path/desk: floods.txt and floods.yaml (the returned path)."""
    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "floods.txt").write_text(ARTICLE, encoding="utf-8")
    path = desk / "floods.yaml"
    path.write_text(gold, encoding="utf-8")
    return path


def _outside(tmp_path: Path) -> Path:
    """A private text outside the dataset, and texts where each unsafe id below would
    lead, so that a loader that follows an id finds something there."""
    private = tmp_path / "elsewhere" / "private.txt"
    private.parent.mkdir()
    private.write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "x.txt").write_text(ARTICLE, encoding="utf-8")
    return private


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, with its content."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


UNSAFE_IDS = ["../x", "../elsewhere/private", OUTSIDE, "a/b", "..", "", "a\x00b", ".hidden"]


@pytest.mark.parametrize("article_id", UNSAFE_IDS, ids=repr)
def test_an_unsafe_article_id_is_refused_by_check_and_loader(
    tmp_path: Path, article_id: str
) -> None:
    private = _outside(tmp_path)
    article_id = article_id.replace(OUTSIDE, str(private.with_suffix("")))
    path = _dataset(tmp_path, _gold(article_id))
    (path.parent / "a").mkdir()
    (path.parent / "a" / "b.txt").write_text(ARTICLE, encoding="utf-8")
    _, problems = check_dir(path.parent)
    assert [(p.path, p.line) for p in problems] == [(path, 1)], problems
    assert "is not a plain name" in problems[0].message
    with pytest.raises(DatasetError) as err:
        load_dataset(path.parent).cases()
    assert f"{path}:1: article_id {article_id!r} is not a plain name" in str(err.value)
    with pytest.raises(ValueError, match="is not a plain name"):
        cassette_path("news_facts@v2", article_id, tmp_path / "cassettes")


@pytest.mark.parametrize("article_id", ["../elsewhere/private", OUTSIDE])
def test_eval_record_never_touches_a_path_outside_the_dataset(
    fake_llm: FakeLLM, tmp_path: Path, article_id: str
) -> None:
    private = _outside(tmp_path)
    article_id = article_id.replace(OUTSIDE, str(private.with_suffix("")))
    path = _dataset(tmp_path, _gold(article_id))
    fake_llm.default = tool_call(FACTS_004)
    before = _tree(tmp_path)
    r = run_cli(fake_llm, "eval", "--dataset", str(path.parent), "--record")
    assert r.returncode == 2, r.stderr
    assert f"{path}:1: article_id" in r.stderr and "Traceback" not in r.stderr
    assert not fake_llm.requests
    assert _tree(tmp_path) == before  # nothing written, inside the dataset or out


def test_the_runner_refuses_an_unsafe_id_before_recording(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    case = next(c for c in load_gold() if c.article_id.startswith("004"))
    unsafe = dataclasses.replace(case, article_id=str(tmp_path / "outside"))
    fake_llm.default = tool_call(FACTS_004)
    settings = make_settings(llm_base_url=fake_llm.url)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is not a plain name"):
        asyncio.run(run_gold([unsafe], settings, "news_facts@v1", Mode.RECORD, tmp_path / "c"))
    assert _tree(tmp_path) == {} and not fake_llm.requests


def test_label_refuses_an_article_whose_name_is_not_an_id(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    fake_llm.default = tool_call(FACTS_004)
    articles = [tmp_path / name for name in ("...txt", "a b.txt", ".hidden.txt", "-x.txt")]
    for article in articles:
        article.write_text(ARTICLE, encoding="utf-8")
    r = run_cli(fake_llm, "label", *map(str, articles), "--out", str(tmp_path / "set"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert all(f"{a}: " in r.stderr for a in articles), r.stderr
    assert not fake_llm.requests and not (tmp_path / "set").exists()


PERSON = "{name: Amina Bibi, evidence: Amina Bibi"
DEEP = "[" * 1000 + "]" * 1000  # past Python's recursion limit in PyYAML's composer
WRONG_TYPES = [
    ("facts-not-a-mapping", "article_id: floods\nfacts: 5\n", 2,
     "facts: must be a mapping of fact lists, not 5"),
    ("list-not-a-list", _gold(people="5"), 3, "people: must be a list of facts"),
    ("fact-not-a-mapping", _gold(people="[5]"), 3, "people[0]: not a mapping of fields"),
    ("field-of-a-wrong-type", _gold(people="\n    - name: Amina Bibi\n      evidence: [x]"), 5,
     "people[0].evidence: Input should be a valid string"),
    ("aliases-not-a-list", _gold(people=f"[{PERSON}, aliases: 5}}]"), 3,
     "people[0].aliases: must be a list of names, not 5"),
    ("an-alias-not-a-name", _gold(people=f"[{PERSON}, aliases: [5]}}]"), 3,
     "people[0].aliases: must be a list of names"),
    ("metadata-not-a-mapping", _gold(top="metadata: [a]"), 2, "metadata: must be a mapping"),
    ("id-a-number", _gold(12), 1, "article_id 12 is not a string"),
    ("id-missing", "\n".join(_gold().splitlines()[1:]), 1, "article_id missing"),
    ("anchor-and-alias", _gold(people="&p []", quotes="*p"), 3, "anchors and aliases"),
    ("nested-too-deep", f"article_id: floods\nfacts: {DEEP}\n", 2, "nested deeper than"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("gold", "line", "says"), [w[1:] for w in WRONG_TYPES], ids=[w[0] for w in WRONG_TYPES]
)
def test_a_wrong_type_is_named_by_file_and_line(
    tmp_path: Path, gold: str, line: int, says: str
) -> None:
    path = _dataset(tmp_path, gold)
    _, problems = check_dir(path.parent)
    assert [(p.path, p.line) for p in problems] == [(path, line)], problems
    assert says in problems[0].message
    with pytest.raises(DatasetError) as err:
        load_dataset(path.parent).cases()
    assert f"{path}:{line}: " in str(err.value) and says in str(err.value)
    result = CliRunner().invoke(app, ["gold", "check", str(path.parent)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}:{line}: " in result.output


def _row(**changes: Any) -> str:
    gold = {name: [] for name in FACT_LISTS}
    row = {"id": "floods", "text": ARTICLE, "gold": gold}
    for key, value in changes.items():
        if key in FACT_LISTS:
            gold[key] = value
        else:
            row[key] = value
    return json.dumps(row)


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (_row(people=5), "people: must be a list of facts"),
        (_row(people=[{"name": "A", "evidence": "A", "aliases": 5}]), "people[0].aliases"),
        (_row(metadata=5), "metadata: must be a mapping"),
        (_row(id="a/b"), "id 'a/b' is not a plain name"),
        (_row(id=""), "id '' is not a plain name"),
    ],
    ids=["list-not-a-list", "aliases-not-a-list", "metadata", "id-a-path", "id-empty"],
)
def test_a_jsonl_line_of_a_wrong_type_is_named_by_check_and_loader(
    tmp_path: Path, row: str, says: str
) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(row + "\n", encoding="utf-8")
    _, problems = check_dir(path)
    assert [(p.line, says in p.message) for p in problems] == [(1, True)], problems
    with pytest.raises(DatasetError) as err:
        load_dataset(path).cases()
    assert f"{path}:1: " in str(err.value) and says in str(err.value)


def test_a_jsonl_number_id_is_its_digits(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(_row(id=7) + "\n", encoding="utf-8")
    assert [c.article_id for c in load_dataset(path).cases()] == ["7"]


def test_a_jsonl_file_whose_name_cannot_name_its_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "..jsonl"  # its folder would be tmp_path itself
    path.write_text(_row() + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"is not a plain name.*rename the file"):
        load_dataset(path)


# The "billion laughs": nine lines of nine references each stand for 9**9 strings (1 KB).
LAUGHS = "\n".join(
    [
        "metadata:",
        '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)),
    ]
)
BOMB = _gold(top=LAUGHS, figures="[{value: 1, what: *l8, evidence: x}]")


def _bounded(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """`newsfacts *args` limited to 3 GiB of memory and 120 s, and how long it took."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    env = child_env(NEWSFACTS_LLM_BASE_URL="http://127.0.0.1:9/v1", NEWSFACTS_STRATEGY="llm")
    started = time.perf_counter()
    r = subprocess.run([NEWSFACTS, *args], capture_output=True, text=True, env=env,
                       timeout=120, preexec_fn=limit)  # fmt: skip
    return r, time.perf_counter() - started


@pytest.mark.parametrize(
    ("command", "code"), [(["gold", "check"], 1), (["eval", "--replay", "--dataset"], 2)]
)
def test_an_alias_bomb_is_refused_at_its_first_anchor(
    tmp_path: Path, command: list[str], code: int
) -> None:
    assert len(BOMB.encode()) < 1100
    path = _dataset(tmp_path, BOMB)
    r, took = _bounded(*command, str(path.parent))
    print(f"{' '.join(command)}: refused in {took:.2f} s")  # the figure, not a limit
    assert r.returncode == code, r.stderr
    assert f"{path}:3: " in r.stdout + r.stderr and "anchors and aliases" in r.stdout + r.stderr
