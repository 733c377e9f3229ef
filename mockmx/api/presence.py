"""`/presence/{userId}/status`: set one's own presence; read that of anyone one shares a room with."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate_user, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.presence import STATES

_ERROR = Codes.UNKNOWN  # Synapse answers every malformed presence body with M_UNKNOWN; the spec names none


async def get_presence(request: Request) -> Response:
    session = authenticate_user(request)
    user_id = request.path_params["user_id"]
    hs = homeserver(request)
    # Synapse: one's own presence, and that of anyone sharing a room; unknown users are refused alike.
    if user_id != session.user_id and user_id not in hs.peers_of(session.user_id):
        raise MatrixError(403, "You are not allowed to see their presence.", Codes.FORBIDDEN)
    state = hs.presence.get(user_id)
    return JSONResponse(state.content(hs.clock_ms()) if state is not None else {"presence": "offline"})


async def set_presence(request: Request) -> Response:
    session = authenticate_user(request)
    if request.path_params["user_id"] != session.user_id:
        raise MatrixError(403, "Can only set your own presence state", Codes.FORBIDDEN)
    body = await read_json_object(request)
    presence = body.get("presence")
    if presence is None:
        raise MatrixError(400, "Unable to parse state", _ERROR)
    if presence not in STATES:
        raise MatrixError(400, "Invalid presence state", _ERROR)
    status_msg: Any = body.get("status_msg")
    if status_msg is not None and not isinstance(status_msg, str):
        raise MatrixError(400, "status_msg must be a string.", _ERROR)
    hs = homeserver(request)
    hs.presence.set(session.user_id, presence, status_msg, hs.clock_ms())
    return JSONResponse({})
