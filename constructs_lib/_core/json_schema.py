"""JSON Schema (draft 4) dicts as API Gateway models: translation and the checks API Gateway needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigateway as apigateway

JSON_SCHEMA_DRAFT_4 = "http://json-schema.org/draft-04/schema#"

_JSON_SCHEMA_KEYS = {
    "$schema": "schema",
    "$ref": "ref",
    "additionalItems": "additional_items",
    "additionalProperties": "additional_properties",
    "allOf": "all_of",
    "anyOf": "any_of",
    "contains": "contains",
    "default": "default",
    "definitions": "definitions",
    "dependencies": "dependencies",
    "description": "description",
    "enum": "enum",
    "exclusiveMaximum": "exclusive_maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "format": "format",
    "id": "id",
    "items": "items",
    "maxItems": "max_items",
    "maxLength": "max_length",
    "maxProperties": "max_properties",
    "maximum": "maximum",
    "minItems": "min_items",
    "minLength": "min_length",
    "minProperties": "min_properties",
    "minimum": "minimum",
    "multipleOf": "multiple_of",
    "not": "not_",
    "oneOf": "one_of",
    "pattern": "pattern",
    "patternProperties": "pattern_properties",
    "properties": "properties",
    "propertyNames": "property_names",
    "required": "required",
    "title": "title",
    "type": "type",
    "uniqueItems": "unique_items",
}
_NESTED_SCHEMA_MAPS = {"properties", "definitions", "patternProperties"}
_NESTED_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
_NESTED_SCHEMA_ONE = {"not", "additionalItems", "contains", "propertyNames"}
_JSON_SCHEMA_TYPES = {t.name.lower(): t for t in apigateway.JsonSchemaType}


def to_json_schema_kwargs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a plain JSON Schema dict into ``apigateway.JsonSchema`` kwargs (recursively)."""
    kwargs: dict[str, Any] = {}
    for key, value in schema.items():
        name = _JSON_SCHEMA_KEYS[key]
        if key == "$schema":
            value = apigateway.JsonSchemaVersion.DRAFT4
        elif key == "type":
            value = (
                [_JSON_SCHEMA_TYPES[v] for v in value]
                if isinstance(value, list)
                else _JSON_SCHEMA_TYPES[value]
            )
        elif key in _NESTED_SCHEMA_MAPS:
            value = {k: json_schema(v) for k, v in value.items()}
        elif key in _NESTED_SCHEMA_LISTS:
            value = [json_schema(v) for v in value]
        elif key in _NESTED_SCHEMA_ONE or (
            key in {"items", "additionalProperties"} and isinstance(value, dict)
        ):
            value = json_schema(value)
        elif key == "items" and isinstance(value, list):
            value = [json_schema(v) for v in value]
        kwargs[name] = value
    return kwargs


def json_schema(schema: Mapping[str, Any]) -> apigateway.JsonSchema:
    return apigateway.JsonSchema(**to_json_schema_kwargs(schema))


def schema_problems(schema: Any, where: str) -> list[tuple[str, Any, str]]:
    """Keys and types that API Gateway's draft-4 models cannot express, found recursively."""
    if not isinstance(schema, Mapping):
        return [(where, schema, "must be a JSON Schema object (a dict)")]
    found: list[tuple[str, Any, str]] = []
    for key, value in schema.items():
        if key not in _JSON_SCHEMA_KEYS:
            found.append(
                (f"{where}[{key!r}]", value, "not a JSON Schema draft-4 keyword; remove or rename it")
            )
            continue
        if key == "type":
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in _JSON_SCHEMA_TYPES:
                    found.append(
                        (f"{where}['type']", value, f"must be one of {', '.join(sorted(_JSON_SCHEMA_TYPES))}")
                    )
        elif key == "$schema" and value != JSON_SCHEMA_DRAFT_4:
            found.append(
                (f"{where}['$schema']", value, f"API Gateway models use draft 4: {JSON_SCHEMA_DRAFT_4}")
            )
        elif key in _NESTED_SCHEMA_MAPS and isinstance(value, Mapping):
            for name, sub in value.items():
                found.extend(schema_problems(sub, f"{where}[{key!r}][{name!r}]"))
        elif key in _NESTED_SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                found.extend(schema_problems(sub, f"{where}[{key!r}][{i}]"))
        elif key in _NESTED_SCHEMA_ONE or (
            key in {"items", "additionalProperties"} and isinstance(value, dict)
        ):
            found.extend(schema_problems(value, f"{where}[{key!r}]"))
    return found
