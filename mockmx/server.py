"""uvicorn, fitted to a mockmx app: it tells the app its URL once bound and has long polls answered at shutdown."""

from __future__ import annotations

import copy
import errno
import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import LOGGING_CONFIG

from mockmx.hosting import Hosted, hosted_by, http_url
from mockmx.limits import Limits
from mockmx.web.protocol import uvicorn_settings


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


def server_config(app: Starlette, *, host: str, port: int, quiet: bool, limits: Limits | None = None) -> uvicorn.Config:
    """uvicorn settings for the command line's servers: a line per request unless quiet, a short grace at Ctrl-C.

    uvicorn's own start and stop lines are left out (the banner says where the server listens, and how to stop
    it); mockmx's log (a fault rule that acted, a scripted event that ran) shows unless quiet."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=not quiet,
        log_config=_log_config(quiet),
        timeout_graceful_shutdown=5,
        **uvicorn_settings(limits or Limits()),  # connections, request heads, Matrix errors for uvicorn's own
    )


def _log_config(quiet: bool) -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"] = {"level": "WARNING"}
    config["loggers"]["uvicorn.access"]["level"] = "WARNING" if quiet else "INFO"
    config["loggers"]["mockmx"] = {"handlers": ["default"], "level": "WARNING" if quiet else "INFO", "propagate": False}
    return config


def bind(host: str, port: int, program: str) -> socket.socket:
    """A listening socket at `host`:`port` for uvicorn to serve on; a SystemExit saying what to do when it cannot
    be had (a port in use, an address not of this machine), instead of uvicorn's error after its start-up lines."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = f"port {port} on {host} is in use; stop what uses it, or choose --port (--port 0 picks a free one)"
        else:
            reason = f"cannot listen on {host} port {port}: {error.strerror or error}"
        print(f"{program}: {reason}", file=sys.stderr)
        raise SystemExit(2) from None
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` is reached only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def beyond_loopback_warning(host: str, program: str) -> str:
    """What a server bound beyond loopback says first: the scenario's tokens and passwords are open to others."""
    return (
        f"{program}: warning: listening on {host}, reachable from other machines: anyone who can reach it can use "
        "the fixed access tokens and passwords it serves (bind to 127.0.0.1, the default, to keep them local)"
    )
