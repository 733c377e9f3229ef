"""`schema.json` checks the shape of a scenario; its verdicts become problems in the file's own words."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mockmx.jsonpath import JsonPath
from mockmx.scenario.document import Document

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
# Errors about a mapping's keys say nothing about its values, which later checks may still trust.
_KEY_VALIDATORS = frozenset({"additionalProperties", "required", "dependentRequired"})


if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError


def check_schema(document: Document, data: dict[str, Any], definition: str | None = None) -> None:
    """Report every schema violation not already reported, and mark the values it makes untrustworthy.

    With `definition` (a name under `$defs`, such as "scriptedEvent"), `data` is checked as one of those alone."""
    # jsonschema_rs says at once whether the scenario is valid (it loads in a third of jsonschema's time, which
    # `mockmx serve` and `check` pay at start-up); jsonschema's errors, which are worded here, only when not.
    if _quick_validator(definition).is_valid(data):
        return
    reported = frozenset(document.invalid)
    for error in _validator(definition).iter_errors(data):
        path = tuple(error.absolute_path)
        if any(path[:end] in reported for end in range(len(path) + 1)):
            continue
        _report(document, error, path)
        if error.validator not in _KEY_VALIDATORS:
            document.invalid.add(path)


@functools.cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (resources.files("mockmx") / "scenario" / "schema.json").read_text(encoding="utf-8")
    )
    return schema


def _schema_of(definition: str | None) -> dict[str, Any]:
    schema = _schema()
    if definition is None:
        return schema
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}


@functools.cache
def _quick_validator(definition: str | None = None) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(_schema_of(definition))


@functools.cache
def _validator(definition: str | None = None) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema_of(definition))


def _report(document: Document, error: ValidationError, path: JsonPath) -> None:
    kind, expected, schema, value = error.validator, error.validator_value, error.schema, error.instance
    report = document.report
    if kind == "additionalProperties":
        known = ", ".join(schema.get("properties", {}))
        for key in value:
            if key not in schema.get("properties", {}):
                report(path, f"unknown key {key!r} (expected one of: {known})", key=key)
    elif kind == "required":
        for key in expected:
            if key not in value:
                report(path, f"missing required key {key!r}")
    elif kind == "dependentRequired":
        for key, needed in expected.items():
            for other in needed:
                if key in value and other not in value:
                    report(path, f"{key!r} only goes with {other!r}", key=key)
    elif kind == "enum":
        report(path, f"expected one of {', '.join(map(repr, expected))}, got {_show(value)}")
    elif kind == "const":
        report(path, f"expected {_show(expected)}, got {_show(value)}")
    elif kind in ("type", "pattern"):
        hint = ""
        if schema.get("type") == "string" and isinstance(value, bool | int | float):
            hint = " (quote it to make it a string)"
        report(path, f"expected {_expected(schema)}, got {_show(value)}{hint}")
    elif kind in ("minimum", "maximum", "exclusiveMinimum"):
        report(path, f"expected {_expected_number(schema)}, got {_show(value)}")
    elif kind == "minItems":
        report(path, f"expected at least {expected} item{'s' * (expected != 1)}, got {len(value)}")
    elif kind == "minProperties":
        report(path, f"expected at least {expected} entr{'ies' if expected != 1 else 'y'}, got {len(value)}")
    elif kind == "minLength":
        report(path, f"expected a non-empty string, got {_show(value)}")
    elif kind == "maxLength":
        report(path, f"expected at most {expected} characters, got {len(value)}")
    else:  # a keyword added to schema.json without a translation here: jsonschema's own words
        report(path, error.message)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _expected(schema: dict[str, Any]) -> str:
    if "title" in schema:
        return str(schema["title"])
    if "pattern" in schema:
        return f"a string matching {schema['pattern']}"
    types = schema.get("type", [])
    return " or ".join(_TYPE_WORDS[name] for name in ([types] if isinstance(types, str) else types))


def _expected_number(schema: dict[str, Any]) -> str:
    if "title" in schema:
        return str(schema["title"])
    word = _TYPE_WORDS.get(str(schema.get("type")), "a number")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{word} from {low} to {high}"
    if "exclusiveMinimum" in schema:
        return f"{word} greater than {schema['exclusiveMinimum']}"
    return f"{word} >= {low}" if low is not None else f"{word} <= {high}"
