"""The one middleware of the control plane: the gate in front of `/_mockmx/`, and for every other request, its
journal entry and the world's fault rules.

This runs on every request, so it does as little as it can there: it keeps references (the body chunks, the
header list) and two clock readings, and leaves decoding to whoever reads the journal.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockmx.control.journal import SCOPE_KEY
from mockmx.web.errors import render

if TYPE_CHECKING:
    from mockmx.control.changes import Changes
    from mockmx.control.gate import ControlGate
    from mockmx.control.journal import Entry, RequestJournal
    from mockmx.faults import FaultRules


class ControlMiddleware:
    def __init__(self, app: ASGIApp, *, controlled: Controlled) -> None:
        self.app = app
        self.controlled = controlled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/_mockmx"):
            refusal = self.controlled.gate.refusal(scope)
            if refusal is not None:
                await render(refusal)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the control API's own traffic is not journaled
            return
        journal = self.controlled.journal()
        method = scope["method"]
        entry = journal.begin(method, path, scope["query_string"], time.time(), time.perf_counter())
        entry.request_headers = scope["headers"]  # decoded when read
        scope[SCOPE_KEY] = entry

        receive_kept, send_kept = kept(entry, receive, send)
        faults = self.controlled.faults()
        try:
            rule = faults.acting(method, path) if faults.rules else None
            if rule is None:
                await self.app(scope, receive_kept, send_kept)
            else:
                entry.fault = rule.id
                await rule.act(self.app, scope, receive_kept, send_kept)
        finally:
            entry.duration = time.perf_counter() - entry.started
            if entry.status is None:
                entry.status = 500  # an exception, answered by Starlette's error middleware outside this one
            journal.finished(entry)


def kept(entry: Entry, receive: Receive, send: Send) -> tuple[Receive, Send]:
    """`receive` and `send`, keeping what passes in the journal entry: the bodies (by reference) and the status."""

    async def receive_kept() -> Message:
        message = await receive()
        body = message.get("body")
        if body:
            entry.keep_request(body)
        return message

    async def send_kept(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry.status = message["status"]
            entry.response_headers = message.get("headers")
        else:
            body = message.get("body")
            if body:
                entry.keep_response(body)
        await send(message)

    return receive_kept, send_kept


@runtime_checkable
class Controlled(Protocol):
    """What the control plane asks of the app's object (a `Mock`, a `ReplayHost`): looked up per request, as a
    reset replaces what they serve."""

    gate: ControlGate
    changes: Changes

    def journal(self) -> RequestJournal: ...

    def faults(self) -> FaultRules: ...
