"""The eval harness's commands (`newsfacts eval`, `gold`, `label`, `bench`), added to the
service's `newsfacts` command from this side: the package's `newsfacts.commands` entry
point names `register`, which the service calls; the service imports nothing from here.
They need the `eval` extra (vcrpy, scipy): `pip install 'newsfacts[eval]'`."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

from schemas.api import ExtractRequest
from schemas.facts import FACT_LISTS
from service.cli import cli_settings, fail, passes_choice, policy_choice, strategy_choice
from service.errors import NewsfactsError
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import STRATEGIES, needs_model
from service.files import write_atomic
from service.llm.backend import open_backend
from service.logs import configure_logging
from service.progress import steps
from service.settings import Settings

harness = typer.Typer()
EXTRA = ("vcr", "scipy")  # the `eval` extra's modules


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def register(app: typer.Typer) -> None:
    """Add the harness's commands to `app` (ImportError naming the extra when it is absent)."""
    missing = [name for name in EXTRA if not _installed(name)]
    if missing:
        raise ImportError(f"the eval harness needs {missing}: pip install 'newsfacts[eval]'")
    app.registered_commands += harness.registered_commands
    app.registered_groups += harness.registered_groups


@contextlib.contextmanager
def _dataset_errors() -> Iterator[None]:
    """A dataset that cannot be read: its message (file and line), exit 2, no traceback."""
    from evals.datasets import DatasetError

    try:
        yield
    except DatasetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _dataset(path: Path | None) -> Any:
    """The dataset `--dataset` names (the seeds without one); exit 2 when there is none."""
    from evals.datasets import load_dataset

    with _dataset_errors():
        return load_dataset(path)


def _cases(dataset: Any) -> list[Any]:
    """A dataset's gold cases; a file that cannot be read is named, exit 2."""
    with _dataset_errors():
        cases = dataset.cases()
    if not cases:
        typer.echo(f"error: no gold cases in {dataset.source}", err=True)
        raise typer.Exit(2)
    return list(cases)


@harness.command()
def bench(
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only these: overhead, concurrency, soak, hostile, side_by_side, "
            "calls_together_fake, calls_together_embedded, ci_eval, embedded, levers, speed, "
            "decode, replicas (repeatable)."
        ),
    ] = None,
    other_build: Annotated[
        Path | None,
        typer.Option(
            help="levers: also measure this other build of llama.cpp, a directory holding a "
            "`llama_cpp` package (put first on the model server's PYTHONPATH); decode: the "
            "build of today's main side."
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="speed: also measure this other checkout (with its own .venv, e.g. a git "
            "worktree of an older commit), first, in the same run."
        ),
    ] = None,
) -> None:
    """Run the benchmarks, print their figures and write evals/bench/results.json."""
    from evals.bench.run import BENCHMARKS, print_results, run

    names = only or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        typer.echo(f"error: unknown benchmark(s) {unknown}; have {list(BENCHMARKS)}", err=True)
        raise typer.Exit(2)
    if other_build is not None and not (other_build / "llama_cpp" / "__init__.py").is_file():
        typer.echo(f"error: {other_build} holds no llama_cpp package", err=True)
        raise typer.Exit(2)
    if baseline is not None and not (baseline / ".venv" / "bin" / "newsfacts").is_file():
        typer.echo(f"error: {baseline} has no .venv/bin/newsfacts; run `uv sync` there", err=True)
        raise typer.Exit(2)
    configure_logging("WARNING")
    print_results(run(names, other_build=other_build, baseline=baseline))


def _case_note(outcome: Any) -> str:
    """A finished eval case in a few words: its id, and its error or facts."""
    if outcome.error is not None:
        return f"{outcome.case.article_id}: failed ({outcome.error})"
    facts = sum(len(getattr(outcome.predicted, n)) for n in FACT_LISTS) if outcome.predicted else 0
    return f"{outcome.case.article_id}: {facts} facts"


