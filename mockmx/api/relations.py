"""`GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]`: the events relating to
one, newest first by default, paginated with the same tokens as `/messages`."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.pagination import query_direction, query_limit, query_token
from mockmx.api.request import authenticate, homeserver, query_bool
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.history import FOREVER
from mockmx.homeserver.relations import client_event, relation_of
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.homeserver.timeline import Direction, is_readable, readable_room
from mockmx.homeserver.tokens import StreamToken

DEFAULT_LIMIT = 5  # Synapse's
RECURSION_DEPTH = 3  # the spec asks for at least 3 levels when recursing; Synapse goes to 3


async def relations(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    params = request.path_params
    direction = query_direction(request, default=Direction.BACKWARDS)
    start = query_token(request, "from")
    stop = query_token(request, "to")
    limit = query_limit(request, default=DEFAULT_LIMIT)
    recurse = query_bool(request, "recurse")
    room, readable = readable_room(hs, params["room_id"], session.user_id)
    parent = room.by_id.get(params["event_id"])
    if parent is None or not is_readable(readable, parent.pos):
        raise MatrixError(404, "Unknown parent event.", Codes.NOT_FOUND)

    related = _related(room, parent.event_id, recurse)
    rel_type, event_type = params.get("rel_type"), params.get("event_type")

    def wanted(event: Event) -> bool:
        relation = relation_of(event)
        return (
            (rel_type is None or (relation is not None and relation[0] == rel_type))
            and (event_type is None or event.type == event_type)
            and is_readable(readable, event.pos)
        )

    chunk, next_pos = _page(related, wanted, direction, limit, start, stop)
    now = hs.clock_ms()
    viewer = (session.user_id, session.device_id)
    body: JsonDict = {"chunk": [client_event(room, event, now, viewer) for event in chunk]}
    if next_pos is not None:
        body["next_batch"] = str(StreamToken(next_pos, 0))
    if start is not None:
        body["prev_batch"] = request.query_params["from"]
    if "recurse" in request.query_params:
        body["recursion_depth"] = RECURSION_DEPTH if recurse else 1
    return JSONResponse(body)


def _related(room: Room, parent_id: str, recurse: bool) -> list[Event]:
    """The events relating to the parent, in stream order; with `recurse`, those relating to them too, 3 deep."""
    if not recurse:
        return room.relations.children(parent_id)
    found: list[Event] = []
    parents = [parent_id]
    for _ in range(RECURSION_DEPTH):
        children = [child for parent in parents for child in room.relations.children(parent)]
        found += children
        parents = [child.event_id for child in children]
    return sorted(found, key=lambda event: event.pos)


def _page(
    related: list[Event],
    wanted: Callable[[Event], bool],
    direction: Direction,
    limit: int,
    start: StreamToken | None,
    stop: StreamToken | None,
) -> tuple[list[Event], int | None]:
    """Up to `limit` wanted events from the token on, and the position the next page starts at (None: no more)."""
    backwards = direction is Direction.BACKWARDS
    if backwards:
        index = bisect_right(related, start.room_pos if start else FOREVER, key=_pos) - 1
        candidates = (related[i] for i in range(index, -1, -1))
    else:
        index = bisect_right(related, start.room_pos if start else 0, key=_pos)
        candidates = (related[i] for i in range(index, len(related)))
    bound = stop.room_pos if stop is not None else None
    chunk: list[Event] = []
    for event in candidates:
        if bound is not None and (event.pos <= bound if backwards else event.pos > bound):
            break
        if not wanted(event):
            continue
        if len(chunk) >= limit:
            return chunk, event.pos if backwards else event.pos - 1
        chunk.append(event)
    return chunk, None


def _pos(event: Event) -> int:
    return event.pos
