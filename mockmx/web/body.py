"""Reading a request: a header without building `Headers`, the body within a size limit, JSON objects."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

from mockmx.errors import Codes, MatrixError
from mockmx.web import json_gate

MAX_BODY_BYTES = 1 << 20  # far above any valid client request (events stop at 64 KiB); the rest is refused unread
# Bodies nested deeper are refused, so that echoing them back can never come near the recursion limit. Only
# bodies with more brackets than _DEPTH_SUSPECT are measured: fewer cannot nest deep enough to matter.
MAX_JSON_DEPTH = 64
_DEPTH_SUSPECT = 128


def header(request: Request, name: bytes) -> str | None:
    """The first value of the header `name` (lower case, as ASGI servers give names), without building `Headers`."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(request: Request) -> bytes:
    length = header(request, b"content-length") or ""
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise MatrixError(413, "Request body too large", Codes.TOO_LARGE)
    # The server's messages read as Starlette's `Request.stream` reads them, without its async generator.
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MatrixError(413, "Request body too large", Codes.TOO_LARGE)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json_object(body: bytes, *, decoder: json.JSONDecoder = json_gate.DECODER) -> dict[str, Any]:
    """The body as a JSON object: M_NOT_JSON when it is not JSON, M_BAD_JSON when it is not an object or could not
    be served back (the one gate, `json_gate`: every endpoint's body comes through here)."""
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32, told apart by the first bytes; strictly, as Synapse
        # decodes, so that encoded surrogates are refused rather than stored.
        # An object in UTF-8 (a `{` that is not the first half of a UTF-16 character) is what nearly every body is.
        utf8 = body[:1] == b"{" and body[1:2] != b"\x00"
        value = json_gate.decode(body.decode("utf-8" if utf8 else json.detect_encoding(body)), decoder=decoder)
    except (ValueError, RecursionError):
        raise MatrixError(400, "Content not JSON.", Codes.NOT_JSON) from None
    if not isinstance(value, dict):
        raise MatrixError(400, "Content must be a JSON object.", Codes.BAD_JSON)
    if body.count(b"[") + body.count(b"{") > _DEPTH_SUSPECT and _depth(value) > MAX_JSON_DEPTH:
        raise MatrixError(400, "JSON nested too deeply", Codes.BAD_JSON)
    return value


async def read_json_object(request: Request, *, decoder: json.JSONDecoder = json_gate.DECODER) -> dict[str, Any]:
    return parse_json_object(await read_body(request), decoder=decoder)


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest
