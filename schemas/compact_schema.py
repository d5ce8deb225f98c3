"""A compact JSON Schema for the facts: the schema travels in every prompt, so tokens count.

Pydantic's default output repeats a title on every property and spells each optional value
as `anyOf: [{type: X}, {type: null}]` with `default: null`; this generator writes
`type: [X, "null"]`, drops the titles and null defaults, and keeps every description.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class CompactJsonSchema(GenerateJsonSchema):
    """JSON Schema without per-field titles and with short nullable types."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        """Never add a title to a field: the property name says it."""
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """`X | None` as `type: [X, "null"]`, or an enum that includes null, where X is simple."""
        inner = self.generate_inner(schema["schema"])
        if set(inner) <= {"type", "enum", "description"} and isinstance(inner.get("type"), str):
            if "enum" in inner:
                # An enum alone: grammar converters (llama.cpp) read a type list as a plain
                # union of types and would drop the enum's values.
                return {"enum": [*inner["enum"], None]}
            return {"type": [inner["type"], "null"]}
        return super().nullable_schema(schema)

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """Drop defaults of null, false and empty lists: absence already says it."""
        result = super().default_schema(schema)
        if result.get("default", "keep") in (None, False, []):
            result.pop("default")
        return result

    def generate(self, schema: Any, mode: Any = "validation") -> JsonSchemaValue:
        """The schema, with model titles kept only at the top and no additionalProperties."""
        result = super().generate(schema, mode)
        for definition in result.get("$defs", {}).values():
            definition.pop("title", None)
            # Unknown keys are refused on validation; the model need not be told.
            definition.pop("additionalProperties", None)
        result.pop("additionalProperties", None)
        return result
