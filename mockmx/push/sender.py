"""The mock homeserver's pushing: a notification per notifying event and pusher, sent in the background.

Which events notify whom, and how, the push rules decide (`NotificationLog`); a read receipt that changes a
user's unread count sends each of their pushers a badge-only update.

Each pusher has its own queue and worker, so a slow or failing gateway delays only its own pushes and a
send never waits for pushing. A failed push (no answer, a non-2xx status, a body that is not JSON) is
retried with exponential backoff before the next one goes, as Synapse does, up to `push.max_attempts`
attempts: then it is given up on (logged, counted, listed by `GET /_mockmx/pushes`) and the next one goes, so
one push no gateway takes never holds back the rest. A pusher's backlog keeps at most `push.max_backlog`
pushes; past it the oldest is dropped and counted. A pusher whose pushkey comes back in `rejected` is removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mockmx import __version__
from mockmx.homeserver.pushers import Pusher
from mockmx.homeserver.rooms import Event, Room
from mockmx.homeserver.server import Homeserver
from mockmx.push.deliveries import Deliveries
from mockmx.push.evaluator import Decision
from mockmx.push.protocol import PUSH_TIMEOUT_SECONDS
from mockmx.scenario.model import PushSpec

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
MAX_ATTEMPTS_KEPT = 1000


class PushSender:
    def __init__(self, hs: Homeserver, spec: PushSpec, *, resolve_url: Callable[[str], str | None]) -> None:
        self.hs = hs
        self.spec = spec
        self.resolve_url = resolve_url  # a pusher's URL as given (a bare path means the mock itself), absolute
        self._queues: dict[tuple[str, str, str], asyncio.Queue[dict[str, Any]]] = {}
        self._workers: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._last_badge: dict[tuple[str, str, str], int] = {}  # per pusher: the count its gateway last got
        self._client: httpx.AsyncClient | None = None
        self.sent = 0  # pushes the gateways acknowledged, for tests and benchmarks
        self.failures = 0
        # Per pusher: sent, given up on, dropped (GET /_mockmx/pushes).
        self.deliveries = Deliveries(max_failed=hs.limits.max_failed_pushes)
        self._last_error = ""  # why the last _post failed, read right after it returns
        # Each attempt, retries included, for the inspector: bounded, newest kept.
        self.attempts: deque[dict[str, Any]] = deque(maxlen=MAX_ATTEMPTS_KEPT)
        self.on_attempt: Callable[[], None] = lambda: None

    def on_notified(self, room: Room, event: Event, decisions: list[tuple[str, Decision]]) -> None:
        """Queue the pushes for an event the push rules decided notifies these users (NotificationLog listener)."""
        pushers = self.hs.pushers
        if not pushers.users:
            return
        for user_id, decision in decisions:
            user_pushers = pushers.of(user_id)
            if not user_pushers:
                continue
            badge = self.hs.notifications.badge(user_id, self.spec.unread_count)
            for pusher in user_pushers:
                self._last_badge[pusher.key] = badge
                self._enqueue(pusher, self._payload(pusher, room, event, decision, badge))

    def on_read(self, room: Room, user_id: str) -> None:
        """A read receipt moved (Receipts listener): each of the user's pushers whose gateway last heard another
        count gets a badge-only push, as Synapse sends one."""
        user_pushers = self.hs.pushers.of(user_id)
        if not user_pushers:
            return
        badge = self.hs.notifications.badge(user_id, self.spec.unread_count)
        for pusher in user_pushers:
            if self._last_badge.get(pusher.key) != badge:
                self._last_badge[pusher.key] = badge
                self._enqueue(pusher, self._badge_payload(pusher, badge))

    def _device(self, pusher: Pusher) -> dict[str, Any]:
        return {
            "app_id": pusher.app_id,
            "pushkey": pusher.pushkey,
            "pushkey_ts": pusher.pushkey_ts,
            "data": {key: value for key, value in pusher.data.items() if key != "url"},
        }

    def _payload(self, pusher: Pusher, room: Room, event: Event, decision: Decision, badge: int) -> dict[str, Any]:
        device = self._device(pusher)
        notification: dict[str, Any] = {
            "event_id": event.event_id,
            "room_id": event.room_id,
            "counts": _counts(badge),
            "prio": priority(event, decision),
            "devices": [device],
        }
        if pusher.event_id_only:
            return {"notification": notification}
        tweaks = decision.tweaks
        if tweaks:  # as Synapse: no `tweaks` rather than an empty one
            device["tweaks"] = dict(tweaks)  # the decision's own is shared by every event the rule decides
        notification.update(
            {
                "id": event.event_id,
                "type": event.type,
                "sender": event.sender,
                "sender_display_name": self.hs.display_name(event.sender),
                "content": event.content,
            }
        )
        if room.name is not None:
            notification["room_name"] = room.name
        if room.canonical_alias is not None:
            notification["room_alias"] = room.canonical_alias
        if event.type == "m.room.member":
            notification["membership"] = event.content.get("membership")
            notification["user_is_target"] = event.state_key == pusher.user_id
        return {"notification": notification}

    def _badge_payload(self, pusher: Pusher, badge: int) -> dict[str, Any]:
        # Synapse's badge update, except that `type` is left out rather than `null`: the spec types it a string.
        return {"notification": {"id": "", "sender": "", "counts": _counts(badge), "devices": [self._device(pusher)]}}

    def _enqueue(self, pusher: Pusher, payload: dict[str, Any]) -> None:
        queue = self._queues.get(pusher.key)
        if queue is None:
            queue = self._queues[pusher.key] = asyncio.Queue()
            self._workers[pusher.key] = asyncio.create_task(self._deliver(pusher.key, queue))
        if queue.qsize() >= self.spec.max_backlog:
            queue.get_nowait()  # the oldest: a gateway that is behind gets the latest counts first
            self.deliveries.of(pusher.key).dropped += 1
            log.warning("push backlog of %s full (%d): dropped the oldest push", pusher.pushkey, self.spec.max_backlog)
        queue.put_nowait(payload)

    def queued(self) -> dict[tuple[str, str, str], int]:
        """How many pushes wait in each pusher's backlog."""
        return {key: queue.qsize() for key, queue in self._queues.items()}

    async def _deliver(self, key: tuple[str, str, str], queue: asyncio.Queue[dict[str, Any]]) -> None:
        # Keyed by (user, app_id, pushkey), not by pusher object: a pusher set again keeps its queue, and its
        # new data (a new URL, say) applies from the next attempt on.
        pushers = self.hs.pushers
        try:
            while pushers.get(*key) is not None:
                payload = await queue.get()
                delay = self.spec.backoff
                attempt = 0
                while (pusher := pushers.get(*key)) is not None:
                    rejected = await self._post(pusher, payload)
                    attempt += 1
                    self._note_attempt(pusher, payload, attempt, rejected)
                    if rejected is not None:
                        self.deliveries.of(key).sent += 1
                        if pusher.pushkey in rejected:
                            log.info("gateway rejected pushkey %s: removing the pusher", pusher.pushkey)
                            pushers.remove(*key)
                        break
                    self.failures += 1
                    self.deliveries.of(key).attempts_failed += 1
                    if attempt >= self.spec.max_attempts:
                        error = self._last_error
                        log.warning("gave up on a push to %s after %d attempts: %s", pusher.url, attempt, error)
                        self.deliveries.gave_up(key, payload, attempt, error, self.hs.clock_ms())
                        break
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.spec.max_backoff)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                del self._queues[key]

    def _note_attempt(self, pusher: Pusher, payload: dict[str, Any], attempt: int, rejected: list[str] | None) -> None:
        notification = payload["notification"]
        outcome = "failed" if rejected is None else "rejected" if pusher.pushkey in rejected else "sent"
        self.attempts.append(
            {
                "at": self.hs.clock_ms(),
                "user_id": pusher.key[0],
                "app_id": pusher.app_id,
                "pushkey": pusher.pushkey,
                "url": pusher.url,
                "event_id": notification.get("event_id"),
                "counts": notification.get("counts"),
                "attempt": attempt,
                "outcome": outcome,
            }
        )
        self.on_attempt()

    async def _post(self, pusher: Pusher, payload: dict[str, Any]) -> list[str] | None:
        """The gateway's `rejected` list, or None when the push failed and must be retried."""
        import httpx  # here, not at start-up: a mock that never pushes need not load an HTTP client

        url = self.resolve_url(pusher.url)
        if url is None:
            log.warning("cannot push to %s before the server knows its own address", pusher.url)
            self._last_error = "the server did not know its own address yet"
            return None
        if self._client is None:
            headers = {"User-Agent": f"mockmx/{__version__}"}
            self._client = httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS, headers=headers)
        try:
            response = await self._client.post(url, json=payload)
            answer = response.json() if response.is_success else None
        except (httpx.HTTPError, ValueError) as error:
            log.warning("push to %s failed: %s", url, error)
            self._last_error = f"{type(error).__name__}: {error}"
            return None
        if not isinstance(answer, dict):
            log.warning("push to %s failed: %s %s", url, response.status_code, response.text[:200])
            self._last_error = f"{response.status_code} {response.text[:200]}"
            return None
        self.sent += 1
        rejected = answer.get("rejected", [])
        return [key for key in rejected if isinstance(key, str)] if isinstance(rejected, list) else []

    async def stop(self) -> None:
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def priority(event: Event, decision: Decision) -> str:
    """`high` for what sounds or highlights, and (not knowing what it hides) for anything encrypted, as Synapse."""
    return "high" if event.type == "m.room.encrypted" or decision.sounds or decision.highlight else "low"


def _counts(badge: int) -> dict[str, int]:
    # The push gateway spec: "Counts whose value is zero should be omitted."
    return {"unread": badge} if badge else {}