@harness.command()
def label(
    articles: Annotated[list[Path], typer.Argument(help="Article .txt files to draft gold for.")],
    out: Annotated[Path, typer.Option(help="The dataset folder: <id>.txt and <id>.yaml.")],
    force: Annotated[bool, typer.Option(help="Overwrite a gold YAML already there.")] = False,
) -> None:
    """Draft gold facts for your own articles from the pipeline's answer, to correct by hand."""
    from evals.labelling import draft_yaml, unnamed_articles
    from service.candidates.nlp import parse
    from service.extraction.strategies import NLP_STEPS

    missing = [str(a) for a in articles if not a.is_file()]
    if missing:
        typer.echo(f"error: no such file: {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    unnamed = unnamed_articles(articles)
    if unnamed:  # a file's name is its gold id: rename before anything is drafted
        typer.echo("error: rename these articles (their name is the gold id):\n  "
                   + "\n  ".join(unnamed), err=True)  # fmt: skip
        raise typer.Exit(2)
    todo = [a for a in articles if force or not (out / f"{a.stem}.yaml").exists()]
    for kept in sorted(set(articles) - set(todo)):
        typer.echo(f"{kept}: {out / (kept.stem + '.yaml')} exists (corrections are kept; --force "
                   "to draft again)")  # fmt: skip
    if not todo:
        return
    settings = cli_settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    out.mkdir(parents=True, exist_ok=True)
    backend = "the embedded model (it starts first)" if settings.embedded else settings.llm_base_url
    typer.echo(f"drafting {len(todo)} articles with {backend}", err=True)

    async def go() -> int:
        failed = 0
        async with open_backend(settings, uses_model=needs_model(settings)) as backend:
            pipeline = Pipeline(backend.llm, settings)
            for path in todo:
                try:
                    text = path.read_text(encoding="utf-8")
                    response = await pipeline.extract(ExtractRequest(text=text))
                except (NewsfactsError, UnicodeDecodeError) as exc:
                    failed += 1
                    why = exc.message if isinstance(exc, NewsfactsError) else "not UTF-8 text"
                    typer.echo(f"{path}: not drafted: {why}", err=True)
                    continue
                article = await asyncio.to_thread(parse, text, pipeline.nlp, NLP_STEPS)
                write_atomic(out / f"{path.stem}.txt", text)
                draft = draft_yaml(path.stem, str(path), response, article)
                write_atomic(out / f"{path.stem}.yaml", draft)
                facts = sum(len(getattr(response.facts, n)) for n in FACT_LISTS)
                typer.echo(f"{path}: {facts} draft facts -> {out / (path.stem + '.yaml')}")
        return failed

    try:
        failed = asyncio.run(go())
    except NewsfactsError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    if failed:
        raise typer.Exit(1)


gold_app = typer.Typer(help="Gold sets: hand-labelled facts for your own articles.")
harness.add_typer(gold_app, name="gold")


@gold_app.command("check")
def gold_check(
    gold_dir: Annotated[
        Path, typer.Argument(help="A folder of <id>.yaml gold files, or a .jsonl dataset.")
    ],
    articles: Annotated[
        Path | None,
        typer.Option(help="Where the <id>.txt articles are (default: beside the gold)."),
    ] = None,
) -> None:
    """Validate a gold set: schema, verbatim evidence and quotes, stated numbers, repeats."""
    from evals.gold_check import check_dir

    if not gold_dir.is_dir() and not (gold_dir.suffix == ".jsonl" and gold_dir.is_file()):
        typer.echo(f"error: no such folder or .jsonl file: {gold_dir}", err=True)
        raise typer.Exit(2)
    count, problems = check_dir(gold_dir, articles)
    for problem in problems:
        typer.echo(str(problem))
    if not count:
        typer.echo(f"error: no <id>.yaml gold in {gold_dir}", err=True)
        raise typer.Exit(2)
    if problems:
        typer.echo(f"{len(problems)} problems in {count} gold files", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {count} gold files")


@gold_app.command("diff")
def gold_diff(
    draft: Annotated[Path, typer.Argument(help="The drafts, as `newsfacts label` wrote them.")],
    corrected: Annotated[Path, typer.Argument(help="The same articles' corrected gold.")],
    articles: Annotated[
        Path | None,
        typer.Option(help="Where the <id>.txt articles are (default: beside the corrected gold)."),
    ] = None,
) -> None:
    """How much of each draft survived correction: facts kept, deleted or changed, added."""
    from evals.labelling import correction

    pairs = [(d, corrected / d.name) for d in sorted(draft.glob("*.yaml"))]
    pairs = [(d, c) for d, c in pairs if c.is_file() and c.resolve() != d.resolve()]
    if not pairs:
        typer.echo(f"error: no <id>.yaml in both {draft} and {corrected}", err=True)
        raise typer.Exit(2)
    total = None
    for d, c in pairs:
        try:
            fixed = correction(d, c, articles or corrected)
        except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
            typer.echo(f"{c}: cannot be read ({exc}); run `newsfacts gold check`", err=True)
            raise typer.Exit(1) from None
        t = fixed.total
        total = t if total is None else total + t
        typer.echo(f"{fixed.article_id}: kept {t.tp}, deleted or changed {t.fp}, added {t.fn}")
        for name, counts in fixed.counts.items():
            if counts.fp or counts.fn:
                typer.echo(f"  {name}: kept {counts.tp}, deleted or changed {counts.fp}, "
                           f"added {counts.fn}")  # fmt: skip
    assert total is not None
    typer.echo(
        f"all: {total.tp} of {total.tp + total.fp} draft facts kept "
        f"(precision {total.precision:.2f}), {total.tp} of {total.tp + total.fn} gold facts "
        f"drafted (recall {total.recall:.2f}), F1 {total.f1:.2f}"
    )


eval_app = typer.Typer(help="Score prompts and models against the gold facts.")
harness.add_typer(eval_app, name="eval")


Record = Annotated[bool, typer.Option(help="Run live and (re)write the cassettes.")]
Replay = Annotated[bool, typer.Option(help="Replay cassettes; no model, no network.")]
RecordMissing = Annotated[
    bool,
    typer.Option(
        help="Record the articles with no cassette and the requests a cassette lacks (its "
        "recorded answers kept as they are); replay the rest."
    ),
]
Out = Annotated[Path | None, typer.Option(help="Directory for the JSON and HTML report.")]
Ungrounded = Annotated[
    str | None, typer.Option(help="Grounding policy: flag, drop or reask [NEWSFACTS_UNGROUNDED].")
]
SetBaseline = Annotated[
    bool, typer.Option(help="Make this run evals/baseline.json, the score CI holds.")
]
Samples = Annotated[
    int,
    typer.Option(
        min=1,
        help="Run the gold set live N times and report, per fact, how often it was "
        "extracted and the spread of micro-F1 (set NEWSFACTS_LLM_TEMPERATURE above 0).",
    ),
]
Passes = Annotated[
    str | None, typer.Option(help="Recall passes: none or lists [NEWSFACTS_RECALL_PASSES].")
]
StrategyOption = Annotated[
    str | None, typer.Option(help="Extraction strategy: nlp, llm or hybrid [NEWSFACTS_STRATEGY].")
]
Joined = Annotated[
    bool,
    typer.Option(
        help="Score one long article, the seeds joined, against the union of their gold "
        "facts (extracted in overlapping pieces)."
    ),
]
Articles = Annotated[
    list[str] | None,
    typer.Option(
        help="Run only the gold articles whose id starts with this (repeatable, e.g. "
        "--article 000 --article 004); the report's name says which."
    ),
]
DatasetOption = Annotated[
    Path | None,
    typer.Option(
        help="Your own dataset instead of the seeds: a folder of <id>.txt articles with "
        "<id>.yaml gold beside them, or a .jsonl of {id, text, gold} lines. Its "
        "cassettes, runs and baseline are its own."
    ),
]


def _refuse(message: str) -> NoReturn:
    fail(message, 2)


@eval_app.callback(invoke_without_command=True)
def eval_run(
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Option(help="Prompt as name@version.")] = None,
    record: Record = False,
    replay: Replay = False,
    record_missing: RecordMissing = False,
    out: Out = None,
    ungrounded: Ungrounded = None,
    set_baseline: SetBaseline = False,
    samples: Samples = 1,
    passes: Passes = None,
    strategy: StrategyOption = None,
    joined: Joined = False,
    article: Articles = None,
    dataset: DatasetOption = None,
) -> None:
    """Run the gold set (live, --record, or --replay) and print, save and render the scores."""
    if ctx.invoked_subcommand is not None:
        return
    from evals.runner import Mode

    if record + replay + record_missing > 1:
        _refuse("choose one of --record, --record-missing and --replay")
    if samples > 1 and (record or replay or record_missing or set_baseline):
        _refuse("--samples runs live; it cannot record, replay or set the baseline")
    if article and (joined or set_baseline):
        _refuse("--article picks a subset; it cannot be joined or set the baseline")
    settings = _eval_settings(prompt, strategy)
    prompt = prompt or STRATEGIES[settings.strategy].default_prompt(settings)
    mode = (
        Mode.RECORD if record
        else Mode.RECORD_MISSING if record_missing
        else Mode.REPLAY if replay
        else Mode.LIVE
    )  # fmt: skip
    data = _dataset(dataset)
    cases, variant = _eval_cases(data, joined, article)
    options = {"ungrounded": policy_choice(ungrounded), "passes": passes_choice(passes),
               "dataset": data}  # fmt: skip
    runs = _eval_runs(cases, settings, prompt, mode, samples, options)
    for each in runs:
        each.variant = variant
    if samples > 1:
        _save_samples(runs, out or data.reports_dir, samples)
    else:
        _save_run(runs[0], data, mode, out, set_baseline)


def _eval_settings(prompt: str | None, strategy: str | None) -> Settings:
    """The settings, on the strategy `--strategy` or the prompt names."""
    settings = cli_settings()
    if strategy is None and prompt is not None:
        from service.extraction.strategies import prompt_strategy

        strategy = prompt_strategy(prompt)  # a prompt names its strategy
    if strategy is not None:
        settings = settings.model_copy(update={"strategy": strategy_choice(strategy)})
    configure_logging("ERROR")
    return settings


def _eval_cases(data: Any, joined: bool, article: list[str] | None) -> tuple[list[Any], str]:
    """The cases to run (the seeds joined, or those --article picks) and the run's variant."""
    from evals.gold import joined_case

    gold = _cases(data)
    cases = [joined_case(gold)] if joined else gold
    if article:
        cases = [c for c in cases if c.article_id.startswith(tuple(article))]
        if not cases:
            _refuse(f"no gold article id starts with {', '.join(article)}")
        return cases, "+".join(c.article_id.split("_")[0] for c in cases)
    return cases, "joined" if joined else ""


def _eval_runs(
    cases: list[Any], settings: Settings, prompt: str, mode: Any, samples: int,
    options: dict[str, Any],
) -> list[Any]:  # fmt: skip
    """The cases run once (or `samples` times live), a progress line per case."""
    from evals.cassettes import StaleCassetteError
    from evals.runner import Mode, run_gold, run_samples

    shown = (
        contextlib.nullcontext(lambda _: None)  # a replay takes seconds
        if mode is Mode.REPLAY
        else steps(f"{mode} {prompt}", len(cases) * samples)
    )
    with shown as step:
        advance = lambda outcome: step(_case_note(outcome))  # noqa: E731
        try:
            if samples > 1:
                return asyncio.run(run_samples(cases, settings, prompt, samples, advance,
                                               **options))  # fmt: skip
            return [asyncio.run(run_gold(cases, settings, prompt, mode, on_case=advance,
                                         **options))]  # fmt: skip
        except StaleCassetteError as exc:
            fail(str(exc))
        except NewsfactsError as exc:
            fail(f"[{exc.code}] {exc.message}")


def _save_samples(runs: list[Any], directory: Path, samples: int) -> None:
    """Print and save how stable the sampled runs were."""
    from evals.report import report_name, run_report, write_json
    from evals.stability import print_stability, stability

    reports = [run_report(r) for r in runs]
    result = stability(reports)
    print_stability(result)
    path = directory / f"{report_name(reports[0])}--samples{samples}.json"
    typer.echo(f"report: {write_json(result, path)}")


def _save_run(run: Any, data: Any, mode: Any, out: Path | None, set_baseline: bool) -> None:
    """Print the run's table; save its JSON and HTML (a recorded run in the history, with
    the index), and make it the baseline when asked."""
    from evals.report import print_table, report_name, run_report, write_html, write_json
    from evals.runner import Mode

    report = run_report(run)
    print_table(report)
    recorded = mode in (Mode.RECORD, Mode.RECORD_MISSING)
    directory = out or (data.runs_dir if recorded else data.reports_dir)
    json_path = write_json(report, directory / f"{report_name(report)}.json")
    if directory == data.runs_dir:  # the history keeps the JSON; a page is built on demand
        typer.echo(f"report: {json_path} (its page: newsfacts eval html {json_path})")
    else:
        texts = {o.case.article_id: o.case.text for o in run.outcomes}
        page = write_html(report, texts, json_path.with_suffix(".html"))
        typer.echo(f"report: {json_path}  {page}")
    if directory == data.runs_dir:
        from evals.history import write_index

        typer.echo(f"run index: {write_index(directory)}")
    if set_baseline:
        from evals.baseline import baseline_from_report, save_baseline

        path = save_baseline(
            baseline_from_report(report, path=data.baseline_path), data.baseline_path
        )
        typer.echo(
            f"baseline: {path} (micro-F1 {report.summary.micro_f1:.4f}, "
            f"field F1 {report.summary.field_f1 or 0:.4f})"
        )


@eval_app.command("gate")
def eval_gate(
    dataset: Annotated[
        Path | None, typer.Option(help="Your dataset (default: the seeds, as CI holds them).")
    ] = None,
) -> None:
    """Replay the dataset's cassettes and hold its baseline: exit 1 when the run falls short."""
    from evals.cassettes import StaleCassetteError
    from evals.gate import replay_gate
    from evals.report import print_table

    data = _dataset(dataset)
    if not data.baseline_path.is_file():
        typer.echo(
            f"error: no baseline at {data.baseline_path}; set one with "
            f"`uv run newsfacts eval --record{data.option} --set-baseline`",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging("ERROR")
    try:
        with _dataset_errors():
            result = asyncio.run(replay_gate(data, cli_settings()))
    except StaleCassetteError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    print_table(result.report)
    for failure in result.failures:
        typer.echo(f"gate failed: {failure}", err=True)
    if not result.passed:
        raise typer.Exit(1)
    b, s = result.baseline, result.report.summary
    typer.echo(
        f"gate passed: {data.name} micro-F1 {s.micro_f1:.4f} "
        f">= {b.micro_f1:.4f} - {b.tolerance}, field F1 "
        f"{s.field_f1 or 0:.4f} >= {b.field_f1:.4f} - {b.tolerance} "
        f"({b.prompt}, {b.model})"
    )


@eval_app.command("html")
def eval_html(
    report: Annotated[Path, typer.Argument(help="A run's JSON report (evals/runs/*.json).")],
    dataset: DatasetOption = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the page.")] = None,
) -> None:
    """Build a run's HTML page from its JSON report: each article with the predicted spans
    highlighted, matched, missed and spurious facts side by side."""
    from evals.gold import joined_case
    from evals.report import write_html
    from evals.run_report import RunReport

    try:
        loaded = RunReport.load(report)
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        fail(f"{report} is not a report: {exc}", 2)
    cases = _cases(_dataset(dataset))
    texts = {case.article_id: case.text for case in [*cases, joined_case(cases)]}
    missing = sorted({c.article_id for c in loaded.cases} - set(texts))
    if missing:
        fail(f"the dataset has no article {', '.join(missing)}; name it with --dataset", 2)
    typer.echo(f"page: {write_html(loaded, texts, out or report.with_suffix('.html'))}")


@eval_app.command("history")
def eval_history(
    runs: Annotated[Path | None, typer.Option(help="Folder of run reports.")] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="The dataset whose recorded runs to list.")
    ] = None,
    html: Annotated[
        bool, typer.Option(help="Also write the list as index.html in the runs folder.")
    ] = False,
) -> None:
    """Every recorded run (of the seeds unless --dataset), newest first: prompt, scores, cost."""
    from rich.console import Console
    from rich.table import Table

    from evals.history import history

    folder = runs or _dataset(dataset).runs_dir
    rows, skipped = history(folder)
    table = Table(title=f"eval runs in {folder}")
    for column in ("created", "prompt", "strategy", "model", "dataset", "policy", "mode",
                   "micro-F1", "field F1", "macro-F1", "tokens", "LLM s"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        field_f1 = "—" if r.field_f1 is None else f"{r.field_f1:.3f}"
        table.add_row(r.created[:16].replace("T", " "), r.prompt, r.strategy, r.model, r.dataset,
                      r.policy, r.mode, f"{r.micro_f1:.3f}", field_f1, f"{r.macro_f1:.3f}",
                      f"{r.tokens:,}",
                      f"{r.llm_s:.1f}")  # fmt: skip
    Console(width=200).print(table)
    for name in skipped:
        typer.echo(f"skipped {name}: not an eval run report", err=True)
    if html:
        from evals.history import write_index

        typer.echo(f"run index: {write_index(folder)}")


@eval_app.command("compare")
def eval_compare(
    a: Annotated[
        str,
        typer.Argument(
            help="Run A: a report .json, a prompt name@version, or a strategy (nlp, llm, "
            "hybrid: its recorded run with the default prompt, policy and model)."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Run B: as A.")],
    dataset: Annotated[
        Path | None,
        typer.Option(help="The dataset whose recorded runs a prompt or strategy name means."),
    ] = None,
) -> None:
    """Show two runs side by side: per list, per fact gained and lost, and the cost of each."""
    from evals.compare import DifferentDatasetsError, compare_reports, print_comparison
    from evals.report import load_report, strategy_run

    settings = cli_settings()
    data = _dataset(dataset)
    refs = [strategy_run(x, settings, data) if x in STRATEGIES else x for x in (a, b)]
    try:
        reports = load_report(refs[0], data), load_report(refs[1], data)
    except FileNotFoundError as exc:
        typer.echo(f"error: no such report: {exc.filename}", err=True)
        raise typer.Exit(1) from None
    try:
        print_comparison(compare_reports(*reports))
    except DifferentDatasetsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@eval_app.command("gva")
def eval_gva(
    gva: Annotated[
        Path | None,
        typer.Option(help="The GVA folder (incidents.jsonl, articles/); default ../shared/gva."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Incidents to draw (one report each).")] = 120,
    seed: Annotated[int, typer.Option(help="The draw's seed: same seed, same reports.")] = 0,
    strategy: StrategyOption = None,
    out: Annotated[
        Path | None, typer.Option(help="The JSON to write (default evals/reports/gva.json).")
    ] = None,
) -> None:
    """Score casualty figures against the Gun Violence Archive: one report per incident,
    live through the pipeline; prints the killed, injured and over-count rates."""
    from evals import gva as archive

    root = gva or archive.GVA_DIR
    try:
        picked = archive.pick_reports(archive.load_incidents(root), root, limit, seed)
    except archive.GvaError as exc:
        _refuse(str(exc))
    settings = _eval_settings(None, strategy)
    path = out or archive.GVA_REPORT
    with steps(f"gva {settings.strategy}", len(picked)) as step:
        rows = asyncio.run(archive.run_gva(picked, settings, lambda row: step(row.doc)))
    meta = {"strategy": settings.strategy, "model": settings.llm_model, "seed": seed,
            "limit": limit}  # fmt: skip
    result = archive.write_results(rows, path, meta)
    for question in ("killed", "injured", "over_count", "located"):
        r = result[question]
        typer.echo(f"{question}: {r['hits']}/{r['asked']} = {r['rate']}")
    typer.echo(f"failed {result['failed']} · {result['seconds_per_report']} s per report · {path}")


@eval_app.command("incidents")
def eval_incidents(
    dataset: Annotated[
        Path, typer.Option(help="An incident dataset (a folder with incidents.yaml).")
    ] = Path("evals/datasets/gva_incidents"),
    record: Annotated[bool, typer.Option(help="Call the model and record cassettes.")] = False,
    live: Annotated[bool, typer.Option(help="Call the model, record nothing.")] = False,
    set_baseline: Annotated[
        bool, typer.Option(help="Make this run's scores the dataset's gate.")
    ] = False,
    gva: Annotated[Path | None, typer.Option(help="The GVA folder; default ../shared/gva.")] = None,
    out: Annotated[Path | None, typer.Option(help="The JSON report to write.")] = None,
) -> None:
    """Score incidents: grouping (B3, MUC, CEAF-e, CoNLL), killed and injured per incident,
    conflicts, running totals, beside the same-place-same-day baseline; replays cassettes
    unless --record or --live; fails when a gated figure falls below the baseline."""
    from evals import gva as archive
    from evals.incident_eval import (
        fallen,
        print_incident_report,
        run_incident_eval,
        write_baseline,
    )
    from evals.incident_sets import IncidentSetError
    from evals.runner import Mode

    mode = Mode.RECORD if record else Mode.LIVE if live else Mode.REPLAY
    settings = _eval_settings(None, None)
    try:
        with steps(f"incidents {mode}", None) as step:
            report = asyncio.run(run_incident_eval(
                dataset, settings, mode, gva or archive.GVA_DIR, lambda e: step(e.article.id or "")
            ))  # fmt: skip
    except IncidentSetError as exc:
        _refuse(str(exc))
    path = out or Path("evals/reports") / f"incidents_{report.dataset}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=1) + "\n", encoding="utf-8")
    print_incident_report(report)
    typer.echo(f"report: {path}")
    if set_baseline:
        typer.echo(f"baseline: {write_baseline(report, dataset)}")
    problems = report.failed + ([] if set_baseline else fallen(report, dataset))
    for problem in problems:
        typer.echo(f"FAIL {problem}", err=True)
    if problems:
        raise typer.Exit(1)
