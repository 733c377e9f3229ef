"""`limits:` in a scenario file: connections, request heads (schema.json checks each value's shape)."""

from __future__ import annotations

from typing import Any

from mockmx.limits import Limits
from mockmx.scenario.document import Document
from mockmx.scenario.durations import duration
from mockmx.scenario.media import size


def limits_spec(document: Document, data: dict[str, Any]) -> Limits:
    """The top-level `limits`, over the defaults."""
    limits = document.get((), data, "limits")
    if limits is None:
        return Limits()
    path = ("limits",)
    return Limits().override(
        max_connections=document.get(path, limits, "max_connections"),
        request_timeout=duration(document, path, limits, "request_timeout"),
        keep_alive_timeout=duration(document, path, limits, "keep_alive_timeout"),
        max_header_bytes=size(document.get(path, limits, "max_header_bytes")),
    )
