"""Any ASGI app on uvicorn in a background thread, on a free loopback port: up in milliseconds, and down too."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from mockmx.hosting import http_url
from mockmx.limits import Limits
from mockmx.server import MockServer
from mockmx.web.protocol import uvicorn_settings

# `main_loop` and `shutdown` below are edited copies of uvicorn's, made from this release. With any other, the
# server runs uvicorn's own (0.2 s slower to stop, and right); tests/test_threaded.py fails until the copies are
# compared with the new release's and this is moved on.
COPIED_FROM_UVICORN = "0.54.0"
_COPIES_APPLY = uvicorn.__version__ == COPIED_FROM_UVICORN


class QuickServer(uvicorn.Server):
    """uvicorn that learns its URL once bound, and stops as soon as it is told to.

    uvicorn looks at `should_exit` every 0.1 s and then waits a fixed 0.1 s for connections to notice the
    shutdown: 0.2 s per server, which a test suite starting one per test pays hundreds of times over.
    """

    url: str | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def startup(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets)
        if self.started and self.url is None:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = http_url(host, port)

    async def main_loop(self) -> None:
        # uvicorn's loop, woken early by `stop`; on_tick keeps the Date header fresh.
        if not _COPIES_APPLY or self._wake is None:
            await super().main_loop()
            return
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: Any = None) -> None:
        # uvicorn's shutdown, polling for the connections to close instead of a fixed 0.1 s wait.
        if not _COPIES_APPLY:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 5
        while (self.server_state.connections or self.server_state.tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        for task in self.server_state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def stop(self) -> None:
        """Ask the server to stop (from any thread)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: it has stopped anyway
                loop.call_soon_threadsafe(wake.set)


class QuickMockServer(MockServer, QuickServer):
    """A mockmx app's server (long polls answered at shutdown, pushers aimed at itself) that stops at once."""


def config_for(app: Any, *, limits: Limits | None = None) -> uvicorn.Config:
    """uvicorn settings for a test server: loopback, a free port, no access log, the mock's limits."""
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="on",
        **uvicorn_settings(limits or Limits()),
    )


@contextlib.contextmanager
def serving(server: QuickServer, *, name: str = "mockmx", timeout: float = 10) -> Iterator[str]:
    """Run `server` in a daemon thread until the block ends; yields its URL."""
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{name}: the server did not start (see the log above)")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name}: the server did not start within {timeout} s")
        time.sleep(0.0005)
    assert server.url is not None
    try:
        yield server.url
    finally:
        server.stop()
        thread.join(timeout=timeout)
