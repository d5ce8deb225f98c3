"""The news_facts v1 schema: every field described, enums closed, unknown keys refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas import facts
from schemas.api import ExtractRequest
from tests.conftest import FACTS_004

FACT_MODELS: list[type[BaseModel]] = [
    facts.Person, facts.Organization, facts.Location, facts.Negotiation, facts.Casualties,
    facts.Displacement, facts.Attack, facts.Figure, facts.Quote, facts.NewsFacts,
]  # fmt: skip


@pytest.mark.parametrize("model", FACT_MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description(model: type[BaseModel]) -> None:
    missing = [name for name, f in model.model_fields.items() if not f.description]
    assert missing == []
    if model is not facts.NewsFacts:
        assert "evidence" in model.model_fields


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (facts.Casualties, {"count": 5, "outcome": "vaporised", "evidence": "e"}),
        (facts.Displacement, {"count": 5, "movement": "teleported", "evidence": "e"}),
        (facts.Attack, {"target": "x", "target_type": "spaceport", "evidence": "e"}),
        (facts.Organization, {"name": "x", "kind": "cult", "evidence": "e"}),
        (facts.Negotiation, {"format": "telepathy", "evidence": "e"}),
        (facts.Casualties, {"count": 5, "outcome": "killed"}),  # no evidence
        (facts.Person, {"name": "x", "evidence": "e", "age": 40}),  # unknown key
        (facts.Casualties, {"count": "dozens", "outcome": "killed", "evidence": "e"}),
    ],
)
def test_invalid_facts_are_rejected(model: type[BaseModel], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_unknown_values_default_to_null_or_empty() -> None:
    fact = facts.Casualties.model_validate({"count": 3, "outcome": "injured", "evidence": "e"})
    assert fact.population is None and fact.count_max is None and fact.approximate is False
    assert facts.NewsFacts().people == []


def test_sample_answer_validates_and_round_trips() -> None:
    parsed = facts.NewsFacts.model_validate(FACTS_004)
    assert facts.NewsFacts.model_validate_json(parsed.model_dump_json()) == parsed
    assert facts.FACT_LISTS[0] == "people" and len(facts.FACT_LISTS) == 9


@pytest.mark.parametrize("text", ["", " ", "\n\t"])
def test_request_refuses_blank_text(text: str) -> None:
    with pytest.raises(ValidationError):
        ExtractRequest(text=text)


def test_llama_cpp_grammar_keeps_every_enum_value() -> None:
    """The tool schema constrains llama.cpp's output: a lost enum lets the model invent values."""
    from llama_cpp.llama_grammar import SchemaConverter

    schema = facts.NewsFacts.model_json_schema()
    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    converter.visit(converter.resolve_refs(schema, ""), "")
    grammar = converter.format_grammar()
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines() if " ::= " in line)
    for model, field in [("Casualties", "population"), ("Casualties", "outcome"),
                         ("Attack", "target-type"), ("Organization", "kind"),
                         ("Negotiation", "outcome"), ("Displacement", "movement")]:  # fmt: skip
        rule = rules[f"{model}-{field}"]
        assert "string" not in rule, f"{model}.{field} is a free string: {rule}"
        assert '\\"' in rule


def test_compact_schema_is_smaller_than_pydantics() -> None:
    import json

    default = json.dumps(BaseModel.model_json_schema.__func__(facts.NewsFacts))  # type: ignore[attr-defined]
    assert len(json.dumps(facts.NewsFacts.model_json_schema())) < 0.8 * len(default)
