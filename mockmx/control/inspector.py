"""The inspector: one page at `/_mockmx/` with its module and style, the event stream that keeps it live, what
it needs to know about the server, and the OpenAPI document of the whole control API."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from mockmx import __version__
from mockmx.control.gate import COOKIE, QUERY
from mockmx.control.params import controlled
from mockmx.hosting import hosted_by

KEEP_ALIVE_SECONDS = 15.0
COALESCE_SECONDS = 0.05  # a burst of changes is one message: the page reads each journal once per burst
_STATIC = {
    "": ("index.html", "text/html; charset=utf-8"),
    "inspector.js": ("inspector.js", "text/javascript; charset=utf-8"),
    "inspector.css": ("inspector.css", "text/css; charset=utf-8"),
}


@functools.cache
def _static(name: str) -> bytes:
    return (resources.files("mockmx") / "control" / "static" / name).read_bytes()


async def page(request: Request) -> Response:
    """The page, its module or its style (all in the package: nothing is fetched from elsewhere)."""
    file_name, media_type = _STATIC[request.url.path.rpartition("/")[2]]
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    response = Response(_static(file_name), media_type=media_type, headers=headers)
    token = request.query_params.get(QUERY)
    if token:  # it passed the gate: the page's own requests carry it from now on
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/_mockmx")
    return response


async def openapi(request: Request) -> Response:
    return Response(_static("openapi.json"), media_type="application/json")


async def info(request: Request) -> Response:
    """What the page shows in its header: which kind of server this is, and where."""
    from mockmx.replay.host import ReplayHost  # here: a mock need not load the replay, nor a replay the mock
    from mockmx.world import Mock

    host = hosted_by(request.app)
    shown: dict[str, Any] = {"version": __version__}
    if isinstance(host, Mock):
        scenario = host.world.scenario
        shown |= {"kind": "mock", "server_name": scenario.server_name, "source": scenario.source}
        shown |= {"resets": host.resets}
    elif isinstance(host, ReplayHost):
        shown |= {"kind": "replay", "recording": host.state.recording.source, "runs": host.runs}
    return JSONResponse(shown)


async def replay_flows(request: Request) -> Response:
    """A replay's recorded client requests, each answered or not yet played, with the misses and re-sent pushes."""
    from mockmx.replay.host import ReplayHost

    state = ReplayHost.of(request.app).state
    answered = set(state.answered)
    flows = [
        {"id": flow.id, "request": f"{flow.request.method} {flow.request.path}", "answered": flow.id in answered}
        for flow in state.recording.flows
        if flow.leg.value == "client"
    ]
    return JSONResponse({**state.to_json(), "flows": flows})


async def event_stream(request: Request) -> Response:
    """Server-sent events: `change` with the topics that changed (see control/changes.py), as they change."""
    changes = controlled(request).changes

    async def events() -> AsyncIterator[str]:
        pending = changes.subscribe()
        try:
            yield "retry: 1000\nevent: hello\ndata: {}\n\n"
            while not changes.closed:
                if not pending:
                    await changes.wait(KEEP_ALIVE_SECONDS)
                    if not pending:
                        yield ": keep-alive\n\n"
                        continue
                await asyncio.sleep(COALESCE_SECONDS)
                topics = sorted(pending)
                pending.clear()
                yield f"event: change\ndata: {json.dumps(topics)}\n\n"
        finally:
            changes.unsubscribe(pending)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
