"""`PUT /rooms/{roomId}/typing/{userId}`: a member says they are typing (for a while) or have stopped."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.typing import DEFAULT_TIMEOUT_MS


async def set_typing(request: Request) -> Response:
    session = authenticate(request)
    room_id, user_id = request.path_params["room_id"], request.path_params["user_id"]
    body = await read_json_object(request)
    typing = body.get("typing")
    if typing is None:
        raise MatrixError(400, "Missing param: typing", Codes.MISSING_PARAM)
    if not isinstance(typing, bool):
        raise MatrixError(400, "Param 'typing' must be a boolean", Codes.BAD_JSON)
    timeout = body.get("timeout", DEFAULT_TIMEOUT_MS)
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        raise MatrixError(400, "Param 'timeout' must be an integer", Codes.BAD_JSON)
    if user_id != session.user_id:
        # Synapse says this with a 400; M_FORBIDDEN goes with 403 everywhere else in the spec.
        raise MatrixError(403, "Cannot set another user's typing state", Codes.FORBIDDEN)
    hs = homeserver(request)
    room = hs.rooms.get(room_id)
    if room is None or user_id not in room.joined:
        raise MatrixError(403, f"User {user_id} not in room {room_id}", Codes.FORBIDDEN)
    hs.typing.set(room, user_id, typing, timeout)
    return JSONResponse({})
