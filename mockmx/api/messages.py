"""Reading a room's history: `GET /rooms/{roomId}/messages`, `/context/{eventId}` and `/event/{eventId}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.pagination import query_direction, query_limit, query_token
from mockmx.api.request import authenticate, homeserver
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.event_filter import RoomEventFilter, parse_room_event_filter
from mockmx.homeserver.membership import is_forgotten
from mockmx.homeserver.relations import client_event
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.homeserver.timeline import Direction, is_readable, page, readable_room
from mockmx.homeserver.tokens import StreamToken
from mockmx.homeserver.visibility import state_at

DEFAULT_LIMIT = 10  # Synapse's, for /messages and /context


async def messages(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    direction = query_direction(request, default=None)  # required since v1.3, when `from` became optional
    start = query_token(request, "from")
    stop = query_token(request, "to")
    limit = query_limit(request, default=DEFAULT_LIMIT)
    keep = parse_room_event_filter(request.query_params.get("filter"))
    room, readable = readable_room(hs, request.path_params["room_id"], session.user_id)
    if start is None:
        # From the newest event backwards, or from the very first forwards.
        start = StreamToken(hs.pos, 0) if direction is Direction.BACKWARDS else StreamToken(0, 0)
    found = page(
        room,
        readable,
        start=start.room_pos,
        direction=direction,
        limit=limit,
        keep=keep,
        stop=stop.room_pos if stop is not None else None,
    )
    now = hs.clock_ms()
    viewer = (session.user_id, session.device_id)
    body: JsonDict = {
        "chunk": [client_event(room, event, now, viewer) for event in found.events],
        "start": request.query_params.get("from") or str(start),
    }
    if found.next_pos is not None:
        body["end"] = str(StreamToken(found.next_pos, start.to_device_pos))
    if keep.lazy_load_members:
        body["state"] = [event.serialize(now, viewer) for event in _senders_members(room, found.events)]
    return JSONResponse(body)


async def context(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    limit = query_limit(request, default=DEFAULT_LIMIT)
    keep = parse_room_event_filter(request.query_params.get("filter"))
    room, readable = readable_room(hs, request.path_params["room_id"], session.user_id)
    event = room.by_id.get(request.path_params["event_id"])
    if event is None or not is_readable(readable, event.pos):
        raise MatrixError(404, "Event not found.", Codes.NOT_FOUND)
    # Synapse's split of the limit: the smaller half before, the rest after.
    before = page(room, readable, start=event.pos - 1, direction=Direction.BACKWARDS, limit=limit // 2, keep=keep)
    after = page(room, readable, start=event.pos, direction=Direction.FORWARDS, limit=limit - limit // 2, keep=keep)
    start = (before.events[-1].pos if before.events else event.pos) - 1
    end = after.events[-1].pos if after.events else event.pos
    now = hs.clock_ms()
    viewer = (session.user_id, session.device_id)
    state = _context_state(room, end, keep, [*before.events, event, *after.events])
    return JSONResponse(
        {
            "event": client_event(room, event, now, viewer),
            "events_before": [client_event(room, e, now, viewer) for e in before.events],
            "events_after": [client_event(room, e, now, viewer) for e in after.events],
            "start": str(StreamToken(start, 0)),
            "end": str(StreamToken(end, 0)),
            "state": [e.serialize(now, viewer) for e in state],
        }
    )


async def get_event(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    room_id = request.path_params["room_id"]
    room = hs.rooms.get(room_id)
    event = room.by_id.get(request.path_params["event_id"]) if room is not None else None
    if room is not None and event is not None:
        readable = room.history.readable(session.user_id, forgotten=is_forgotten(hs, session.user_id, room_id))
        if readable is not None and is_readable(readable, event.pos):
            return JSONResponse(client_event(room, event, hs.clock_ms(), (session.user_id, session.device_id)))
    # The spec's answer both for an unknown event and for one the user may not see, so neither leaks.
    raise MatrixError(404, "Event not found.", Codes.NOT_FOUND)


def _senders_members(room: Room, events: list[Event]) -> list[Event]:
    """Lazy loading: the member events of the events' senders, once each."""
    members = (room.member_event(sender) for sender in dict.fromkeys(event.sender for event in events))
    return [member for member in members if member is not None]


def _context_state(room: Room, pos: int, keep: RoomEventFilter, events: list[Event]) -> list[Event]:
    """The state at the last event returned, filtered; lazy loading leaves only the returned senders' members."""
    state = state_at(room, pos)
    if keep.lazy_load_members:
        senders = {event.sender for event in events}
        state = {key: event for key, event in state.items() if key[0] != "m.room.member" or key[1] in senders}
    return [event for event in state.values() if keep.matches(event)]
