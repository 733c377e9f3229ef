"""`GET /sync` (long poll) and the filters clients upload for it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, query_bool, query_timeout_ms, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.filter_definition import check_filter
from mockmx.homeserver.notifier import long_poll
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.sync import DEFAULT_TIMELINE_LIMIT, sync_response
from mockmx.homeserver.tokens import StreamToken
from mockmx.web import json_gate

MAX_TIMELINE_LIMIT = 1000


async def sync(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    since = None
    raw_since = request.query_params.get("since")
    if raw_since:
        since = StreamToken.parse(raw_since)
        if since is None:
            raise MatrixError(400, "Invalid stream token", Codes.UNKNOWN)
        since = since.bounded_by(hs.current_token())
    full_state = query_bool(request, "full_state")
    timeout_ms = query_timeout_ms(request)
    definition = _filter_definition(hs, session.user_id, request.query_params.get("filter"))
    limit = _timeline_limit(definition)
    include_leave = _include_leave(definition)
    thread_counts = _unread_thread_notifications(definition)
    # A first sync, or one asking for full state, answers at once; an incremental one waits for news.
    if since is None or full_state:
        timeout_ms = 0
    body = await long_poll(
        hs.notifier,
        (session.user_id,),
        timeout_ms,
        lambda: sync_response(
            hs,
            session,
            since,
            full_state=full_state,
            timeline_limit=limit,
            include_leave=include_leave,
            thread_counts=thread_counts,
        ),
    )
    return JSONResponse(body)


def _filter_definition(hs: Homeserver, user_id: str, raw: str | None) -> Any:
    """The sync's filter: inline JSON or the id of an uploaded one (None without a filter)."""
    if not raw:
        return None
    definition: Any = hs.filters.get((user_id, raw))
    if definition is None:
        if not raw.lstrip().startswith("{"):
            raise MatrixError(400, "No such filter", Codes.INVALID_PARAM)
        try:
            definition = json_gate.decode(raw)  # the one gate, as for bodies
        except (ValueError, RecursionError):
            raise MatrixError(400, "Invalid filter JSON", Codes.NOT_JSON) from None
    return definition


def _timeline_limit(definition: Any) -> int:
    """The filter's `room.timeline.limit`."""
    limit: Any = DEFAULT_TIMELINE_LIMIT
    room = definition.get("room") if isinstance(definition, dict) else None
    timeline = room.get("timeline") if isinstance(room, dict) else None
    if isinstance(timeline, dict):
        limit = timeline.get("limit", DEFAULT_TIMELINE_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise MatrixError(400, "room.timeline.limit must be a non-negative integer", Codes.BAD_JSON)
    return min(limit, MAX_TIMELINE_LIMIT)


def _include_leave(definition: Any) -> bool:
    """The filter's `room.include_leave`: whether a first sync lists the rooms the user left."""
    room = definition.get("room") if isinstance(definition, dict) else None
    include_leave = room.get("include_leave", False) if isinstance(room, dict) else False
    if not isinstance(include_leave, bool):
        raise MatrixError(400, "room.include_leave must be a boolean", Codes.BAD_JSON)
    return include_leave


def _unread_thread_notifications(definition: Any) -> bool:
    """The filter's `room.timeline.unread_thread_notifications`: whether counts come per thread."""
    room = definition.get("room") if isinstance(definition, dict) else None
    timeline = room.get("timeline") if isinstance(room, dict) else None
    wanted = timeline.get("unread_thread_notifications", False) if isinstance(timeline, dict) else False
    if not isinstance(wanted, bool):
        raise MatrixError(400, "room.timeline.unread_thread_notifications must be a boolean", Codes.BAD_JSON)
    return wanted


async def create_filter(request: Request) -> Response:
    session = authenticate(request)
    user_id = request.path_params["user_id"]
    if user_id != session.user_id:
        raise MatrixError(403, "Cannot create filters for other users", Codes.FORBIDDEN)
    definition = await read_json_object(request)
    check_filter(definition)
    hs = homeserver(request)
    filter_id = str(len(hs.filters))
    hs.filters[(session.user_id, filter_id)] = definition
    return JSONResponse({"filter_id": filter_id})


async def get_filter(request: Request) -> Response:
    session = authenticate(request)
    if request.path_params["user_id"] != session.user_id:
        raise MatrixError(403, "Cannot get filters for other users", Codes.FORBIDDEN)
    definition = homeserver(request).filters.get((session.user_id, request.path_params["filter_id"]))
    if definition is None:
        raise MatrixError(404, "No such filter", Codes.NOT_FOUND)
    return JSONResponse(definition)
