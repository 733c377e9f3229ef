"""What every endpoint needs from a request: who sent it, its JSON body, its query parameters."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request

from mockmx.errors import Codes, MatrixError, unknown_token
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.server import Homeserver
from mockmx.transactions import TransactionCache

MAX_BODY_BYTES = 1 << 20  # far above any valid client request (events stop at 64 KiB); the rest is refused unread
# Bodies nested deeper are refused, so that echoing them back can never come near the recursion limit. Only
# bodies with more brackets than _DEPTH_SUSPECT are measured: fewer cannot nest deep enough to matter.
MAX_JSON_DEPTH = 64
_DEPTH_SUSPECT = 128


def homeserver(request: Request) -> Homeserver:
    return cast(Homeserver, request.app.state.homeserver)


def transactions(request: Request) -> TransactionCache:
    return cast(TransactionCache, request.app.state.transactions)


def header(request: Request, name: bytes) -> str | None:
    """The first value of the header `name` (lower case, as ASGI servers give names), without building `Headers`."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def access_token(request: Request) -> str | None:
    header_value = header(request, b"authorization")
    if header_value is not None:
        scheme, _, token = header_value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise MatrixError(401, "Invalid Authorization header.", Codes.MISSING_TOKEN)
    return request.query_params.get("access_token")


def authenticate(request: Request) -> Session:
    """The session the request's access token names; 401 when there is none or it is unknown."""
    token = access_token(request)
    if not token:
        raise MatrixError(401, "Missing access token", Codes.MISSING_TOKEN)
    session = homeserver(request).accounts.session(token)
    if session is None:
        raise unknown_token()
    return session


async def read_body(request: Request) -> bytes:
    length = header(request, b"content-length") or ""
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise MatrixError(413, "Request body too large", Codes.TOO_LARGE)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MatrixError(413, "Request body too large", Codes.TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Made once: json.loads with any option builds a new decoder per call, a cost on every request with a body.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: M_NOT_JSON when it is not JSON, M_BAD_JSON when it is not an object."""
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32, told apart by the first bytes.
        value = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError):
        raise MatrixError(400, "Content not JSON.", Codes.NOT_JSON) from None
    if not isinstance(value, dict):
        raise MatrixError(400, "Content must be a JSON object.", Codes.BAD_JSON)
    if body.count(b"[") + body.count(b"{") > _DEPTH_SUSPECT and _depth(value) > MAX_JSON_DEPTH:
        raise MatrixError(400, "JSON nested too deeply", Codes.BAD_JSON)
    return value


async def read_json_object(request: Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request))


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


def query_timeout_ms(request: Request, default: int = 0) -> int:
    raw = request.query_params.get("timeout")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MatrixError(400, "Query parameter 'timeout' must be an integer", Codes.INVALID_PARAM) from None
    # Synapse treats negative timeouts as zero; long polls are capped so a typo cannot hold a connection forever.
    return min(max(value, 0), MAX_LONG_POLL_MS)


MAX_LONG_POLL_MS = 10 * 60 * 1000


def query_bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw in ("false", "0", ""):
        return False
    if raw in ("true", "1"):
        return True
    raise MatrixError(400, f"Query parameter {name!r} must be 'true' or 'false'", Codes.INVALID_PARAM)


def require_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        raise MatrixError(400, f"Missing param: {key}", Codes.MISSING_PARAM)
    if not isinstance(value, str):
        raise MatrixError(400, f"Param {key!r} must be a string", Codes.BAD_JSON)
    return value


def require_object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        raise MatrixError(400, f"Missing param: {key}", Codes.MISSING_PARAM)
    if not isinstance(value, dict):
        raise MatrixError(400, f"'{key}' must be an object", Codes.BAD_JSON)
    return value


def optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise MatrixError(400, f"Param {key!r} must be a string", Codes.BAD_JSON)
    return value
