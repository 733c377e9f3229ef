"""Send-to-device inboxes: each message is delivered exactly once per device, in order.

Messages carry a server-wide to-device position. A sync hands out the pending ones and puts the last
position it handed out in `next_batch`; the next sync that passes that token back acknowledges them, and
only then are they dropped, so a sync retried with the old token gets the same messages again. A device that never
syncs keeps only its newest `max_per_device` messages: the older ones are dropped, and counted in `dropped`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

MAX_PER_SYNC = 100  # the spec lets a server page to-device messages; Synapse sends at most 100 at a time
DEFAULT_MAX_PER_DEVICE = 10_000


class ToDeviceInboxes:
    def __init__(self, *, max_per_device: int = DEFAULT_MAX_PER_DEVICE) -> None:
        self.pos = 0
        self.max_per_device = max_per_device
        self.dropped = 0  # undelivered messages let go from a full inbox
        self._inboxes: dict[tuple[str, str], deque[tuple[int, dict[str, Any]]]] = {}
        # Called with (user_id, device_id, message) for every message queued: how a test log hooks in.
        self.listeners: list[Callable[[str, str, dict[str, Any]], None]] = []

    def deliver(
        self,
        sender: str,
        event_type: str,
        messages: dict[str, dict[str, Any]],
        device_ids: Callable[[str], Iterable[str]],
    ) -> list[str]:
        """Queue each message for its devices (`*` is all of them); unknown users and devices are dropped.

        Returns the users that got something, to wake their long polls.
        """
        woken = []
        for user_id, by_device in messages.items():
            known = list(device_ids(user_id))
            if not known:
                continue
            delivered = False
            for device_id, content in by_device.items():
                targets = known if device_id == "*" else ([device_id] if device_id in known else [])
                for target in targets:
                    self.pos += 1
                    message = {"sender": sender, "type": event_type, "content": content}
                    inbox = self._inboxes.setdefault((user_id, target), deque())
                    inbox.append((self.pos, message))
                    if len(inbox) > self.max_per_device:
                        inbox.popleft()
                        self.dropped += 1
                    for listener in self.listeners:
                        listener(user_id, target, message)
                    delivered = True
            if delivered:
                woken.append(user_id)
        return woken

    def acknowledge(self, user_id: str, device_id: str, upto: int) -> None:
        inbox = self._inboxes.get((user_id, device_id))
        if inbox is None:
            return
        while inbox and inbox[0][0] <= upto:
            inbox.popleft()
        if not inbox:
            del self._inboxes[(user_id, device_id)]

    def pending(self, user_id: str, device_id: str) -> tuple[list[dict[str, Any]], int]:
        """Up to MAX_PER_SYNC unacknowledged messages, and the position a token should carry past them."""
        inbox = self._inboxes.get((user_id, device_id))
        if not inbox:
            return [], self.pos
        batch = [inbox[i] for i in range(min(MAX_PER_SYNC, len(inbox)))]
        upto = self.pos if len(batch) == len(inbox) else batch[-1][0]
        return [message for _, message in batch], upto

    def pending_count(self) -> int:
        """Undelivered messages over all inboxes."""
        return sum(len(inbox) for inbox in self._inboxes.values())

    def drop_device(self, user_id: str, device_id: str) -> None:
        self._inboxes.pop((user_id, device_id), None)

    def oldest_pending(self, user_id: str, device_id: str) -> int | None:
        """The position of the device's oldest unacknowledged message (later ones are pending too), or None."""
        inbox = self._inboxes.get((user_id, device_id))
        return inbox[0][0] if inbox else None
