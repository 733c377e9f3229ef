"""CORS as every homeserver gives it (browsers' matrix-js-sdk needs it), paid for only by browser requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockmx.errors import Codes, MatrixError
from mockmx.web.errors import render


class BrowserCORS:
    """Starlette's CORSMiddleware for requests that carry an Origin header; the rest go straight on.

    Starlette's middleware wraps every response to add `Vary: Origin`, which cost a tenth of the mock's
    throughput under load; a request without Origin is no browser's, and a local mock sits behind no cache.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        if origin is None:
            await self.app(scope, receive, send)
        elif scope["path"].startswith(CONTROL_PREFIX):
            # The control API is for this machine's tools and the mock's own pages: no CORS at all, so another
            # site's page can neither read it nor preflight a PUT or DELETE; and the one kind of cross-site
            # change a browser sends unasked, a form-like POST, is refused before it runs.
            if scope["method"] not in ("GET", "HEAD") and not same_origin(origin, scope):
                await render(MatrixError(403, "The control API takes no cross-site requests", Codes.FORBIDDEN))(
                    scope, receive, send
                )
                return
            await self.app(scope, receive, send)
        else:
            await self.cors(scope, receive, send)


CONTROL_PREFIX = "/_mockmx/"


def same_origin(origin: bytes, scope: Scope) -> bool:
    """Whether the page that sent `Origin` is served from the host the request went to."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    return urlsplit(origin.decode("latin-1")).netloc.encode("latin-1") == host
