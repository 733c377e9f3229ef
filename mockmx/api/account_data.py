"""`/user/{userId}/account_data/{type}` and `/user/{userId}/rooms/{roomId}/account_data/{type}`: a user's own
settings, global or per room, which come back to every device in `/sync`."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate_user, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session

ROOM_ID = re.compile(r"![^:]+(:.+)?")
PUSH_RULES = "m.push_rules"
# Types the server keeps itself: clients set them through /read_markers and /pushrules instead (Synapse's 405).
_SERVER_MANAGED = {
    "m.fully_read": "Cannot set m.fully_read through this API. Use /rooms/!roomId:server.name/read_markers",
    PUSH_RULES: "Cannot set m.push_rules through this API. Use /pushrules",
}


async def get_global(request: Request) -> Response:
    session = _owner(request, "get")
    event_type = request.path_params["type"]
    if event_type == PUSH_RULES:
        return JSONResponse({"global": homeserver(request).push_rules.ruleset(session.user_id)})
    content = homeserver(request).account_data.get_global(session.user_id, event_type)
    if content is None:
        raise MatrixError(404, "Account data not found", Codes.NOT_FOUND)
    return JSONResponse(content)


async def set_global(request: Request) -> Response:
    session = _owner(request, "add")
    event_type = _settable_type(request)
    content = await read_json_object(request)
    homeserver(request).account_data.set_global(session.user_id, event_type, content)
    return JSONResponse({})


async def get_room(request: Request) -> Response:
    session = _owner(request, "get")
    room_id = _room_id(request)
    event_type = request.path_params["type"]
    if event_type == PUSH_RULES:
        return JSONResponse({})  # Synapse: room-specific push rules are not supported, and read as empty
    content = homeserver(request).account_data.get_room(session.user_id, room_id, event_type)
    if content is None:
        raise MatrixError(404, "Room account data not found", Codes.NOT_FOUND)
    return JSONResponse(content)


async def set_room(request: Request) -> Response:
    session = _owner(request, "add")
    room_id = _room_id(request)
    event_type = _settable_type(request)
    content = await read_json_object(request)
    # Like Synapse, any well-formed room id is taken, whether or not the user is in that room.
    homeserver(request).account_data.set_room(session.user_id, room_id, event_type, content)
    return JSONResponse({})


def _owner(request: Request, verb: str) -> Session:
    """The session, when it is the path's user's own (guests have no account data)."""
    session = authenticate_user(request)
    if request.path_params["user_id"] != session.user_id:
        raise MatrixError(403, f"Cannot {verb} account data for other users.", Codes.FORBIDDEN)
    return session


def _room_id(request: Request) -> str:
    room_id: str = request.path_params["room_id"]
    if not ROOM_ID.fullmatch(room_id):
        raise MatrixError(400, f"{room_id} is not a valid room ID", Codes.INVALID_PARAM)
    return room_id


def _settable_type(request: Request) -> str:
    event_type: str = request.path_params["type"]
    refusal = _SERVER_MANAGED.get(event_type)
    if refusal is not None:
        raise MatrixError(405, refusal, Codes.BAD_JSON)
    return event_type
