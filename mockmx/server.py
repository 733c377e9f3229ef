"""uvicorn, fitted to a mockmx app: it learns its own URL once bound and answers long polls at shutdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import uvicorn
from starlette.applications import Starlette

from mockmx.homeserver.server import Homeserver


class MockServer(uvicorn.Server):
    """Serves an app from `create_app`; `on_started(url)` runs once the port is bound (so port 0 works)."""

    def __init__(self, config: uvicorn.Config, *, on_started: Callable[[str], None] | None = None) -> None:
        super().__init__(config)
        self.on_started = on_started
        self.url: str | None = None

    @property
    def homeserver(self) -> Homeserver:
        app = cast(Starlette, self.config.app)  # MockServer serves only apps from create_app
        return cast(Homeserver, app.state.homeserver)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
            # Pushers aimed at a path on the mock itself need to know where that is.
            self.homeserver.base_url = self.url
            if self.on_started is not None:
                self.on_started(self.url)

    async def shutdown(self, sockets: Any = None) -> None:
        # Pending /sync and /events polls answer now, empty, instead of holding shutdown up until their timeout.
        self.homeserver.notifier.release_all()
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
