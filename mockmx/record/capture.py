"""A mitmproxy flow as a recording entry: plain data, before redaction and links."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import http

from mockmx.record.entry import MultiMap, body_fields, kept_headers, multimap, seconds, wire_text
from mockmx.record.model import Leg


def capture(flow: http.HTTPFlow, *, flow_id: int, leg: Leg, started: float) -> dict[str, Any]:
    """The entry for `flow`, timed from `started` (a Unix time); `error` when it has no complete response."""
    request = flow.request
    entry: dict[str, Any] = {"id": flow_id, "leg": leg.value, "at": seconds(request.timestamp_start - started)}
    response = flow.response
    if response is not None and response.timestamp_end is not None:
        entry["took"] = seconds(response.timestamp_end - request.timestamp_start)
    entry["request"] = {
        "method": request.method,
        "path": wire_text(urlsplit(request.path).path) or "/",
        **({"query": query} if (query := multimap(_texts(request.query.fields))) else {}),
        "headers": headers(request.headers),
        **body(request),
    }
    if response is not None:
        entry["response"] = {
            "status": response.status_code,
            "headers": headers(response.headers),
            **body(response),
        }
    if flow.error is not None:
        entry["error"] = flow.error.msg
    elif response is None:
        entry["error"] = "no response"
    return entry


def headers(fields: http.Headers) -> MultiMap:
    """The kept headers (see mockmx/record/entry.py)."""
    return kept_headers((_text(name), _text(value)) for name, value in fields.fields)


def body(message: http.Message) -> dict[str, Any]:
    """`{"body": json}`, `{"text": str}`, `{"base64": str}`, or `{}` for no body (decoded as it was encoded)."""
    return body_fields(message.get_content(strict=False) or b"", message.headers.get("content-type"))


def _text(raw: bytes) -> str:
    return wire_text(raw.decode("utf-8", "surrogateescape"))  # decoded as mitmproxy's Headers decode them


def _texts(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    return ((wire_text(name), wire_text(value)) for name, value in pairs)
