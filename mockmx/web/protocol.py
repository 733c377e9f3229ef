"""uvicorn's httptools protocol with the mock's limits on connections and request heads, and Matrix error bodies
where uvicorn would answer in plain text.

uvicorn closes an idle connection only after it has answered on it, reads request heads of any size (httptools
has no limit), and its `limit_concurrency` and bad-request answers are plain text. Here: a connection has
`request_timeout` seconds to send each whole request head (408 if it began one, else it is just closed), a head
past `max_header_bytes` gets 431, a request on a connection past `max_connections` gets 503 M_LIMIT_EXCEEDED,
and a request httptools cannot parse gets a Matrix 400. Uses uvicorn's public protocol hooks only
(`connection_made`, `data_received`, the parser callbacks, `on_response_complete`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockmx.errors import Codes, MatrixError
from mockmx.limits import Limits
from mockmx.web.errors import render

_LINGER_SECONDS = 0.5
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def _raw_answer(error: MatrixError) -> bytes:
    body = error.body()
    reason = _REASONS.get(error.status, b"Error")
    head = [
        b"HTTP/1.1 %d %s" % (error.status, reason),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def _too_many_connections(scope: Any, receive: Any, send: Any) -> None:
    error = MatrixError(
        503,
        "Too many connections: try again shortly",
        Codes.LIMIT_EXCEEDED,
        extra={"retry_after_ms": 1000},
        headers={"Retry-After": "1", "Connection": "close"},
    )
    await render(error)(scope, receive, send)


class LimitedProtocol(HttpToolsProtocol):
    limits: Limits = Limits()  # set per server by `protocol_for`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._head_tail = b""
        self._in_head = True
        self._discarding = False
        self._over_limit = len(self.connections) > self.limits.max_connections
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.request_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(MatrixError(408, "Timed out waiting for the request", Codes.UNKNOWN))
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def _refuse(self, error: MatrixError) -> None:
        self.transport.write(_raw_answer(error))
        # Closing with unread bytes would send a reset, which can destroy the answer before the client reads it:
        # what still comes is read and dropped for a moment, then the connection closes.
        self._discarding = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._in_head and self._head_too_long(data):
            self._in_head = False
            limit = self.limits.max_header_bytes
            self._refuse(MatrixError(431, f"Request line and headers over {limit} bytes", Codes.TOO_LARGE))
            return
        super().data_received(data)

    def _head_too_long(self, data: bytes) -> bool:
        """Whether the request head, `data` added, runs past the limit. A read may hold the head's end and the body
        after it: only what comes before the blank line that ends the head counts."""
        window = self._head_tail + data  # the tail: the last bytes already counted, for an end split across reads
        end = window.find(b"\r\n\r\n")
        if end >= 0:
            head = self._head_bytes - len(self._head_tail) + end + 4
            self._head_tail = b""
            return head > self.limits.max_header_bytes
        self._head_bytes += len(data)
        self._head_tail = window[-3:]
        return self._head_bytes > self.limits.max_header_bytes

    def send_400_response(self, msg: str) -> None:
        self._refuse(MatrixError(400, msg, Codes.UNKNOWN))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._head_tail = b""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if not self._over_limit:
            super().on_headers_complete()
            return
        app, self.app = self.app, _too_many_connections
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what comes next on this connection is the next request's head

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)


def protocol_for(limits: Limits) -> type[LimitedProtocol]:
    """A protocol class enforcing `limits`, for `uvicorn.Config(http=...)` (one per server: servers may differ)."""
    return type("LimitedProtocol", (LimitedProtocol,), {"limits": limits})


def uvicorn_settings(limits: Limits) -> dict[str, Any]:
    """The `uvicorn.Config` keywords that apply `limits`."""
    return {
        "http": protocol_for(limits),
        "timeout_keep_alive": max(1, round(limits.keep_alive_timeout)),
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
