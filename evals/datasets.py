"""Datasets: the articles and gold an eval runs on, and where its artefacts live.

The seeds are the built-in dataset. Your own is a folder of `<id>.txt` articles with
`<id>.yaml` gold beside them, or a JSONL file of `{"id", "text", "gold"}` lines. Each
dataset keeps its own cassettes, run reports and baseline (a folder's inside it, a JSONL
file's in the folder of its name beside it), so two datasets never mix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from evals.gold import GOLD_DIR, ROOT, SEEDS_DIR, GoldCase, load_case, parse_gold
from evals.gold_check import row_problem
from evals.gold_files import GoldFileError, id_problem, jsonl_document
from service.jsonl import json_lines

SEEDS_NAME = "seeds"
DATASETS_DIR = ROOT / "evals" / "datasets"  # committed datasets beside the seeds, CI-gated


class DatasetError(Exception):
    """A dataset that cannot be read: the message names the file and what to do."""


@dataclass(frozen=True)
class Dataset:
    """A named set of gold cases and the folders its cassettes, runs and baseline go in."""

    name: str
    source: Path | None  # the folder or JSONL file; None for the built-in seeds
    cassettes_dir: Path
    runs_dir: Path  # recorded runs: the prompt-iteration path, worth committing
    reports_dir: Path  # live runs and replays
    baseline_path: Path

    @property
    def is_seeds(self) -> bool:
        """Whether this is the built-in dataset."""
        return self.source is None

    @property
    def option(self) -> str:
        """The `--dataset` option that names it on the command line ("" for the seeds)."""
        return "" if self.source is None else f" --dataset {shown(self.source)}"

    def cases(self) -> list[GoldCase]:
        """Every gold case, sorted by article id; DatasetError names a file that fails."""
        if self.source is None:
            if not SEEDS_DIR.is_dir():
                raise DatasetError(
                    f"the seeds are not here ({SEEDS_DIR} is missing): run the harness inside "
                    "a newsfacts checkout, or name your own dataset with --dataset"
                )
            return _folder_cases(GOLD_DIR, SEEDS_DIR)
        if self.source.suffix == ".jsonl":
            return sorted(_jsonl_cases(self.source), key=lambda c: c.article_id)
        return _folder_cases(self.source, self.source)


SEEDS = Dataset(
    name=SEEDS_NAME,
    source=None,
    cassettes_dir=ROOT / "tests" / "cassettes",
    runs_dir=ROOT / "evals" / "runs",
    reports_dir=ROOT / "evals" / "reports",
    baseline_path=ROOT / "evals" / "baseline.json",
)


def shown(path: Path) -> str:
    """A path as a message should show it: relative to the repository when inside it."""
    inside = path.is_absolute() and path.is_relative_to(ROOT)
    return str(path.relative_to(ROOT)) if inside else str(path)


def _at(home: Path, name: str, source: Path) -> Dataset:
    return Dataset(
        name=name,
        source=source,
        cassettes_dir=home / "cassettes",
        runs_dir=home / "runs",
        reports_dir=home / "reports",
        baseline_path=home / "baseline.json",
    )


def load_dataset(path: Path | None) -> Dataset:
    """The dataset at `path` (a folder or a .jsonl file), or the seeds when None."""
    if path is None:
        return SEEDS
    if path.is_dir():
        return _at(path, path.resolve().name, path)
    if path.suffix == ".jsonl" and path.is_file():
        why = id_problem(path.stem)
        if why is not None:  # the stem names the folder its cassettes and runs go in
            raise DatasetError(f"{path}: its name {why}; rename the file")
        home = path.with_suffix("")
        if any(home.glob("*.yaml")):
            raise DatasetError(
                f"{home} holds gold YAML files, and is where {path.name}'s cassettes and "
                "runs would go: rename one of the two"
            )
        return _at(home, path.stem, path)
    raise DatasetError(
        f"no such dataset: {path} (give a folder of <id>.txt articles with <id>.yaml gold, "
        'or a .jsonl file of {"id", "text", "gold"} lines)'
    )


def gated_datasets(root: Path = DATASETS_DIR) -> list[Dataset]:
    """The seeds and every dataset under evals/datasets/ that holds a baseline: the CI gate
    replays each one against its own baseline."""
    paths = sorted(root.iterdir()) if root.is_dir() else []
    homes = {p.with_suffix("") for p in paths if p.suffix == ".jsonl"}  # a JSONL's own folder
    found = [
        load_dataset(p) for p in paths if p.suffix == ".jsonl" or (p.is_dir() and p not in homes)
    ]
    return [SEEDS, *(d for d in found if d.baseline_path.is_file())]


def _folder_cases(gold_dir: Path, articles_dir: Path) -> list[GoldCase]:
    cases = []
    for path in sorted(gold_dir.glob("*.yaml")):
        with _named(path):
            cases.append(load_case(path, articles_dir))
    return cases


def _jsonl_cases(path: Path) -> Iterator[GoldCase]:
    with _named(path):
        lines = path.read_text(encoding="utf-8").splitlines()
    seen: set[str] = set()
    for number, row, error in json_lines(lines):
        where = f"{path}:{number}"
        if error is not None:
            raise DatasetError(f"{where}: not JSON: {error}")
        shape = row_problem(row)
        if shape is not None:
            raise DatasetError(f"{where}: {shape}")
        data = jsonl_document(row)
        why = id_problem(data["article_id"])
        if why is not None:
            raise DatasetError(f"{where}: id {why}")
        if data["article_id"] in seen:
            raise DatasetError(f"{where}: id {data['article_id']!r} given twice")
        seen.add(data["article_id"])
        with _named(where):
            case = parse_gold(data, row["text"])
        yield case


@contextlib.contextmanager
def _named(where: Path | str) -> Iterator[None]:
    """Any failure to read or parse a case becomes a DatasetError naming its file."""
    try:
        yield
    except FileNotFoundError as exc:
        raise DatasetError(f"{where}: file missing: {exc.filename}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{where}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    except GoldFileError as exc:
        raise DatasetError(f"{exc}; `newsfacts gold check` names every problem") from None
    except yaml.YAMLError as exc:
        raise DatasetError(f"{where}: YAML does not parse: {exc}") from None
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(
            f"{where}: not a valid gold case ({first}); `newsfacts gold check` names every problem"
        ) from None
