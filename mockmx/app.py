"""`create_app`: a Starlette application serving one scenario's homeserver."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from mockmx.api import events, gateway, pushers, rooms, send, session, sync, to_device, versions
from mockmx.api.cors import BrowserCORS
from mockmx.api.paths import RawPathRouting
from mockmx.errors import Codes, MatrixError
from mockmx.faults import FaultMiddleware
from mockmx.homeserver.server import Homeserver
from mockmx.push.gateway import Gateway
from mockmx.push.sender import PushSender
from mockmx.scenario.model import Scenario
from mockmx.script import ScriptRunner
from mockmx.transactions import TransactionCache

log = logging.getLogger(__name__)

# The hottest routes first: Starlette tries them in order.
CLIENT_ROUTES = [
    Route("/rooms/{room_id:segment}/send/{event_type:segment}/{txn_id:segment}", send.send_message, methods=["PUT"]),
    Route("/sendToDevice/{event_type:segment}/{txn_id:segment}", to_device.send_to_device, methods=["PUT"]),
    Route("/sync", sync.sync, methods=["GET"]),
    Route("/events", events.events, methods=["GET"]),
    Route("/login", session.login_flows, methods=["GET"]),
    Route("/login", session.login, methods=["POST"]),
    Route("/logout", session.logout, methods=["POST"]),
    Route("/register", session.register, methods=["POST"]),
    Route("/account/whoami", session.whoami, methods=["GET"]),
    Route("/createRoom", rooms.create_room, methods=["POST"]),
    Route("/join/{room:segment}", rooms.join, methods=["POST"]),
    Route("/rooms/{room:segment}/join", rooms.join, methods=["POST"]),
    Route("/joined_rooms", rooms.joined_rooms, methods=["GET"]),
    Route("/user/{user_id:segment}/filter", sync.create_filter, methods=["POST"]),
    Route("/pushers", pushers.get_pushers, methods=["GET"]),
    Route("/pushers/set", pushers.set_pusher, methods=["POST"]),
    # -- rooms: state, members, membership, timeline --
    # -- accounts: start-up, profile, account data, presence, devices, registration --
    # -- ephemeral, directory and media --
]
# Synapse still serves these two under the pre-r0 prefix.
LEGACY_V1_ROUTES = [CLIENT_ROUTES[0], CLIENT_ROUTES[3]]

# The client API's current prefix, then the push gateway's notify: the two a load test sends to.
ROUTES: list[BaseRoute] = [
    Mount("/_matrix/client/v3", routes=CLIENT_ROUTES),
    Route("/_matrix/push/v1/notify", gateway.notify, methods=["POST"]),
    Mount("/_matrix/client/r0", routes=CLIENT_ROUTES),
    Mount("/_matrix/client/api/v1", routes=LEGACY_V1_ROUTES),
    Route("/_matrix/client/versions", versions.versions, methods=["GET"]),
    Route("/_mockmx/notifications", gateway.list_notifications, methods=["GET"]),
    Route("/_mockmx/notifications", gateway.clear_notifications, methods=["DELETE"]),
]


def create_app(*, scenario: Scenario) -> Starlette:
    """A mock homeserver for `scenario`; each call is independent, so several can run in one process."""
    hs = Homeserver(scenario)
    runner = ScriptRunner(hs, scenario.script)
    push_sender = PushSender(hs, scenario.push)
    hs.listeners.append(push_sender.on_event)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner.start()
        try:
            yield
        finally:
            await runner.stop()
            await push_sender.stop()
            hs.notifier.release_all()

    middleware = [
        Middleware(BrowserCORS),
    ]
    if scenario.faults:
        middleware.append(Middleware(FaultMiddleware, faults=scenario.faults))
    middleware.append(Middleware(RawPathRouting))
    app = Starlette(
        routes=ROUTES,
        middleware=middleware,
        exception_handlers={MatrixError: _matrix_error, HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.homeserver = hs
    app.state.push_sender = push_sender
    app.state.gateway = Gateway(scenario.reject)
    app.state.transactions = TransactionCache()
    app.state.scenario = scenario
    return app


def _render(error: MatrixError, extra_headers: Mapping[str, str] | None = None) -> Response:
    headers = {**error.headers, **(extra_headers or {})}
    return Response(error.body(), status_code=error.status, headers=headers, media_type="application/json")


async def _matrix_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MatrixError)  # Starlette dispatches by type; this narrows it for mypy
    return _render(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing misses: 404 for an unknown endpoint, 405 for a known one with the wrong method."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return _render(MatrixError(exc.status_code, "Unrecognized request", Codes.UNRECOGNIZED), exc.headers)
    return _render(MatrixError(exc.status_code, exc.detail, Codes.UNKNOWN), exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # A bug in mockmx, never the client's input: answer as Synapse does, and keep the traceback in the log only.
    log.exception("internal error on %s %s", request.method, request.url.path)
    return _render(MatrixError(500, "Internal server error", Codes.UNKNOWN))
