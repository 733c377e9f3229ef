"""`PUT /sendToDevice/{eventType}/{txnId}`: messages to devices, outside any room."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockmx.api.request import authenticate, homeserver, once_per_transaction, parse_json_object, require_object
from mockmx.errors import Codes, MatrixError
from mockmx.web.json_answer import JsonBytes

_EMPTY = b"{}"  # exactly `{}`: matrix-nio's response schema rejects any extra key


async def send_to_device(request: Request) -> Response:
    session = authenticate(request)
    event_type = request.path_params["event_type"]

    def send(body: bytes) -> Response:
        messages = _messages(parse_json_object(body))
        homeserver(request).send_to_device(session.user_id, event_type, messages)
        return JsonBytes(_EMPTY)

    return await once_per_transaction(request, session, send)


def _messages(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`messages` checked against the spec's shape: {user_id: {device_id: content object}}."""
    messages = require_object(body, "messages")
    for user_id, by_device in messages.items():
        if not isinstance(by_device, dict):
            raise MatrixError(400, f"'messages.{user_id}' must be an object of device ids", Codes.BAD_JSON)
        for device_id, content in by_device.items():
            if not isinstance(content, dict):
                raise MatrixError(400, f"'messages.{user_id}.{device_id}' must be an object", Codes.BAD_JSON)
    return messages
