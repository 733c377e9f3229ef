"""`GET /_mockmx/decrypted`: what the mock's encrypted users decrypted of what was sent to them, oldest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import homeserver
from mockmx.errors import Codes, MatrixError

FILTERS = ("room", "sender", "type")


async def list_decrypted(request: Request) -> Response:
    wanted = dict(request.query_params)
    unknown = sorted(set(wanted) - set(FILTERS))
    if unknown:
        raise MatrixError(400, f"Unknown filter {unknown}; expected some of: {', '.join(FILTERS)}", Codes.INVALID_PARAM)
    hs = homeserver(request)
    room_id = None
    if "room" in wanted:
        room = hs.resolve_room(wanted["room"])
        room_id = room.room_id if room is not None else wanted["room"]
    found = hs.encrypted_users.decrypted(room_id=room_id, sender=wanted.get("sender"), type=wanted.get("type"))
    return JSONResponse({"decrypted": found})
