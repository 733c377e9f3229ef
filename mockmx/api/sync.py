"""`GET /sync` (long poll) and the filters clients upload for it."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, query_bool, query_timeout_ms, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.notifier import long_poll
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.sync import DEFAULT_TIMELINE_LIMIT, sync_response
from mockmx.homeserver.tokens import StreamToken

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
    full_state = query_bool(request, "full_state")
    timeout_ms = query_timeout_ms(request)
    limit = _timeline_limit(hs, session.user_id, request.query_params.get("filter"))
    # A first sync, or one asking for full state, answers at once; an incremental one waits for news.
    if since is None or full_state:
        timeout_ms = 0
    body = await long_poll(
        hs.notifier,
        (session.user_id,),
        timeout_ms,
        lambda: sync_response(hs, session, since, full_state=full_state, timeline_limit=limit),
    )
    return JSONResponse(body)


def _timeline_limit(hs: Homeserver, user_id: str, raw: str | None) -> int:
    """The filter's `room.timeline.limit`: the filter is inline JSON or the id of an uploaded one."""
    if not raw:
        return DEFAULT_TIMELINE_LIMIT
    definition: Any = hs.filters.get((user_id, raw))
    if definition is None:
        if not raw.lstrip().startswith("{"):
            raise MatrixError(400, "No such filter", Codes.INVALID_PARAM)
        try:
            definition = json.loads(raw)
        except (ValueError, RecursionError):
            raise MatrixError(400, "Invalid filter JSON", Codes.NOT_JSON) from None
    limit: Any = DEFAULT_TIMELINE_LIMIT
    room = definition.get("room") if isinstance(definition, dict) else None
    timeline = room.get("timeline") if isinstance(room, dict) else None
    if isinstance(timeline, dict):
        limit = timeline.get("limit", DEFAULT_TIMELINE_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise MatrixError(400, "room.timeline.limit must be a non-negative integer", Codes.BAD_JSON)
    return min(limit, MAX_TIMELINE_LIMIT)


async def create_filter(request: Request) -> Response:
    session = authenticate(request)
    user_id = request.path_params["user_id"]
    if user_id != session.user_id:
        raise MatrixError(403, "Cannot create filters for other users", Codes.FORBIDDEN)
    definition = await read_json_object(request)
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
