"""The one JSON gate: a value is accepted only if the server can serve it back to every client, as canonical JSON.

Canonical JSON (the spec's appendix, Synapse's `canonicaljson`) has integers in [-(2**53)+1, 2**53-1] only, no
NaN or infinities, and text that encodes to UTF-8 (no lone surrogates, which JavaScript clients make by cutting
a string inside an emoji). Let one of these in and every later /sync that carries it fails, so they are refused
where they enter: request bodies (`mockmx.web.body.parse_json_object`), scenario files (`unservable`), and events
of room versions that forbid floats (`check_event_content`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from mockmx.errors import Codes, MatrixError

MAX_INT = 2**53 - 1
MIN_INT = -(2**53) + 1
# The push gateway spec types its integers int64 (`pushkey_ts`) and serves nothing back to a homeserver: a gateway
# takes what a homeserver may send, which its own journal can still serve as JSON.
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
# Room versions 6 and later enforce canonical JSON in events: floats are refused (spec: rooms/v6).
FIRST_STRICT_ROOM_VERSION = 6

_JSON_WHITESPACE = " \t\n\r"  # JSON's whitespace, and only it: what the decoder allows around a value
# An escaped surrogate (\uD800-\uDFFF): only these can put a surrogate into a string decoded from strict UTF-8.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def integer_out_of_range() -> MatrixError:
    return MatrixError(400, "JSON integer out of range", Codes.BAD_JSON)  # Synapse's words and code


def _int_parser(low: int, high: int) -> Callable[[str], int]:
    max_digits = len(str(low))  # the sign counts

    def parse_int(text: str) -> int:
        if len(text) > max_digits:  # checked before int(): 5,000 digits would cost, 10**5 would raise
            raise integer_out_of_range()
        value = int(text)
        if not low <= value <= high:
            raise integer_out_of_range()
        return value

    return parse_int


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 is valid JSON text that Python reads as inf, which nothing can send back
        raise MatrixError(400, "JSON number out of range", Codes.BAD_JSON)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decoder(low: int, high: int) -> json.JSONDecoder:
    return json.JSONDecoder(parse_constant=_reject_constant, parse_int=_int_parser(low, high), parse_float=_parse_float)


# Made once: json.loads with any option builds a new decoder per call, a cost on every request with a body.
DECODER = _decoder(MIN_INT, MAX_INT)
INT64_DECODER = _decoder(MIN_INT64, MAX_INT64)


def decode(text: str, *, decoder: json.JSONDecoder = DECODER) -> Any:
    """`text` as JSON: ValueError when it is not JSON, MatrixError (400 M_BAD_JSON) when it could not be served."""
    if text[:1] == "{":
        # What JSONDecoder.decode does, without its two whitespace regexes for a body with none in front.
        try:
            value, end = decoder.scan_once(text, 0)  # type: ignore[attr-defined]  # set by JSONDecoder.__init__
        except StopIteration as stop:
            raise ValueError(f"Expecting value at {stop.value}") from None
        if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
            raise ValueError(f"Extra data at {end}")
    else:
        value = decoder.decode(text)
    if "\\u" in text and _ESCAPED_SURROGATE.search(text) and not _encodes(value):
        raise MatrixError(400, "Invalid Unicode: lone surrogate in a string", Codes.BAD_JSON)
    return value


def _encodes(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unservable(value: Any) -> str | None:
    """Why `value` (from YAML, say) could not be served as JSON, or None when it can. Floats are allowed."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                return f"integer {item} is out of canonical JSON's range [-(2**53)+1, 2**53-1]"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item} is not a JSON number"
        elif isinstance(item, str):
            if not _encodes(item):
                return "a string holds a lone surrogate, which UTF-8 cannot encode"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"key {key!r} is not a string"
                stack.append(key)
                stack.append(child)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            return f"{type(item).__name__} is not a JSON value"
    return None


def has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)  # what JSON decodes to, exactly: checked by type first, as most values are strings
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float or isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_event_content(content: Any, room_version: str) -> None:
    """400 M_BAD_JSON, as Synapse answers, for a float in an event of a room version that enforces canonical JSON."""
    strict = not room_version.isdigit() or int(room_version) >= FIRST_STRICT_ROOM_VERSION
    if strict and has_float(content):
        raise MatrixError(400, "Bad JSON value: float", Codes.BAD_JSON)
