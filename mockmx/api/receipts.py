"""Read receipts and the read marker: `POST /rooms/{roomId}/receipt/{receiptType}/{eventId}` and
`POST /rooms/{roomId}/read_markers`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.receipts import FULLY_READ, MAIN_THREAD, READ, READ_PRIVATE, RECEIPT_TYPES
from mockmx.homeserver.rooms import Event, Room
from mockmx.homeserver.server import Homeserver

_KNOWN_TYPES = (*RECEIPT_TYPES, FULLY_READ)


async def receipt(request: Request) -> Response:
    session = authenticate(request)
    params = request.path_params
    room_id, receipt_type, event_id = params["room_id"], params["receipt_type"], params["event_id"]
    if not room_id.startswith("!") or ":" not in room_id or not event_id.startswith("$"):
        raise MatrixError(400, "A valid room ID and event ID must be specified", Codes.UNKNOWN)
    if receipt_type not in _KNOWN_TYPES:
        raise MatrixError(400, f"Receipt type must be {', '.join(_KNOWN_TYPES)}", Codes.UNKNOWN)
    body = await read_json_object(request)
    thread_id = None
    if "thread_id" in body:
        thread_id = body["thread_id"]
        if not thread_id or not isinstance(thread_id, str):
            raise MatrixError(400, "thread_id field must be a non-empty string", Codes.INVALID_PARAM)
        if receipt_type == FULLY_READ:
            raise MatrixError(400, f"thread_id is not compatible with {FULLY_READ} receipts.", Codes.INVALID_PARAM)
    hs = homeserver(request)
    room, event = _joined_event(hs, session.user_id, room_id, event_id)
    if thread_id is not None and _thread_of(event) != thread_id and event.event_id != thread_id:
        raise MatrixError(400, f"event_id {event_id} is not related to thread {thread_id}", Codes.INVALID_PARAM)
    if receipt_type == FULLY_READ:
        _set_read_marker(hs, session.user_id, room, event)
    else:
        hs.receipts.put(room, session.user_id, receipt_type, event, thread_id, hs.clock_ms())
    return JSONResponse({})


async def read_markers(request: Request) -> Response:
    session = authenticate(request)
    room_id = request.path_params["room_id"]
    body = await read_json_object(request)
    hs = homeserver(request)
    targets: list[tuple[str, Room, Event]] = []
    # Synapse ignores the types it does not know, so that new ones can be added.
    for marker in (FULLY_READ, READ, READ_PRIVATE):
        event_id = body.get(marker)
        if event_id is None:
            continue
        if not isinstance(event_id, str):
            raise MatrixError(400, f"Param {marker!r} must be a string", Codes.BAD_JSON)
        targets.append((marker, *_joined_event(hs, session.user_id, room_id, event_id)))
    # All checked first, so that one bad event id changes nothing.
    for marker, room, event in targets:
        if marker == FULLY_READ:
            _set_read_marker(hs, session.user_id, room, event)
        else:
            hs.receipts.put(room, session.user_id, marker, event, None, hs.clock_ms())
    return JSONResponse({})


def _joined_event(hs: Homeserver, user_id: str, room_id: str, event_id: str) -> tuple[Room, Event]:
    room = hs.rooms.get(room_id)
    if room is None or user_id not in room.joined:
        raise MatrixError(403, f"User {user_id} not in room {room_id}", Codes.FORBIDDEN)
    event = room.by_id.get(event_id)
    if event is None:
        raise MatrixError(404, f"Could not find event {event_id} in room {room_id}", Codes.NOT_FOUND)
    return room, event


def _thread_of(event: Event) -> str:
    """The thread an event is in: its thread root's id, or `main` (thread roots themselves are in `main`)."""
    relates_to = event.content.get("m.relates_to")
    if isinstance(relates_to, dict) and relates_to.get("rel_type") == "m.thread":
        root = relates_to.get("event_id")
        if isinstance(root, str):
            return root
    return MAIN_THREAD


def _set_read_marker(hs: Homeserver, user_id: str, room: Room, event: Event) -> None:
    """`m.fully_read` room account data, moved only forward as Synapse does."""
    current = hs.account_data.get_room(user_id, room.room_id, FULLY_READ)
    marked = room.by_id.get(current.get("event_id", "")) if current is not None else None
    if marked is None or event.pos > marked.pos:
        hs.account_data.set_room(user_id, room.room_id, FULLY_READ, {"event_id": event.event_id})
