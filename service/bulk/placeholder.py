"""The smallest JSON value a JSON Schema accepts: a stand-in answer for a call whose real
answer a batch has not delivered yet, so the pipeline goes on and asks its other calls."""

from __future__ import annotations

from typing import Any


def minimal_instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A value `schema` validates: required properties only, first enum value or union
    member (null first), empty strings and lists, numbers at their minimum."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        return minimal_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            null = next((o for o in options if o.get("type") == "null"), None)
            return minimal_instance(null or options[0], defs)
    if "allOf" in schema:
        return minimal_instance(schema["allOf"][0], defs)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = "null" if "null" in kind else kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: minimal_instance(properties[name], defs) for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal_instance(schema.get("items", {}), defs)] * schema.get("minItems", 0)
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if kind == "boolean":
        return False
    return None
