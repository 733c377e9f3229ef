"""The push gateway on the wire: `POST /_matrix/push/v1/notify`, and the journal under `/_mockmx/notifications`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import header, latest_world, read_json_object, world
from mockmx.control.changes import matching, wait_until
from mockmx.control.params import controlled, known_filters, waiting
from mockmx.push.gateway import FILTERS, Gateway, Notification
from mockmx.push.validate import validate_notification
from mockmx.web import json_gate
from mockmx.web.json_answer import JsonBytes

_NONE_REJECTED = b'{"rejected":[]}'  # the usual answer, encoded once


def gateway(request: Request) -> Gateway:
    return world(request).gateway


async def notify(request: Request) -> Response:
    notification = validate_notification(await read_json_object(request, decoder=json_gate.INT64_DECODER))
    client = request.scope.get("client")
    remote = f"{client[0]}:{client[1]}" if client is not None else "unknown"
    rejected = gateway(request).accept(notification, remote, header(request, b"user-agent"))
    if not rejected:
        return JsonBytes(_NONE_REJECTED)
    return JSONResponse({"rejected": rejected})


async def list_notifications(request: Request) -> Response:
    """The journal; with `wait` (ms) and `count`, as soon as `count` entries match (see mockmx/api/journals.py)."""
    wanted = known_filters(request, FILTERS)
    wait, count = waiting(request)

    def compute() -> tuple[list[Notification], bool]:
        return matching(latest_world(request).gateway.notifications(**wanted), count)  # a reset may come meanwhile

    entries = await wait_until(controlled(request).changes, wait, compute)
    return JSONResponse({"notifications": [entry.to_json() for entry in entries]})


async def clear_notifications(request: Request) -> Response:
    gateway(request).clear()
    return JSONResponse({})
