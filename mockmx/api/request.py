"""What every endpoint needs from a request: who sent it, its JSON body, its query parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockmx.control.journal import SCOPE_KEY as JOURNAL_ENTRY
from mockmx.errors import Codes, MatrixError, unknown_token
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.server import Homeserver
from mockmx.hosting import hosted_as
from mockmx.transactions import TransactionCache
from mockmx.web.body import header, parse_json_object, read_body, read_json_object
from mockmx.world import Mock, World

_WORLD = "mockmx.world"  # the scope key of the world a request is served from

# Endpoints read these from here, as they always have.
__all__ = ["header", "parse_json_object", "read_body", "read_json_object"]


def world(request: Request) -> World:
    """The world the request is served from (looked up once per request, so a reset or a new scenario takes effect
    from the next request on)."""
    scope = request.scope
    found: World | None = scope.get(_WORLD)
    if found is None:
        found = scope[_WORLD] = hosted_as(request.app, Mock).world
    return found


def latest_world(request: Request) -> World:
    """The world being served now: for a request that waits, across a reset, for what the new world does."""
    return hosted_as(request.app, Mock).world


def homeserver(request: Request) -> Homeserver:
    return world(request).homeserver


def transactions(request: Request) -> TransactionCache:
    return world(request).transactions


async def once_per_transaction(request: Request, session: Session, work: Callable[[bytes], Response]) -> Response:
    """A txnId endpoint's answer: `work` done on the body, or its first answer again for a repeat (`transactions`).
    The body is read first, so that nothing waits between looking the transaction up and keeping its answer."""
    body = await read_body(request)
    txns = transactions(request)
    key = (session.user_id, session.device_id, request.scope["path"])
    answer = txns.answered(key)
    if answer is None:
        answer = work(body)
        txns.remember(key, answer)
    return answer


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
    hs = homeserver(request)
    session = hs.accounts.session(token)
    if session is None:
        raise unknown_token()
    client = request.scope.get("client")
    hs.accounts.seen(session, client[0] if client else None, hs.clock_ms())
    entry = request.scope.get(JOURNAL_ENTRY)
    if entry is not None:  # the request journal says whose request it was
        entry.note_session(session.user_id, session.device_id)
    return session


def authenticate_user(request: Request) -> Session:
    """`authenticate`, refusing guests (403 M_GUEST_ACCESS_FORBIDDEN) as Synapse does unless an endpoint allows them."""
    session = authenticate(request)
    if session.is_guest:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    return session


def query_timeout_ms(request: Request, default: int = 0) -> int:
    raw = request.query_params.get("timeout")
    if raw is None:
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
