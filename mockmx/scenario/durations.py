"""Durations in scenario files: seconds as a number, or text like `500ms`, `2s`, `1.5m`, `1h`."""

from __future__ import annotations

import re
from typing import Any

from mockmx.jsonpath import JsonPath
from mockmx.scenario.document import Document

# The same shape as the `duration` pattern in schema.json, which has already checked the text.
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(document: Document, path: JsonPath, mapping: dict[str, Any], key: str) -> float | None:
    """The duration under `key` in seconds, or None when it is missing or already reported as wrong."""
    value = document.get(path, mapping, key)
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    match = _DURATION.fullmatch(value)
    return None if match is None else float(match[1]) * _UNIT_SECONDS[match[2]]


def show_seconds(seconds: float) -> str:
    """A duration as a scenario file would say it: `1h`, `2m`, `90s`, `1.5s`, `250ms`."""
    for unit in ("h", "m"):
        count = seconds / _UNIT_SECONDS[unit]
        if count >= 1 and count.is_integer():
            return f"{count:.0f}{unit}"
    # 15 significant digits: `9ms` is 0.009 seconds, which shows as 9.000000000000002ms in full.
    return f"{seconds:.15g}s" if seconds >= 1 else f"{seconds * 1000:.15g}ms"
