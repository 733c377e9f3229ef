"""A flow's recording entry from plain data: the kept headers and the body as JSON, text or base64.

Shared by the recorder (mitmproxy flows, capture.py) and by replay's record mode `new` (requests it passes on to
the homeserver), and by replay to read a live body as the recorder would have recorded it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

from mockmx.errors import MatrixError
from mockmx.web import json_gate

# The headers replay and readers need; the rest (dates, lengths, connection handling) is noise in a diff.
KEPT_HEADERS = ("content-type", "authorization", "cookie", "set-cookie", "retry-after", "location", "user-agent")

MultiMap = dict[str, str | list[str]]

# JSON nested deeper is kept as text: redacting, linking and writing it as YAML all walk it by recursion, and 900
# levels (a hostile body that parses) would stop the recorder. No server answers with a tenth of this.
MAX_DEPTH = 100
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def kept_headers(pairs: Iterable[tuple[str, str]]) -> MultiMap:
    """The kept headers among `pairs`, names in lower case, in `KEPT_HEADERS` order; a list when repeated."""
    by_name: dict[str, list[str]] = {}
    for name, value in pairs:
        name = name.lower()
        if name in KEPT_HEADERS:
            by_name.setdefault(name, []).append(value)
    return multimap((name, value) for name in KEPT_HEADERS for value in by_name.get(name, ()))


def body_fields(content: bytes, content_type: str | None) -> dict[str, Any]:
    """`{"body": json}`, `{"text": str}`, `{"base64": str}`, or `{}` for no body."""
    if not content:
        return {}
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(content).decode("ascii")}
    # Homeservers read a body as JSON whatever its content type says (curl -d sends form-urlencoded), so a body
    # that parses as a JSON object or list is JSON here too: its passwords get redacted like any other.
    if "json" in (content_type or "").lower() or text.lstrip()[:1] in ("{", "["):
        try:
            value = json_gate.decode(text)
        except (ValueError, RecursionError, MatrixError):
            pass  # not JSON, or JSON no server could serve back (1e400, a lone surrogate): kept as it came
        else:
            if not _nested_deeper(value, MAX_DEPTH):
                return {"body": value}
    return {"text": text}


def _nested_deeper(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def wire_text(text: str) -> str:
    """`text` as a recording can hold it: mitmproxy reads bytes that are not UTF-8 in a path, a query or a header as
    lone surrogates (surrogateescape), which no UTF-8 file can hold and which would stop the writer; each becomes
    the percent-escape of its byte, as it was on the wire."""
    if not _ESCAPED_BYTE.search(text):
        return text
    return _ESCAPED_BYTE.sub(lambda m: f"%{ord(m[0]) - 0xDC00:02X}", text)


def multimap(pairs: Iterable[tuple[str, str]]) -> MultiMap:
    """Pairs as a mapping, a repeated name's values in a list."""
    result: MultiMap = {}
    for name, value in pairs:
        previous = result.get(name)
        if previous is None:
            result[name] = value
        else:
            result[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return result


def seconds(delta: float) -> float:
    """A duration as the recording keeps it: milliseconds, never negative."""
    return round(max(delta, 0.0), 3)
