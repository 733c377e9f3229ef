"""Room state: `GET /rooms/{roomId}/state`, and one state event read or set at `/state/{eventType}/{stateKey}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, parse_json_object, read_body
from mockmx.api.send import check_event_size
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.membership import is_forgotten
from mockmx.homeserver.state import set_state
from mockmx.homeserver.visibility import StateMap, readable_state

FORMATS = ("content", "event")


async def get_state(request: Request) -> Response:
    hs = homeserver(request)
    state = _readable(request)
    now = hs.clock_ms()
    return JSONResponse([event.serialize(now) for event in sorted(state.values(), key=lambda event: event.pos)])


async def get_state_event(request: Request) -> Response:
    event_format = request.query_params.get("format", "content")
    if event_format not in FORMATS:
        raise MatrixError(400, f"Query parameter 'format' must be one of {', '.join(FORMATS)}", Codes.INVALID_PARAM)
    state = _readable(request)
    event = state.get((request.path_params["event_type"], request.path_params.get("state_key", "")))
    if event is None:
        raise MatrixError(404, "Event not found.", Codes.NOT_FOUND)
    if event_format == "event":
        return JSONResponse(event.serialize(homeserver(request).clock_ms()))
    return JSONResponse(event.content)


async def put_state_event(request: Request) -> Response:
    session = authenticate(request)
    room_id, event_type = request.path_params["room"], request.path_params["event_type"]
    state_key = request.path_params.get("state_key", "")
    body = await read_body(request)
    check_event_size(body, room_id, session.user_id, event_type, state_key)
    content = parse_json_object(body)
    event = set_state(homeserver(request), room_id, session.user_id, event_type, state_key, content)
    return JSONResponse({"event_id": event.event_id})


def _readable(request: Request) -> StateMap:
    session = authenticate(request)
    hs = homeserver(request)
    room_id = request.path_params["room"]
    forgotten = is_forgotten(hs, session.user_id, room_id)
    return readable_state(hs.rooms.get(room_id), room_id, session.user_id, forgotten=forgotten)
