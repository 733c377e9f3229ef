"""Making and joining rooms: `/createRoom`, `/join/{roomIdOrAlias}`, `/rooms/{roomId}/join`, `/joined_rooms`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, optional_str, parse_json_object, read_body, read_json_object
from mockmx.errors import Codes, MatrixError

PRESETS = ("private_chat", "public_chat", "trusted_private_chat")


async def create_room(request: Request) -> Response:
    session = authenticate(request)
    if session.is_guest:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    body = await read_json_object(request)
    visibility = optional_str(body, "visibility") or "private"
    if visibility not in ("public", "private"):
        raise MatrixError(400, "'visibility' must be 'public' or 'private'", Codes.BAD_JSON)
    preset = optional_str(body, "preset") or ("public_chat" if visibility == "public" else "private_chat")
    if preset not in PRESETS:
        raise MatrixError(400, f"'preset' must be one of {', '.join(PRESETS)}", Codes.BAD_JSON)
    alias = optional_str(body, "room_alias_name")
    if alias is not None and (not alias or any(c in alias for c in ":# ")):
        raise MatrixError(400, "Invalid characters in room alias", Codes.INVALID_PARAM)
    is_direct = body.get("is_direct", False)
    if not isinstance(is_direct, bool):
        raise MatrixError(400, "'is_direct' must be a boolean", Codes.BAD_JSON)
    room = homeserver(request).create_room(
        session.user_id,
        name=optional_str(body, "name"),
        topic=optional_str(body, "topic"),
        alias_localpart=alias,
        preset=preset,
        invite=_user_ids(body, "invite"),
        is_direct=is_direct,
        initial_state=_initial_state(body),
    )
    if visibility == "public":
        homeserver(request).directory.published.add(room.room_id)  # on the public room list, as in Synapse
    return JSONResponse({"room_id": room.room_id})


def _string_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MatrixError(400, f"'{key}' must be a list of strings", Codes.BAD_JSON)
    return value


def _user_ids(body: dict[str, Any], key: str) -> list[str]:
    user_ids = _string_list(body, key)
    for user_id in user_ids:
        if not user_id.startswith("@") or ":" not in user_id:
            raise MatrixError(400, f"'{user_id}' is not a user id", Codes.INVALID_PARAM)
    return user_ids


def _initial_state(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("initial_state", [])
    if not isinstance(value, list):
        raise MatrixError(400, "'initial_state' must be a list", Codes.BAD_JSON)
    for event in value:
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("type"), str)
            or not isinstance(event.get("content"), dict)
            or not isinstance(event.get("state_key", ""), str)
        ):
            raise MatrixError(400, "'initial_state' events need a string type and an object content", Codes.BAD_JSON)
    return value


async def join(request: Request) -> Response:
    session = authenticate(request)
    raw = await read_body(request)
    if raw.strip():
        parse_json_object(raw)  # the body is optional (a reason, third-party signed), but must be JSON if given
    room = homeserver(request).join(session.user_id, request.path_params["room"])
    return JSONResponse({"room_id": room.room_id})


async def joined_rooms(request: Request) -> Response:
    session = authenticate(request)
    return JSONResponse({"joined_rooms": sorted(homeserver(request).rooms_of(session.user_id))})
