"""`PUT /rooms/{roomId}/redact/{eventId}/{txnId}`: redact an event, idempotently per transaction id."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, once_per_transaction, optional_str, parse_json_object
from mockmx.api.send import check_event_size
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.redaction import redact


async def redact_event(request: Request) -> Response:
    session = authenticate(request)
    params = request.path_params
    room_id, event_id, txn_id = params["room_id"], params["event_id"], params["txn_id"]

    def send(body: bytes) -> Response:
        check_event_size(body, room_id, session.user_id, "m.room.redaction", event_id)
        content = parse_json_object(body)
        optional_str(content, "reason")
        if content.get("redacts", event_id) != event_id:
            # As Synapse answers in room versions where `redacts` lives in the content.
            raise MatrixError(
                400,
                "Cannot provide a redacts value incoherent with the event_id of the URL parameter",
                Codes.INVALID_PARAM,
            )
        redaction = redact(
            homeserver(request), room_id, session.user_id, event_id, content, (session.device_id, txn_id)
        )
        return JSONResponse({"event_id": redaction.event_id})

    return await once_per_transaction(request, session, send)
