"""A mitmproxy flow as a recording entry: plain data, before redaction and links."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import http

# The headers replay and readers need; the rest (dates, lengths, connection handling) is noise in a diff.
KEPT_HEADERS = ("content-type", "authorization", "cookie", "set-cookie", "retry-after", "location", "user-agent")


def capture(flow: http.HTTPFlow, *, flow_id: int, leg: str, started: float) -> dict[str, Any]:
    """The entry for `flow`, timed from `started` (a Unix time); `error` when it has no complete response."""
    request = flow.request
    entry: dict[str, Any] = {"id": flow_id, "leg": leg, "at": _seconds(request.timestamp_start - started)}
    response = flow.response
    if response is not None and response.timestamp_end is not None:
        entry["took"] = _seconds(response.timestamp_end - request.timestamp_start)
    entry["request"] = {
        "method": request.method,
        "path": urlsplit(request.path).path or "/",
        **({"query": query} if (query := _multimap(request.query.fields)) else {}),
        "headers": headers(request.headers),
        **body(request),
    }
    if response is not None:
        entry["response"] = {"status": response.status_code, "headers": headers(response.headers), **body(response)}
    if flow.error is not None:
        entry["error"] = flow.error.msg
    elif response is None:
        entry["error"] = "no response"
    return entry


def headers(fields: http.Headers) -> dict[str, str | list[str]]:
    """The kept headers, names in lower case, in `KEPT_HEADERS` order; a list when a header is repeated."""
    return _multimap((name, value) for name in KEPT_HEADERS for value in fields.get_all(name))


def body(message: http.Message) -> dict[str, Any]:
    """`{"body": json}`, `{"text": str}`, `{"base64": str}`, or `{}` for no body."""
    content = message.get_content(strict=False) or b""
    if not content:
        return {}
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(content).decode("ascii")}
    # Homeservers read a body as JSON whatever its content type says (curl -d sends form-urlencoded), so a body
    # that parses as a JSON object or list is JSON here too: its passwords get redacted like any other.
    json_type = "json" in message.headers.get("content-type", "").lower()
    if json_type or text.lstrip()[:1] in ("{", "["):
        try:
            return {"body": json.loads(text, parse_constant=_reject)}
        except ValueError:
            pass
    return {"text": text}


def _reject(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _multimap(pairs: Any) -> dict[str, str | list[str]]:
    result: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name not in result:
            result[name] = value
        else:
            previous = result[name]
            result[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return result


def _seconds(delta: float) -> float:
    return round(max(delta, 0.0), 3)
