"""`GET /events`: the legacy event stream, a long poll over the caller's rooms (or, for guests, one room)."""

from __future__ import annotations

import heapq
from itertools import islice

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, query_timeout_ms
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.notifier import long_poll
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.tokens import StreamToken

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000


async def events(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    raw_from = request.query_params.get("from")
    if raw_from:
        start = StreamToken.parse(raw_from)
        if start is None:
            raise MatrixError(400, "'from' parameter is invalid", Codes.UNKNOWN)
        # Synapse's `end` for a token from the future is its current position; bounded here, the events sent
        # during the long poll are not lost on the way there either.
        start = start.bounded_by(hs.current_token())
    else:
        start = hs.current_token()
    timeout_ms = query_timeout_ms(request)
    limit = _limit(request)
    room_ids = request.query_params.getlist("room_id")
    if room_ids:
        rooms = [_readable_room(hs, session, room_id) for room_id in room_ids]
        keys = [room.room_id for room in rooms]
    elif session.is_guest:
        raise MatrixError(400, "Guest users must specify room_id param", Codes.UNKNOWN)
    else:
        rooms = None  # the caller's joined rooms, looked up afresh at each wake-up: joins count too
        keys = [session.user_id]

    viewer = (session.user_id, session.device_id)

    def chunk() -> tuple[JsonDict, bool]:
        watched = rooms if rooms is not None else [hs.rooms[room_id] for room_id in hs.rooms_of(session.user_id)]
        found = _events_after(watched, start.room_pos, limit)
        end = found[-1].pos if len(found) == limit else hs.pos
        now = hs.clock_ms()
        body = {
            "chunk": [event.serialize(now, viewer) for event in found],
            "start": str(start),
            "end": str(StreamToken(max(end, start.room_pos), start.to_device_pos)),
        }
        return body, bool(found)

    body = await long_poll(hs.notifier, keys, timeout_ms, chunk)
    return JSONResponse(body)


def _readable_room(hs: Homeserver, session: Session, room_id: str) -> Room:
    """A room the caller may stream: one it is joined to, or (peeking) a world-readable, guest-accessible one."""
    room = hs.rooms.get(room_id)
    if room is not None and session.user_id in room.joined:
        return room
    if room is not None and room.world_readable and (room.guest_can_join or not session.is_guest):
        return room
    raise MatrixError(
        403, f"User {session.user_id} not in room {room_id}, and room previews are disabled", Codes.FORBIDDEN
    )


def _events_after(rooms: list[Room], pos: int, limit: int) -> list[Event]:
    if len(rooms) == 1:
        return rooms[0].events_after(pos, limit)
    streams = [room.events_after(pos, limit) for room in rooms]
    return list(islice(heapq.merge(*streams, key=lambda event: event.pos), limit))


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise MatrixError(400, "Query parameter 'limit' must be an integer", Codes.INVALID_PARAM) from None
    return min(max(value, 1), MAX_LIMIT)
