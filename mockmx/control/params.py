"""What the control endpoints share: the object behind the app, and their query parameters."""

from __future__ import annotations

from starlette.requests import Request

from mockmx.control.middleware import Controlled
from mockmx.errors import Codes, MatrixError
from mockmx.hosting import hosted_by


def controlled(request: Request) -> Controlled:
    """The mock or replay behind the app, as the control plane sees it."""
    host = hosted_by(request.app)
    if not isinstance(host, Controlled):
        raise MatrixError(404, "This server has no control API", Codes.UNRECOGNIZED)
    return host


def query_int(request: Request, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MatrixError(400, f"Query parameter {name!r} must be an integer", Codes.INVALID_PARAM) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise MatrixError(400, f"Query parameter {name!r} must be at least {minimum}{bound}", Codes.INVALID_PARAM)
    return value


def waiting(request: Request) -> tuple[int, int]:
    """`wait` (milliseconds, capped as long polls are) and `count` (default 1): how long to wait for how many."""
    wait = min(query_int(request, "wait", 0), MAX_WAIT_MS)
    return wait, query_int(request, "count", 1)


def known_filters(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's filters, refusing names the endpoint does not know (a typo would silently match everything)."""
    filters = {name: value for name, value in request.query_params.items() if name not in _CONTROL_PARAMS}
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise MatrixError(400, f"Unknown filter {unknown}; expected some of: {', '.join(allowed)}", Codes.INVALID_PARAM)
    return filters


MAX_WAIT_MS = 10 * 60 * 1000  # as long polls are capped: a typo cannot hold a connection forever
_CONTROL_PARAMS = frozenset({"wait", "count", "after", "bodies", "limit"})
