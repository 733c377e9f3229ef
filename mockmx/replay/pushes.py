"""Push replay: the notifications the homeserver sent after a client request are re-sent, as recorded, to the gateway
under test when that request is replayed; the gateway's answers are compared with the recorded ones.

A push flow follows the client request that returned one of its event ids (a send); failing that, the last client
request that had completed when the push began (the invite a createRoom made has no send of its own). One worker
sends them in the background, one at a time, so the gateway gets them in recorded order and no client waits.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from mockmx.jsonpath import render_path
from mockmx.push.protocol import PUSH_TIMEOUT_SECONDS
from mockmx.record.model import Flow, Leg, Recording
from mockmx.replay.matchers import first_difference, show
from mockmx.replay.state import PushResult, ReplayState

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 5


def push_triggers(recording: Recording, returned: Mapping[str, int]) -> dict[int, list[Flow]]:
    """For each client flow id, the push flows its replay sends, in recorded order."""
    client = [flow for flow in recording.flows if flow.leg == Leg.CLIENT]
    if not client:
        return {}
    by_end = sorted(client, key=lambda flow: (flow.at + (flow.took or 0.0), flow.id))
    ends = [flow.at + (flow.took or 0.0) for flow in by_end]
    triggers: dict[int, list[Flow]] = {}
    for push in recording.flows:
        if push.leg != Leg.PUSH:
            continue
        trigger = next((returned[event] for event in _event_ids(push) if event in returned), None)
        if trigger is None:
            completed = bisect.bisect_right(ends, push.at)
            trigger = by_end[completed - 1].id if completed else client[0].id
        triggers.setdefault(trigger, []).append(push)
    return triggers


def _event_ids(push: Flow) -> list[str]:
    notification = push.request.body.get("notification") if isinstance(push.request.body, dict) else None
    own = notification.get("event_id") if isinstance(notification, dict) else None
    return ([own] if isinstance(own, str) else []) + push.links.events


def push_url(push_to: str, path: str) -> str:
    """`push_to` as given when it names a path (the notify URL), else with the recorded path appended."""
    return push_to if urlsplit(push_to).path not in ("", "/") else push_to.rstrip("/") + path


class PushReplayer:
    """Re-sends push flows to `push_to` when their trigger is replayed, and keeps the results in `state`."""

    def __init__(self, triggers: dict[int, list[Flow]], *, push_to: str, state: ReplayState) -> None:
        self.triggers = triggers
        self.push_to = push_to
        self.state = state
        self._queue: asyncio.Queue[tuple[int, Flow]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def on_answered(self, flow_id: int) -> None:
        """Queue the pushes that followed client flow `flow_id`; never waits."""
        pushes = self.triggers.get(flow_id)
        if not pushes:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._work(self._queue))
        self.state.push_queued(len(pushes))
        for push in pushes:
            self._queue.put_nowait((flow_id, push))

    async def stop(self) -> None:
        """Let queued pushes go out (for a few seconds at most), then stop the worker."""
        if self._queue is not None and self._worker is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), STOP_GRACE_SECONDS)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._client is not None:
            await self._client.aclose()

    async def _work(self, queue: asyncio.Queue[tuple[int, Flow]]) -> None:
        while True:
            trigger, push = await queue.get()
            try:
                result = await self._send(trigger, push)
            except Exception as exc:  # a bug here must not silence every later push
                log.exception("replaying push flow %s failed", push.id)
                result = PushResult(push.id, trigger, self.push_to, None, None, None, (), f"replay error: {exc!r}")
            self.state.push_done(result)
            queue.task_done()

    async def _send(self, trigger: int, push: Flow) -> PushResult:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS)
        url = push_url(self.push_to, push.request.path)
        request = push.request
        headers = {"content-type": request.header("content-type") or "application/json"}
        if request.header("user-agent"):
            headers["user-agent"] = request.header("user-agent") or ""
        event_id = next(iter(_event_ids(push)), None)
        try:
            answer = await self._client.request(request.method, url, content=request.content(), headers=headers)
        except httpx.HTTPError as exc:
            return PushResult(push.id, trigger, url, event_id, None, None, (), f"{type(exc).__name__}: {exc}")
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text
        found = _compare(push, answer.status_code, body)
        if found:
            log.warning("push flow %s: the gateway answered otherwise: %s", push.id, "; ".join(found))
        return PushResult(push.id, trigger, url, event_id, answer.status_code, body, tuple(found))


def _compare(push: Flow, status: int, body: Any) -> list[str]:
    recorded = push.response
    if recorded is None:
        return []  # nothing recorded to hold the answer to
    found = []
    if status != recorded.status:
        found.append(f"status: recorded {recorded.status}, got {status}")
    expected = recorded.body if recorded.body_kind == "body" else recorded.content().decode("utf-8", "replace")
    difference = first_difference(body, expected, lambda a, b: type(a) is type(b) and a == b)
    if difference is not None:
        where, want, got = difference
        label = f"body field {render_path(where)}" if where else "body"
        found.append(f"{label}: recorded {show(want)}, got {show(got)}")
    return found
