"""Who is in a room: `GET /rooms/{roomId}/members` (member events, filtered) and `/joined_members` (profiles)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.membership import is_forgotten
from mockmx.homeserver.rooms import Event, JsonDict
from mockmx.homeserver.tokens import StreamToken
from mockmx.homeserver.visibility import DEPARTED, membership_of, readable_state, state_at

MEMBERSHIPS = ("join", "invite", "knock", "leave", "ban")


async def members(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    room_id = request.path_params["room"]
    membership = _membership_param(request, "membership")
    not_membership = _membership_param(request, "not_membership")
    at = _at_param(request)
    room = hs.rooms.get(room_id)
    state = readable_state(room, room_id, session.user_id, forgotten=is_forgotten(hs, session.user_id, room_id))
    if at is not None and room is not None:
        until = at.room_pos
        if membership_of(room, session.user_id) in DEPARTED:
            until = min(until, room.membership_pos(session.user_id))  # nothing after they left
        state = state_at(room, until)
    now = hs.clock_ms()
    chunk = [
        event.serialize(now)
        for (event_type, _), event in sorted(state.items(), key=lambda item: item[1].pos)
        if event_type == "m.room.member" and _wanted(event, membership, not_membership)
    ]
    return JSONResponse({"chunk": chunk})


async def joined_members(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    room_id = request.path_params["room"]
    room = hs.rooms.get(room_id)
    # Those who may not read the room at all hear so first, as from Synapse; then departed members are refused.
    readable_state(room, room_id, session.user_id, forgotten=is_forgotten(hs, session.user_id, room_id))
    if room is None or (session.user_id not in room.joined and not room.world_readable):
        raise MatrixError(
            403,
            "Getting joined members while not being a current member of the room is forbidden.",
            Codes.FORBIDDEN,
        )
    joined = {}
    for user_id in sorted(room.joined):
        event = room.member_event(user_id)
        joined[user_id] = _profile(event.content if event is not None else {})
    return JSONResponse({"joined": joined})


def _profile(content: JsonDict) -> JsonDict:
    # Synapse sends null for an unset name or avatar; the spec's RoomMember has strings only, so unset is left out.
    profile: JsonDict = {}
    if isinstance(content.get("displayname"), str):
        profile["display_name"] = content["displayname"]
    if isinstance(content.get("avatar_url"), str):
        profile["avatar_url"] = content["avatar_url"]
    return profile


def _wanted(event: Event, membership: str | None, not_membership: str | None) -> bool:
    value = event.content.get("membership")
    if membership is not None and not_membership is not None:
        return value == membership or value != not_membership  # the spec: given both, either one lets it through
    if membership is not None:
        return value == membership
    if not_membership is not None:
        return value != not_membership
    return True


def _membership_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in MEMBERSHIPS:
        raise MatrixError(400, f"Query parameter {name!r} must be one of {', '.join(MEMBERSHIPS)}", Codes.INVALID_PARAM)
    return value


def _at_param(request: Request) -> StreamToken | None:
    raw = request.query_params.get("at")
    if raw is None:
        return None
    token = StreamToken.parse(raw)
    if token is None:
        raise MatrixError(400, "Invalid stream token", Codes.UNKNOWN)
    return token
