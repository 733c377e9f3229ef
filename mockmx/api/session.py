"""Getting a session, keeping it and giving it up: `/login`, `/refresh`, `/logout`, `/logout/all`, `/account/whoami`.

Access tokens never expire here. A client that asks for a refresh token (`"refresh_token": true`) gets one with
`expires_in_ms` set to Synapse's default lifetime, so it exercises `/refresh` on schedule; the access token keeps
working until the new pair from a refresh is used.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import (
    access_token,
    authenticate,
    authenticate_user,
    homeserver,
    optional_str,
    read_json_object,
    require_str,
)
from mockmx.errors import Codes, MatrixError, unknown_token
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.server import Homeserver

PASSWORD_LOGIN = "m.login.password"
ACCESS_TOKEN_LIFETIME_MS = 5 * 60 * 1000  # Synapse's default `refreshable_access_token_lifetime`


async def login_flows(request: Request) -> Response:
    return JSONResponse({"flows": [{"type": PASSWORD_LOGIN}]})


async def login(request: Request) -> Response:
    body = await read_json_object(request)
    login_type = require_str(body, "type")
    if login_type != PASSWORD_LOGIN:
        raise MatrixError(400, "Unknown login type", Codes.UNKNOWN)
    with_refresh = wants_refresh_token(body)
    hs = homeserver(request)
    user_id = hs.accounts.resolve_login_user(login_user(body))
    password = require_str(body, "password")
    if not hs.accounts.check_password(user_id, password):
        raise MatrixError(403, "Invalid username or password", Codes.FORBIDDEN)
    token, session = hs.accounts.login(
        user_id, optional_str(body, "device_id"), optional_str(body, "initial_device_display_name")
    )
    return session_response(hs, token, session, refresh=with_refresh)


def login_user(body: dict[str, Any]) -> str:
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
        hs.keys.drop_device(session.user_id, session.device_id)
    return JSONResponse({})


async def logout_all(request: Request) -> Response:
    """Log out every device of the user, the one asking included."""
    session = authenticate_user(request)
    hs = homeserver(request)
    hs.delete_devices(session.user_id, hs.accounts.device_ids(session.user_id))
    return JSONResponse({})


async def refresh(request: Request) -> Response:
    body = await read_json_object(request)
    pair = homeserver(request).accounts.refresh(require_str(body, "refresh_token"))
    if pair is None:
        # The spec's answer for a token that is unknown or has been used (Synapse says 403 for a used one).
        raise unknown_token("Unknown or already used refresh token")
    access, refresh_token = pair
    return JSONResponse(
        {"access_token": access, "refresh_token": refresh_token, "expires_in_ms": ACCESS_TOKEN_LIFETIME_MS}
    )


async def whoami(request: Request) -> Response:
    session = authenticate(request)
    return JSONResponse({"user_id": session.user_id, "device_id": session.device_id, "is_guest": session.is_guest})


def wants_refresh_token(body: dict[str, Any]) -> bool:
    """Whether a login or registration asks for a refresh token (`"refresh_token": true`)."""
    value = body.get("refresh_token", False)
    if not isinstance(value, bool):
        raise MatrixError(400, "'refresh_token' must be true or false", Codes.BAD_JSON)
    return value


def session_response(hs: Homeserver, token: str, session: Session, *, refresh: bool = False) -> Response:
    """What a login or registration answers: who and which device, the access token, and a refresh token if asked."""
    body: dict[str, Any] = {
        "user_id": session.user_id,
        "access_token": token,
        "device_id": session.device_id,
        "home_server": hs.server_name,
    }
    if refresh:
        body["refresh_token"] = hs.accounts.with_refresh_token(token, session)
        body["expires_in_ms"] = ACCESS_TOKEN_LIFETIME_MS
    return JSONResponse(body)
