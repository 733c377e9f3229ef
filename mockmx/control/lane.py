"""A mock's app: Starlette, with a direct lane for the requests a load is made of.

Every request used to pass seven layers, each a coroutine call and most wrapping `send` again: browser CORS, the
control middleware (journal, faults, gate), raw-path routing, then Starlette's error middleware, its exception
middleware, its router and mount, and the endpoint's own exception wrapper. Together they cost more than the
endpoint of a room send itself. A request that none of those layers would change (no `Origin`, not the control
API, no fault rule set, a plain endpoint found by the route table) takes the lane instead: one step that
journals it, routes it on its raw path, runs the endpoint, renders its errors with the app's handlers, and sends
its response. Everything else goes through the layers as before, and answers as before.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockmx.control.journal import SCOPE_KEY
from mockmx.control.middleware import Controlled, kept
from mockmx.errors import MatrixError
from mockmx.web.errors import render
from mockmx.web.json_answer import JsonBytes
from mockmx.web.route_table import Found, RouteTable

# Responses whose whole body is there once built: sent as two messages, without their own __call__.
_READY = (Response, JSONResponse, JsonBytes)
_Handler = Callable[[Request, Exception], Awaitable[Response]]


class LaneApp(Starlette):
    """Starlette, its middleware stack behind the lane."""

    def __init__(self, *, controlled: Controlled, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._controlled = controlled

    def build_middleware_stack(self) -> ASGIApp:
        layers = super().build_middleware_stack()
        if self.max_body_size is not None:
            return layers  # a body limit of the app's own is one of the layers: every request takes them
        return Lane(self, self._controlled, layers=layers)


class Lane:
    """The app's outermost step: the lane for a request that qualifies, the layers for any other."""

    def __init__(self, app: Starlette, controlled: Controlled, *, layers: ASGIApp) -> None:
        self.app = app
        self.layers = layers
        self._controlled = controlled
        self._table = RouteTable(app.router.routes)
        # Starlette's split: the handler of Exception answers in its error middleware, the rest in its exception one.
        handlers = cast(dict[Any, _Handler], dict(app.exception_handlers))
        self._server_error = handlers.pop(Exception, None)
        self._handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path = scope["path"]
            if not path.startswith("/_mockmx") and not self._controlled.faults().rules:
                for name, _ in scope["headers"]:
                    if name == b"origin":
                        break
                else:
                    raw = scope.get("raw_path")
                    routed = raw.decode("latin-1") if raw and b"%" in raw else path
                    found = self._table.find(scope["method"], routed)
                    if found is not None:
                        await self._direct(scope, receive, send, found, routed)
                        return
        await self.layers(scope, receive, send)

    async def _direct(self, scope: Scope, receive: Receive, send: Send, found: Found, routed: str) -> None:
        journal = self._controlled.journal()
        entry = journal.begin(scope["method"], scope["path"], scope["query_string"], time.time(), time.perf_counter())
        entry.request_headers = scope["headers"]  # decoded when read
        # The scope as the layers would have left it: theirs in place, the raw path in a copy (the server's access
        # log reads the decoded path from the original), the route's as Starlette's router and mount set them.
        scope[SCOPE_KEY] = entry
        outer = scope
        if routed is not scope["path"]:
            scope = {**scope, "path": routed}
        scope["router"] = self.app.router
        scope["route"] = found.route
        scope["endpoint"] = found.endpoint
        scope["path_params"] = found.path_params
        if found.root_path:
            scope["app_root_path"] = scope.get("root_path", "")
            scope["root_path"] = found.root_path

        receive_kept, send_kept = kept(entry, receive, send)

        request = Request(scope, receive_kept, send)
        try:
            try:
                response = await found.endpoint(request)
            except MatrixError as error:
                response = render(error)
            except Exception as error:
                handler = self._handler_for(error)
                if handler is None:
                    raise
                response = await handler(request, error)
                error.__traceback__ = None  # as Starlette: a reused exception would gather tracebacks
            if type(response) in _READY:
                status, headers, body = response.status_code, response.raw_headers, response.body
                entry.status, entry.response_headers = status, headers
                entry.response_type = response.media_type  # else read from the headers, when the journal needs it
                if body:
                    entry.keep_response(cast(bytes, body))  # what `render` and the endpoints build
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                if response.background is not None:
                    await response.background()
            else:
                await response(scope, receive_kept, send_kept)
        except Exception as error:
            # As Starlette's error middleware: its handler (which logs the error) on the scope as it saw it, a 500
            # when nothing was sent yet, and the error on to the server.
            if self._server_error is not None:
                answer = await self._server_error(Request(outer, receive, send), error)
                if answer is not None and entry.status is None:
                    await answer(scope, receive, send)
            raise
        finally:
            entry.duration = time.perf_counter() - entry.started
            if entry.status is None:
                entry.status = 500
            journal.finished(entry)

    def _handler_for(self, error: Exception) -> _Handler | None:
        for kind in type(error).__mro__:
            handler = self._handlers.get(kind)
            if handler is not None:
                return handler
        return None
