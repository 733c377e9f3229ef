"""`GET /_mockmx/pushes`: what became of the mock homeserver's pushes: per pusher sent, given up on, dropped and
waiting, and the most recent pushes given up on, with why."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import world


async def list_pushes(request: Request) -> Response:
    sender = world(request).push_sender
    return JSONResponse(sender.deliveries.to_json(sender.queued()))
