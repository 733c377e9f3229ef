"""Membership by request: `POST /rooms/{roomId}/invite`, `/leave`, `/forget`, `/kick`, `/ban` and `/unban`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, optional_str, parse_json_object, read_body, require_str
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.membership import forget as forget_room
from mockmx.homeserver.membership import update_membership
from mockmx.homeserver.rooms import JsonDict


async def invite(request: Request) -> Response:
    return await _change_other(request, "invite")


async def kick(request: Request) -> Response:
    return await _change_other(request, "kick")


async def ban(request: Request) -> Response:
    return await _change_other(request, "ban")


async def unban(request: Request) -> Response:
    return await _change_other(request, "unban")


async def leave(request: Request) -> Response:
    session = authenticate(request)
    body = await _optional_body(request)
    room_id = request.path_params["room"]
    update_membership(homeserver(request), room_id, session.user_id, session.user_id, "leave", _reason(body))
    return JSONResponse({})


async def forget(request: Request) -> Response:
    session = authenticate(request)
    await _optional_body(request)
    forget_room(homeserver(request), request.path_params["room"], session.user_id)
    return JSONResponse({})


async def _change_other(request: Request, action: str) -> Response:
    """An invite, kick, ban or unban of the body's `user_id`, with its optional `reason`."""
    session = authenticate(request)
    if session.is_guest:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    body = parse_json_object(await read_body(request))
    target = require_str(body, "user_id")
    if not target.startswith("@") or ":" not in target:
        raise MatrixError(400, f"'{target}' is not a user id", Codes.INVALID_PARAM)
    room_id = request.path_params["room"]
    update_membership(homeserver(request), room_id, session.user_id, target, action, _reason(body))
    return JSONResponse({})


async def _optional_body(request: Request) -> dict[str, Any]:
    # /leave and /forget take an optional body (a reason); an empty one is fine, but what is sent must be an object.
    raw = await read_body(request)
    return parse_json_object(raw) if raw.strip() else {}


def _reason(body: dict[str, Any]) -> JsonDict:
    """The member event's content the request asks for: its `reason`, kept as the spec says."""
    reason = optional_str(body, "reason")
    return {"reason": reason} if reason is not None else {}
