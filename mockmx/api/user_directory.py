"""`POST /user_directory/search`: find users by id or display name."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, read_json_object, require_str
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.user_directory import search_users

DEFAULT_LIMIT = 10


async def search(request: Request) -> Response:
    session = authenticate(request)
    if session.is_guest:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    body = await read_json_object(request)
    term = require_str(body, "search_term")
    limit = body.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise MatrixError(400, "Param 'limit' must be an integer", Codes.BAD_JSON)
    return JSONResponse(search_users(homeserver(request), session.user_id, term, limit))
