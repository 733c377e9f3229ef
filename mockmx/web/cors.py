"""CORS as every homeserver gives it (browsers' matrix-js-sdk needs it), paid for only by browser requests."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


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
        if scope["type"] == "http" and any(name == b"origin" for name, _ in scope["headers"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
