"""The query parameters of paginated endpoints (`/messages`, `/context`, `/relations`): direction, limit, tokens."""

from __future__ import annotations

from starlette.requests import Request

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.timeline import Direction
from mockmx.homeserver.tokens import StreamToken

MAX_LIMIT = 1000  # Synapse's cap on any pagination limit


def query_direction(request: Request, *, default: Direction | None) -> Direction:
    """`dir`: "b" or "f"; `default` when absent, or 400 M_MISSING_PARAM when the endpoint requires it."""
    raw = request.query_params.get("dir")
    if raw is None:
        if default is None:
            raise MatrixError(400, "Missing string query parameter 'dir'", Codes.MISSING_PARAM)
        return default
    try:
        return Direction(raw)
    except ValueError:
        choices = ", ".join(repr(str(d)) for d in Direction)
        raise MatrixError(400, f"Query parameter 'dir' must be one of [{choices}]", Codes.INVALID_PARAM) from None


def query_limit(request: Request, *, default: int, maximum: int = MAX_LIMIT) -> int:
    """`limit`: a non-negative integer, capped at `maximum`."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MatrixError(400, "Query parameter 'limit' must be an integer", Codes.INVALID_PARAM) from None
    if value < 0:
        raise MatrixError(400, "Query parameter 'limit' must be 0 or above", Codes.INVALID_PARAM)
    return min(value, maximum)


def query_token(request: Request, name: str) -> StreamToken | None:
    """A stream token from `/sync`, `/messages` or `/relations` (None when absent); 400 when it is not one."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    token = StreamToken.parse(raw)
    if token is None:
        raise MatrixError(400, f"'{name}' parameter is invalid", Codes.UNKNOWN)  # as Synapse words it
    return token
