"""uvicorn's httptools protocol with the mock's limits on connections and request heads, and Matrix error bodies
where uvicorn would answer in plain text.

uvicorn closes an idle connection only after it has answered on it, reads request heads of any size (httptools
has no limit), and its `limit_concurrency` and bad-request answers are plain text. Here: a connection has
`request_timeout` seconds to send each whole request head (408 if it began one, else it is just closed), a head
past `max_header_bytes` gets 431, a request on a connection past `max_connections` gets 503 M_LIMIT_EXCEEDED,
and a request httptools cannot parse gets a Matrix 400. A refusal of a pipelined request waits for the answers to
the requests before it. Heads are measured as their bytes arrive, up to the blank line that ends each: a head that
begins in the same read as the end of the request before it is measured from the next read on, so a client that
pipelines may send up to one read more (uvloop reads up to 256,000 bytes at a time). Uses uvicorn's protocol hooks
(`connection_made`, `data_received`, the parser callbacks), and replaces one: `on_response_complete`, uvicorn 0.54's
own without its keep-alive timer (tests/test_limits.py pins its source).

The idle and head deadlines are kept by one sweep per server rather than a timer per connection: uvicorn arms a
keep-alive timer at every answer and cancels it at the next request's first bytes, and a head timer here did the
same, four timer operations on every request. A sweep every quarter of the shorter timeout looks at each
connection's time of last answer instead, so a deadline is met up to a quarter of it late.
"""

from __future__ import annotations

import asyncio
import weakref
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
        # Since when the connection has waited for a request head: its start, then each answer; None while a
        # request is read or answered. `_answered`: whether the keep-alive time applies to the wait.
        self._waiting_since: float | None = self.loop.time()
        self._answered = False
        self._refusal: MatrixError | None = None  # waiting for the answers owed before it (`_refuse`)
        sweep = _SWEEPS.get(self.server_state)
        if sweep is None:
            sweep = _SWEEPS[self.server_state] = _Sweep(self.loop, self.connections, self.limits)
        sweep.start()

    def expire(self, now: float) -> None:
        """Close the connection, or refuse its head with a 408, if it has waited past its deadline by `now`."""
        since = self._waiting_since
        if since is None or self._discarding or self.transport.is_closing():
            return
        limits = self.limits
        if self._head_bytes:  # a head begun: only the request timeout applies, as uvicorn stops keep-alive at a byte
            if now - since >= limits.request_timeout:
                self._refuse(MatrixError(408, "Timed out waiting for the request", Codes.UNKNOWN))
            return
        idle = min(limits.request_timeout, limits.keep_alive_timeout) if self._answered else limits.request_timeout
        if now - since >= idle:
            self.transport.close()  # an idle connection: nothing to answer

    def _refuse(self, error: MatrixError) -> None:
        """Answer `error` and close: at once, or, when a request before it is still being answered (pipelined,
        its body all read), once that answer and those of any requests between are sent, in their turn."""
        # Closing with unread bytes would send a reset, which can destroy the answer before the client reads it:
        # what still comes is read and dropped, then the connection closes.
        self._discarding = True
        self._waiting_since = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            self._refusal = error  # sent by on_response_complete
            return
        self._send_refusal(error)

    def _send_refusal(self, error: MatrixError) -> None:
        self.transport.write(_raw_answer(error))
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        # Bytes after an answer end its keep-alive time, as they stop uvicorn's timer: a head begun, or the rest of
        # a body the app answered without reading, has the request timeout from the answer.
        self._answered = False
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
        if not self._discarding:  # else an answer is on its way already
            self._refuse(MatrixError(400, msg, Codes.UNKNOWN))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._head_tail = b""
        self._waiting_since = None
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
        # uvicorn 0.54's own, but for its keep-alive timer: the sweep keeps that deadline.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._refusal is not None:  # a pipelined request refused, its turn come
            self._send_refusal(self._refusal)
        else:
            self._waiting_since = self.loop.time()
            self._answered = True


# Each server's sweep, by its uvicorn state (the connections and counters its protocols share).
_SWEEPS: weakref.WeakKeyDictionary[Any, _Sweep] = weakref.WeakKeyDictionary()


class _Sweep:
    """One server's deadline keeper: while it has connections, every quarter of the shorter timeout it expires
    those that have waited too long."""

    def __init__(self, loop: asyncio.AbstractEventLoop, connections: set[Any], limits: Limits) -> None:
        self.loop = loop
        self.connections = connections
        self.interval = max(0.01, min(limits.request_timeout, limits.keep_alive_timeout) / 4)
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._handle is None:
            self._handle = self.loop.call_later(self.interval, self._run)

    def _run(self) -> None:
        self._handle = None
        now = self.loop.time()
        for connection in list(self.connections):
            if isinstance(connection, LimitedProtocol):
                connection.expire(now)
        if self.connections:
            self.start()


def protocol_for(limits: Limits) -> type[LimitedProtocol]:
    """A protocol class enforcing `limits`, for `uvicorn.Config(http=...)` (one per server: servers may differ)."""
    return type("LimitedProtocol", (LimitedProtocol,), {"limits": limits})


def uvicorn_settings(limits: Limits) -> dict[str, Any]:
    """The `uvicorn.Config` keywords that apply `limits`."""
    return {
        "http": protocol_for(limits),
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
