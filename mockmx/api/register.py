"""New accounts: `POST /register` (guests, and users where the scenario opens registration) and
`GET /register/available`.

Registering a user takes User-Interactive Authentication with the one `m.login.dummy` stage: the first request gets
the 401 with the flows and a session, the next one with `auth: {"type": "m.login.dummy", "session": ...}` makes the
account. As in Synapse, the username is checked before that, a password is required, and the password (like the
rest of the request) is remembered by the session for a request that leaves it out.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import homeserver, optional_str, read_json_object
from mockmx.api.session import session_response, wants_refresh_token
from mockmx.api.uia import operation
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.uia import DUMMY

FLOWS = [[DUMMY]]
MAX_PASSWORD_LENGTH = 512  # Synapse's


async def register(request: Request) -> Response:
    kind = request.query_params.get("kind", "user")
    if kind not in ("user", "guest"):
        raise MatrixError(400, "Invalid param 'kind'", Codes.INVALID_PARAM)
    body = await read_json_object(request)  # a guest's too: Synapse reads the body first, and refuses none
    hs = homeserver(request)
    if kind == "guest":
        token, session = hs.accounts.register_guest(optional_str(body, "initial_device_display_name"))
        return session_response(hs, token, session)
    if not hs.registration.enabled:
        raise MatrixError(403, "Registration has been disabled", Codes.FORBIDDEN)
    with_refresh = wants_refresh_token(body)
    _check_params(body)
    username = body.get("username")
    if username is not None:
        hs.accounts.check_available(username.lower())
    uia = hs.uia.authenticate(
        body,
        operation=operation(request),
        flows=FLOWS,
        checks={DUMMY: lambda auth: True},
        remember={"password": body.get("password")},
    )
    params = uia.params
    user_id = uia.data.get("user_id")
    if user_id is None:
        # The session's first success; a retry of it (its answer lost) logs the same account in again.
        password = params.get("password") or uia.data.get("password")
        if not password:
            raise MatrixError(400, "Missing params: password", Codes.MISSING_PARAM)
        username = params.get("username")
        user_id = hs.accounts.register(username.lower() if username is not None else None, password)
        uia.data["user_id"] = user_id
    return _registered(hs, user_id, params, refresh=with_refresh)


async def available(request: Request) -> Response:
    hs = homeserver(request)
    if not hs.registration.enabled:
        raise MatrixError(403, "Registration has been disabled", Codes.FORBIDDEN)
    username = request.query_params.get("username")
    if username is None:
        raise MatrixError(400, "Missing string query parameter 'username'", Codes.MISSING_PARAM)
    hs.accounts.check_available(username)  # not lower-cased first: Synapse answers for the name as given
    return JSONResponse({"available": True})


def _check_params(body: dict[str, Any]) -> None:
    """Refuse ill-typed parameters before the session remembers them."""
    for key in ("username", "password", "device_id", "initial_device_display_name"):
        optional_str(body, key)
    password = body.get("password")
    if password is not None and len(password) > MAX_PASSWORD_LENGTH:
        raise MatrixError(400, "Invalid password", Codes.INVALID_PARAM)
    if not isinstance(body.get("inhibit_login", False), bool):
        raise MatrixError(400, "'inhibit_login' must be true or false", Codes.BAD_JSON)


def _registered(hs: Homeserver, user_id: str, params: dict[str, Any], *, refresh: bool) -> Response:
    if params.get("inhibit_login"):
        return JSONResponse({"user_id": user_id, "home_server": hs.server_name})
    token, session = hs.accounts.login(user_id, params.get("device_id"), params.get("initial_device_display_name"))
    return session_response(hs, token, session, refresh=refresh)
