"""uvicorn, fitted to a mockmx app: it tells the app its URL once bound and has long polls answered at shutdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mockmx.hosting import Hosted, hosted_by, http_url


class MockServer(uvicorn.Server):
    """Serves an app from `create_app`; `on_started(url)` runs once the port is bound (so port 0 works)."""

    def __init__(self, config: uvicorn.Config, *, on_started: Callable[[str], None] | None = None) -> None:
        super().__init__(config)
        self.on_started = on_started
        self.url: str | None = None

    @property
    def hosted(self) -> Hosted:
        return hosted_by(self.config.app)  # MockServer serves only apps from create_app and create_replay_app

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = http_url(host, port)
            self.hosted.bound_at(self.url)
            if self.on_started is not None:
                self.on_started(self.url)

    async def shutdown(self, sockets: Any = None) -> None:
        # Pending /sync and /events polls answer now, empty, instead of holding shutdown up until their timeout.
        self.hosted.release_long_polls()
        await super().shutdown(sockets)


def server_config(app: Starlette, *, host: str, port: int, quiet: bool) -> uvicorn.Config:
    """uvicorn settings for the command line's servers: a line per request unless quiet, a short grace at Ctrl-C."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=not quiet,
        log_level="warning" if quiet else "info",
        timeout_graceful_shutdown=5,
    )
