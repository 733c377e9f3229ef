"""`PUT /rooms/{roomId}/send/{eventType}/{txnId}`: a message event into a room."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockmx.api.request import authenticate, homeserver, once_per_transaction, parse_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.web.json_answer import JsonBytes

MAX_EVENT_BYTES = 65536  # the spec's limit on a whole event as the server stores it
# What a stored event adds around its content (ids, timestamps, hashes, signatures, auth and prev events) in
# Synapse's PDU encoding, so that the limit bites where a real server's does.
_ENVELOPE_BYTES = 600


async def send_message(request: Request) -> Response:
    session = authenticate(request)
    params = request.path_params
    room_id, event_type, txn_id = params["room_id"], params["event_type"], params["txn_id"]

    def send(body: bytes) -> Response:
        check_event_size(body, room_id, session.user_id, event_type)
        content = parse_json_object(body)
        event = homeserver(request).send_message(
            room_id, session.user_id, event_type, content, (session.device_id, txn_id)
        )
        return JsonBytes(_event_id_body(event.event_id))

    return await once_per_transaction(request, session, send)


def check_event_size(body: bytes, *envelope_fields: str) -> None:
    """413 when an event of this content, with these ids, type and state key around it, would pass the limit."""
    if len(body) + _ENVELOPE_BYTES + sum(map(len, envelope_fields)) > MAX_EVENT_BYTES:
        raise MatrixError(413, "Event too large", Codes.TOO_LARGE)


def _event_id_body(event_id: str) -> bytes:
    # The answer to every send, written out: the mock's event ids (`rooms.new_event_id`) are `$` and url-safe
    # base64, which JSON takes as they are.
    return b'{"event_id":"' + event_id.encode("ascii") + b'"}'
