"""Every to-device message queued, per device, bounded: what `/_mockmx/to_device` shows as pending or delivered.

The inboxes forget a message once a sync acknowledges it; this log keeps it, with its position, so that whether
it is still pending is read off the inbox when someone asks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from mockmx.homeserver.to_device import ToDeviceInboxes

DEFAULT_LIMIT = 10_000
FILTERS = ("user_id", "device_id", "type", "sender")


class ToDeviceLog:
    def __init__(self, inboxes: ToDeviceInboxes, limit: int = DEFAULT_LIMIT) -> None:
        self.inboxes = inboxes
        self.messages: deque[tuple[int, str, str, dict[str, Any]]] = deque(maxlen=limit)
        self.dropped = 0
        self.on_change: Callable[[], None] = lambda: None
        inboxes.listeners.append(self.keep)

    def keep(self, user_id: str, device_id: str, message: dict[str, Any]) -> None:
        if len(self.messages) == self.messages.maxlen:
            self.dropped += 1
        # The inboxes number a message before telling their listeners: its position is theirs now.
        self.messages.append((self.inboxes.pos, user_id, device_id, message))
        self.on_change()

    def select(self, **wanted: str) -> list[dict[str, Any]]:
        """The messages matching every filter (see FILTERS), oldest first, each saying whether it is pending."""
        found = []
        for pos, user_id, device_id, message in list(self.messages):
            if wanted.get("user_id", user_id) != user_id or wanted.get("device_id", device_id) != device_id:
                continue
            if wanted.get("type", message["type"]) != message["type"]:
                continue
            if wanted.get("sender", message["sender"]) != message["sender"]:
                continue
            oldest = self.inboxes.oldest_pending(user_id, device_id)
            pending = oldest is not None and pos >= oldest
            found.append({"user_id": user_id, "device_id": device_id, "pos": pos, "pending": pending, **message})
        return found


def by_device(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages grouped per device: `{"user_id", "device_id", "pending": [...], "delivered": [...]}`."""
    devices: dict[tuple[str, str], dict[str, Any]] = {}
    for message in messages:
        key = (message["user_id"], message["device_id"])
        device = devices.setdefault(key, {"user_id": key[0], "device_id": key[1], "pending": [], "delivered": []})
        shown = {name: message[name] for name in ("pos", "sender", "type", "content")}
        device["pending" if message["pending"] else "delivered"].append(shown)
    return list(devices.values())
