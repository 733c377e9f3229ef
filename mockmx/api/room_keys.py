"""Server-side key backup: `/room_keys/version[/{version}]` and `/room_keys/keys[/{roomId}[/{sessionId}]]`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import (
    authenticate_user,
    homeserver,
    optional_str,
    read_json_object,
    require_object,
    require_str,
)
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.room_keys import Backup

JsonDict = dict[str, Any]
# The spec's one backup algorithm: a version names it, and `GET` serves it back under the same enum.
ALGORITHMS = ("m.megolm_backup.v1.curve25519-aes-sha2",)
_KEY_FIELDS = (("first_message_index", int), ("forwarded_count", int), ("is_verified", bool), ("session_data", dict))


async def create_version(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    algorithm, auth_data = _algorithm(body), require_object(body, "auth_data")
    version = homeserver(request).room_keys.create(session.user_id, algorithm, auth_data)
    return JSONResponse({"version": version})


async def get_version(request: Request) -> Response:
    session = authenticate_user(request)
    backup = homeserver(request).room_keys.get(session.user_id, request.path_params.get("version"))
    return JSONResponse(backup.info())


async def update_version(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    version = request.path_params["version"]
    algorithm, auth_data = _algorithm(body), require_object(body, "auth_data")
    named = optional_str(body, "version")
    if named is not None and named != version:
        raise MatrixError(400, "Version in body does not match", Codes.INVALID_PARAM)
    homeserver(request).room_keys.update(session.user_id, version, algorithm, auth_data)
    return JSONResponse({})


async def delete_version(request: Request) -> Response:
    session = authenticate_user(request)
    homeserver(request).room_keys.delete(session.user_id, request.path_params["version"])
    return JSONResponse({})


async def get_keys(request: Request) -> Response:
    session = authenticate_user(request)
    backup = homeserver(request).room_keys.get(session.user_id, _required_version(request))
    room_id = request.path_params.get("room_id")
    session_id = request.path_params.get("session_id")
    if room_id is None:
        return JSONResponse({"rooms": {room: {"sessions": sessions} for room, sessions in backup.rooms.items()}})
    sessions = backup.rooms.get(room_id, {})
    if session_id is None:
        # Synapse: a room without keys is an empty object, not a 404.
        return JSONResponse({"sessions": sessions})
    if session_id not in sessions:
        raise MatrixError(404, "No room_keys found", Codes.NOT_FOUND)
    return JSONResponse(sessions[session_id])


async def put_keys(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    room_id = request.path_params.get("room_id")
    session_id = request.path_params.get("session_id")
    if room_id is None:
        rooms = {
            room: _sessions(_room_sessions(entry, room), room) for room, entry in require_object(body, "rooms").items()
        }
    elif session_id is None:
        rooms = {room_id: _sessions(require_object(body, "sessions"), room_id)}
    else:
        rooms = {room_id: {session_id: _key_data(body, f"{room_id}/{session_id}")}}
    room_keys = homeserver(request).room_keys
    backup = room_keys.current_for_upload(session.user_id, _required_version(request))
    room_keys.put_keys(backup, rooms)
    return JSONResponse(backup.summary())


async def delete_keys(request: Request) -> Response:
    session = authenticate_user(request)
    room_keys = homeserver(request).room_keys
    backup: Backup = room_keys.get(session.user_id, _required_version(request))
    room_keys.delete_keys(backup, request.path_params.get("room_id"), request.path_params.get("session_id"))
    return JSONResponse(backup.summary())


def _algorithm(body: JsonDict) -> str:
    algorithm = require_str(body, "algorithm")
    if algorithm not in ALGORITHMS:
        raise MatrixError(400, f"Unknown backup algorithm {algorithm!r}", Codes.INVALID_PARAM)
    return algorithm


def _required_version(request: Request) -> str:
    version = request.query_params.get("version")
    if not version:
        raise MatrixError(400, "Missing string query parameter 'version'", Codes.MISSING_PARAM)
    return version


def _room_sessions(entry: Any, room_id: str) -> Any:
    if not isinstance(entry, dict):
        raise MatrixError(400, f"'rooms.{room_id}' must be an object with 'sessions'", Codes.BAD_JSON)
    return require_object(entry, "sessions")


def _sessions(sessions: Any, room_id: str) -> dict[str, JsonDict]:
    if not isinstance(sessions, dict):
        raise MatrixError(400, f"'rooms.{room_id}' must be an object with 'sessions'", Codes.BAD_JSON)
    return {session_id: _key_data(data, f"{room_id}/{session_id}") for session_id, data in sessions.items()}


def _key_data(data: Any, where: str) -> JsonDict:
    """The spec's KeyBackupData, checked field by field (the comparison of keys relies on their types)."""
    if not isinstance(data, dict):
        raise MatrixError(400, f"Key data for {where} must be an object", Codes.BAD_JSON)
    for name, kind in _KEY_FIELDS:
        value = data.get(name)
        if value is None:
            raise MatrixError(400, f"Missing param: {name} (for {where})", Codes.MISSING_PARAM)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise MatrixError(400, f"{name} for {where} must be of type {kind.__name__}", Codes.BAD_JSON)
    return data
