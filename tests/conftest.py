"""Shared fixtures: a fake OpenAI-compatible LLM and the real app, both over real HTTP."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pytest

from evals.bench.fake_llm import FakeLLM, labels
from evals.bench.servers import serve_in_thread
from service.api.app import create_app
from service.settings import Settings

if TYPE_CHECKING:
    from evals.gate import GateResult

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_004 = (SEEDS / "004_8b1c8c72e30bd7ca.txt").read_text(encoding="utf-8")

# A small, schema-valid answer for seed 004, as a model would give it.
FACTS_004: dict[str, Any] = {
    "people": [
        {
            "name": "Mykhailo Podolyak",
            "role": "presidential adviser",
            "affiliation": "Ukraine",
            "evidence": "Ukrainian presidential adviser Mykhailo Podolyak",
        }
    ],
    "negotiations": [
        {
            "parties": ["Ukraine", "Russia"],
            "round": 2,
            "outcome": "partial_agreement",
            "agreements": ["humanitarian corridors"],
            "evidence": "Both nations have agreed to set up humanitarian corridors",
        }
    ],
    "casualties": [
        {
            "count": 2000,
            "outcome": "killed",
            "population": "civilians",
            "reported_by": "Ukrainian officials",
            "evidence": "2,000 civilians have been killed in the war so far",
        }
    ],
    "quotes": [
        {
            "speaker": "Podolyak",
            "text": "To our great regret, we did not get the results we were counting on,",
            # Straight quote where the article has a curly one: grounds as 'normalized'.
            "evidence": '"To our great regret, we did not get the results we were counting on,"',
        }
    ],
}

HYBRID_ANSWERS = labels()

# Evals replayed during the run (the CI gate), their reports printed in the terminal summary.
EVAL_REPORTS: list[GateResult] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what did not run and why, and the replayed eval's scores (from the CI gate
    test), at the end of the run."""
    from rich.console import Console

    from evals.report import print_table

    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.section("did not run", yellow=True)
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            terminalreporter.write_line(f"{report.nodeid}: {reason}")

    for result in EVAL_REPORTS:
        terminalreporter.section("eval replayed from cassettes")
        console = Console(file=terminalreporter._tw, width=110, force_terminal=False)
        print_table(result.report, console)
        terminalreporter.write_line(f"replay wall time {result.replay_wall_s} s")


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll predicate() until true, failing the test after timeout seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: ours without NEWSFACTS_*, plus `extra`."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACTS_")}
    return env | extra


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: nothing read from a .env file, fast retries, and the llm
    strategy with one model call at a time (so a fake's scripted answers map to requests
    one to one, in order) unless a test names others."""
    values: dict[str, Any] = {
        # each app its own store, never a file in the checkout
        "db_url": f"sqlite:///{tempfile.mkdtemp(prefix='newsfacts-store-')}/store.db",
        "llm_retry_backoff_s": 0.0,
        "llm_timeout_s": 5.0,
        "strategy": "llm",
        "article_llm_calls": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEWSFACTS_* variable from the developer's shell leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWSFACTS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A fake OpenAI-compatible server on 127.0.0.1; its URL is `fake_llm.url`."""
    fake = FakeLLM()
    with serve_in_thread(fake.app) as url:
        fake.url = f"{url}/v1"  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def start_service(fake_llm: FakeLLM) -> Iterator[Callable[..., httpx2.Client]]:
    """Start the real app against the fake LLM; call it with settings overrides."""
    stack: list[Any] = []

    def start(**overrides: Any) -> httpx2.Client:
        values = {"llm_base_url": fake_llm.url, "llm_api_key": "sk-test-not-a-real-key-0000"}  # type: ignore[attr-defined]
        settings = make_settings(**{**values, **overrides})
        ctx = serve_in_thread(create_app(settings), settings=settings)
        url = ctx.__enter__()
        stack.append(ctx)
        client = httpx2.Client(base_url=url, timeout=30)
        stack.append(client)
        return client

    yield start
    for item in reversed(stack):
        if isinstance(item, httpx2.Client):
            item.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture(scope="session")
def nginx_path() -> str:
    """The nginx executable; without one the test does not run, and says so in the summary
    (under CI, where .ci/run installs it, a missing nginx fails instead)."""
    import os

    from evals.bench.balancer import NoNginx, nginx_binary

    try:
        return nginx_binary()
    except NoNginx as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; under CI a missing nginx fails")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session; without one the test does not run, and
    says so in the summary (under CI, where .ci/run installs it, it fails instead)."""
    import os

    from tests.databases import NoPostgres, postgres_server

    try:
        server = postgres_server()
        url = server.__enter__()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; under CI a missing PostgreSQL fails")
        pytest.skip(str(exc))
    yield url
    server.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, real database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    import uuid

    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    name = f"t{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def nlp() -> Any:
    """The default spaCy pipeline, loaded once for the session."""
    from service.candidates.nlp import load_pipeline

    return load_pipeline(Settings(_env_file=None).spacy_model)  # type: ignore[call-arg]


def read_article(nlp: Any, text: str, *steps: Any) -> Any:
    """The text parsed, then run through the given finder functions (the components' own
    order is checked in test_pipes)."""
    from service.candidates.nlp import parse

    article = parse(text, nlp)
    for step in steps:
        step(article)
    return article
