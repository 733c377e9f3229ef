"""`GET /notifications`: the events the user was notified about (by their push rules), newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.pagination import query_limit
from mockmx.api.request import authenticate_user, homeserver
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.rooms import JsonDict

DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # Synapse's cap


async def notifications(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    before = _from_token(request.query_params.get("from"))
    limit = query_limit(request, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    only_highlight = request.query_params.get("only") == "highlight"  # other values filter nothing, as in Synapse
    hs = homeserver(request)
    log = hs.notifications
    found, more = log.page(user_id, before, limit, only_highlight=only_highlight)
    now = hs.clock_ms()
    listed: list[JsonDict] = []
    for notified in found:
        stored = hs.rooms[notified.room_id].by_id.get(notified.event_id)
        if stored is None:
            continue  # the event fell out of its room's timeline (`limits.max_room_events`)
        event = stored.serialize(now, (user_id, ""))
        del event["room_id"]
        listed.append(
            {
                "room_id": notified.room_id,
                "actions": notified.actions,
                "ts": notified.ts,
                "read": log.is_read(user_id, notified),
                "event": event,
            }
        )
    body: JsonDict = {"notifications": listed}
    if more and found:  # the spec: without `next_token` there are no more results
        body["next_token"] = str(found[-1].pos)
    return JSONResponse(body)


def _from_token(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise MatrixError(400, 'Query parameter "from" contains unrecognised token', Codes.INVALID_PARAM)
    return int(raw)
