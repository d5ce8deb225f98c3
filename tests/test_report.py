"""Reports: JSON summary, terminal table, HTML with highlighted spans, and compare."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from evals.compare import DifferentDatasetsError, compare_reports, print_comparison
from evals.gold import GOLD_DIR, load_case
from evals.report import print_table, report_name, run_name, run_report, write_html
from evals.run_report import RunReport
from evals.runner import EvalRun, Mode
from evals.scoring import CaseOutcome
from schemas.facts import NewsFacts
from tests.test_run_report import COMMITTED_RUNS

CASE = load_case(GOLD_DIR / "004_8b1c8c72e30bd7ca.yaml")


def make_report(predicted: NewsFacts, prompt: str) -> tuple[RunReport, EvalRun]:
    run = EvalRun(prompt=prompt, model="m", mode=Mode.REPLAY)
    run.outcomes.append(CaseOutcome.build(CASE, predicted))
    return run_report(run), run


def without_quotes() -> NewsFacts:
    data = CASE.facts.model_dump()
    data["quotes"] = data["quotes"][1:]
    return NewsFacts.model_validate(data)


def test_json_summary_and_table() -> None:
    report, _ = make_report(CASE.facts, "p@v1")
    assert report.summary.micro_f1 == 1.0
    assert report.cases[0].lists["casualties"].matched[0].label.startswith("2,000")
    out = io.StringIO()
    print_table(report, Console(file=out, width=120))
    assert "micro-F1 1.000" in out.getvalue()


def test_html_highlights_spans_and_lists_missed(tmp_path: Path) -> None:
    report, run = make_report(without_quotes(), "p@v2")
    texts = {o.case.article_id: o.case.text for o in run.outcomes}
    html = write_html(report, texts, tmp_path / "r.html").read_text()
    assert '<mark class="casualties"' in html
    assert "missed (1)" in html
    assert "To our great regret" in html


def test_compare_shows_gained_and_lost_facts() -> None:
    a, _ = make_report(CASE.facts, "p@v1")
    b, _ = make_report(without_quotes(), "p@v2")
    cmp = compare_reports(a, b)
    assert cmp["per_list"]["quotes"]["delta_f1"] < 0
    (change,) = cmp["facts"]
    assert change["list"] == "quotes" and change["lost"][0].startswith("Mykhailo Podolyak")
    back = compare_reports(b, a)
    assert back["facts"][0]["gained"] == change["lost"]
    out = io.StringIO()
    print_comparison(cmp, Console(file=out, width=140))
    assert "- Mykhailo Podolyak" in out.getvalue()


def without_a_role() -> NewsFacts:
    data = CASE.facts.model_dump()
    data["people"][0]["role"] = None  # Podolyak's "presidential adviser"
    return NewsFacts.model_validate(data)


def test_field_scores_in_json_table_and_html(tmp_path: Path) -> None:
    report, run = make_report(without_a_role(), "p@v1")
    s = report.summary
    assert s.fields is not None and s.field_f1 is not None and s.slot_f1 is not None
    assert s.fields["people.role"].fn == 1 and s.fields["people.role"].fp == 0
    assert s.micro_f1 == 1.0 and 0 < s.field_f1 < 1.0 and 0 < s.slot_f1 < 1.0
    out = io.StringIO()
    print_table(report, Console(file=out, width=160))
    assert f"field F1 {s.field_f1:.3f}" in out.getvalue()
    texts = {o.case.article_id: o.case.text for o in run.outcomes}
    html = write_html(report, texts, tmp_path / "r.html").read_text()
    assert "✗role" in html and "people.role" in html


def test_compare_shows_fields_gained_and_lost() -> None:
    a, _ = make_report(CASE.facts, "p@v1")
    b, _ = make_report(without_a_role(), "p@v2")
    cmp = compare_reports(a, b)
    (change,) = cmp["facts"]
    assert change["fields_lost"] == ["Mykhailo Podolyak: role"] and not change["lost"]
    assert compare_reports(b, a)["facts"][0]["fields_gained"] == ["Mykhailo Podolyak: role"]
    assert cmp["per_list"]["people"]["delta_field_f1"] < 0
    out = io.StringIO()
    print_comparison(cmp, Console(file=out, width=160))
    assert "- field Mykhailo Podolyak: role" in out.getvalue()


def test_compare_refuses_runs_of_two_datasets() -> None:
    a, _ = make_report(CASE.facts, "p@v1")
    b, _ = make_report(CASE.facts, "p@v1")
    with pytest.raises(DifferentDatasetsError, match="'seeds', B of 'desk'"):
        compare_reports(a, b.model_copy(update={"dataset": "desk"}))


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({}, "p@v1--m"),
        ({"ungrounded": "drop"}, "p@v1+drop--m"),
        ({"passes": "lists"}, "p@v1+lists--m"),
        (
            {"passes": "lists", "ungrounded": "reask", "variant": "joined"},
            "p@v1+lists+reask--m--joined",
        ),
        ({"dataset": "seeds", "variant": "004"}, "p@v1--m--004"),
        ({"dataset": "desk", "variant": "004"}, "p@v1--m--dataset-desk-004"),
    ],
    ids=["plain", "policy", "passes", "all", "seeds-subset", "own-dataset-subset"],
)
def test_report_names_say_what_was_run(fields: dict[str, str], name: str) -> None:
    assert run_name("p@v1", "m", **fields) == name
    report, _ = make_report(CASE.facts, "p@v1")
    assert report_name(report.model_copy(update={"model": "m", **fields})) == name


@pytest.mark.parametrize("policy", ["flag", "drop"])
def test_one_set_of_answers_is_scored_under_flag_and_drop(policy: str) -> None:
    data = CASE.facts.model_dump()
    invented = {
        "evidence": "Kyiv was encircled by 40,000 troops",
        "value": 40000,
        "unit": "troops",
        "what": "troops",
    }
    data["figures"] = [*data["figures"], invented]
    run = EvalRun(prompt="p@v1", model="m", mode=Mode.REPLAY, ungrounded=policy)  # type: ignore[arg-type]
    run.outcomes.append(CaseOutcome.build(CASE, NewsFacts.model_validate(data)))
    summary = run_report(run).summary
    assert summary.policies is not None and set(summary.policies) == {"flag", "drop"}
    assert summary.policies["drop"].fp == summary.policies["flag"].fp - 1
    assert summary.micro == summary.policies[policy]  # the headline is the run's policy
    assert summary.grounding_rate == (1.0 if policy == "drop" else pytest.approx(0.97, 0.03))


@pytest.mark.parametrize(
    ("run", "dataset", "exit_code", "says"),
    [
        ("hybrid_labels@v3+drop--qwen2.5-coder-1.5b-instruct.json", None, 0, "page:"),
        ("news_facts@v2+drop--qwen2.5-coder-1.5b-instruct--joined.json", None, 0, "page:"),
        ("hybrid_labels@v3+drop--qwen2.5-coder-1.5b-instruct.json", "evals/datasets/other_news",
         2, "the dataset has no article 000_d1e05c12c5471c13"),
    ],
)  # fmt: skip
def test_a_runs_page_is_built_on_demand_from_its_json(
    tmp_path: Path, run: str, dataset: str | None, exit_code: int, says: str
) -> None:
    from typer.testing import CliRunner

    from evals.history import RUNS_DIR
    from service.cli import app

    page = tmp_path / "run.html"
    args = ["eval", "html", str(RUNS_DIR / run), "--out", str(page)]
    result = CliRunner().invoke(app, args + (["--dataset", dataset] if dataset else []))
    assert result.exit_code == exit_code, result.output
    assert says in result.output
    if exit_code == 0:
        assert page.read_text(encoding="utf-8").count("<mark") > 5


@pytest.mark.parametrize("path", COMMITTED_RUNS, ids=lambda p: p.name)
def test_every_committed_run_prints_and_renders(path: Path, tmp_path: Path) -> None:
    """Runs scored before field scores or grounding checks print and render without them."""
    report = RunReport.model_validate_json(path.read_text(encoding="utf-8"))
    out = io.StringIO()
    print_table(report, Console(file=out, width=200))
    assert f"micro-F1 {report.summary.micro_f1:.3f}" in out.getvalue()
    assert ("evidence match:" in out.getvalue()) == (report.summary.match_levels is not None)
    html = write_html(report, {}, tmp_path / "r.html").read_text(encoding="utf-8")
    assert ("recorded before field scores" in html) == (report.summary.field_f1 is None)
    assert html.count("<h2 ") == len(report.cases)
