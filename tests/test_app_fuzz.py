"""Schema-driven fuzz of the OpenAPI spec (schemathesis) against the real app over HTTP,
with the fake LLM behind it: no status the spec does not document, every response matching
its schema. Bounded: a fixed number of generated requests per operation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from evals.bench.fake_llm import FakeLLM, tool_call
from evals.bench.servers import serve_in_thread
from service.api.app import create_app
from tests.conftest import FACTS_004, HYBRID_ANSWERS, make_settings

EXAMPLES_PER_OPERATION = 300


def _settings(llm_url: str, strategy: str = "llm") -> Any:
    return make_settings(llm_base_url=llm_url, max_text_chars=20_000, strategy=strategy)


# A schema-violating text over the limit is refused with 413 text_too_long (the contract's
# status for it) rather than 422; every other negative case must be a 4xx we document.
# GET /incidents and /series take free-text filters and an opaque cursor: a schema-valid
# country no gazetteer knows, or a cursor this service never gave, is a documented 422.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": [401, 413, 415, 422]}},
        "operations": [
            {
                "include-path-regex": "^/(incidents|series)$",
                "checks": {"positive_data_acceptance": {"expected-statuses": [200, 422]}},
            }
        ],
    }
)


# The spec as each app publishes it at /openapi.json (building it needs no backend): it
# depends on the default strategy, whose options a request without one gets.
def _schema(strategy: str) -> Any:
    spec = create_app(_settings("http://127.0.0.1:9/v1", strategy)).openapi()
    return schemathesis.openapi.from_dict(spec, config=CONFIG)


llm_schema, hybrid_schema = _schema("llm"), _schema("hybrid")


@contextmanager
def _service(strategy: str) -> Iterator[str]:
    """The real app on 127.0.0.1 with `strategy` as its default, answered by a fake LLM
    that returns seed 004's facts, and a label for every hybrid task."""
    fake = FakeLLM(default=tool_call(FACTS_004), by_tool=HYBRID_ANSWERS, keep=False)
    with (
        serve_in_thread(fake.app) as llm_url,
        serve_in_thread(create_app(_settings(f"{llm_url}/v1", strategy))) as url,
    ):
        yield url


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    with _service("llm") as url:
        yield url


@pytest.fixture(scope="module")
def hybrid_url() -> Iterator[str]:
    with _service("hybrid") as url:
        yield url


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases every run: a CI failure reproduces locally
)


@llm_schema.parametrize()
@FUZZ
def test_the_llm_default_service_answers_as_its_spec_says(case: Any, llm_url: str) -> None:
    case.call_and_validate(base_url=llm_url)


@hybrid_schema.parametrize()
@FUZZ
def test_the_hybrid_default_service_answers_as_its_spec_says(case: Any, hybrid_url: str) -> None:
    case.call_and_validate(base_url=hybrid_url)
