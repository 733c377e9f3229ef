"""Getting a session and giving it up: `/login`, `/logout`, `/register?kind=guest`, `/account/whoami`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import (
    access_token,
    authenticate,
    homeserver,
    optional_str,
    parse_json_object,
    read_body,
    read_json_object,
    require_str,
)
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session

PASSWORD_LOGIN = "m.login.password"


async def login_flows(request: Request) -> Response:
    return JSONResponse({"flows": [{"type": PASSWORD_LOGIN}]})


async def login(request: Request) -> Response:
    body = await read_json_object(request)
    login_type = require_str(body, "type")
    if login_type != PASSWORD_LOGIN:
        raise MatrixError(400, "Unknown login type", Codes.UNKNOWN)
    hs = homeserver(request)
    user_id = hs.accounts.resolve_login_user(_login_user(body))
    password = require_str(body, "password")
    if not hs.accounts.check_password(user_id, password):
        raise MatrixError(403, "Invalid username or password", Codes.FORBIDDEN)
    token, session = hs.accounts.login(
        user_id, optional_str(body, "device_id"), optional_str(body, "initial_device_display_name")
    )
    return _session_response(hs.server_name, token, session)


def _login_user(body: dict[str, Any]) -> str:
    """The user a password login names: the `m.id.user` identifier, or the legacy top-level `user`."""
    identifier = body.get("identifier")
    if identifier is not None:
        if not isinstance(identifier, dict):
            raise MatrixError(400, "'identifier' must be an object", Codes.BAD_JSON)
        if identifier.get("type") != "m.id.user":
            raise MatrixError(400, "Unknown login identifier type", Codes.UNKNOWN)
        return require_str(identifier, "user")
    if "user" in body:
        return require_str(body, "user")
    raise MatrixError(400, "Missing param: identifier", Codes.MISSING_PARAM)


async def logout(request: Request) -> Response:
    authenticate(request)
    hs = homeserver(request)
    session = hs.accounts.logout(access_token(request) or "")
    if session is not None:
        hs.to_device.drop_device(session.user_id, session.device_id)
    return JSONResponse({})


async def whoami(request: Request) -> Response:
    session = authenticate(request)
    return JSONResponse({"user_id": session.user_id, "device_id": session.device_id, "is_guest": session.is_guest})


async def register(request: Request) -> Response:
    kind = request.query_params.get("kind", "user")
    if kind not in ("user", "guest"):
        raise MatrixError(400, "Invalid param 'kind'", Codes.INVALID_PARAM)
    raw = await read_body(request)
    body = parse_json_object(raw) if raw.strip() else {}
    if kind == "user":
        # Scenario files declare the users; like a homeserver with registration off, the mock takes no new ones.
        raise MatrixError(403, "Registration has been disabled", Codes.FORBIDDEN)
    hs = homeserver(request)
    token, session = hs.accounts.register_guest(optional_str(body, "initial_device_display_name"))
    return _session_response(hs.server_name, token, session)


def _session_response(server_name: str, token: str, session: Session) -> Response:
    return JSONResponse(
        {"user_id": session.user_id, "access_token": token, "device_id": session.device_id, "home_server": server_name}
    )
