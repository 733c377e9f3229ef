"""`limits:` in a scenario file: connections, request heads, and how much is kept in memory (schema.json checks each
value's shape)."""

from __future__ import annotations

from typing import Any

from mockmx.limits import Limits
from mockmx.scenario.document import Document
from mockmx.scenario.durations import duration
from mockmx.scenario.media import size

# The memory limits: counts, each a positive integer.
RETENTION_KEYS = (
    "max_room_events",
    "max_transactions",
    "max_to_device_per_device",
    "max_gateway_notifications",
    "max_notifications_per_user",
    "max_failed_pushes",
)


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
        **{key: document.get(path, limits, key) for key in RETENTION_KEYS},
    )
