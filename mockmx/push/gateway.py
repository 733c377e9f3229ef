"""The mock push gateway's memory: the accepted notifications (the newest `max_kept`), retries folded in, and
rejection rules."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockmx.scenario.model import RejectSpec

FILTERS = ("event_id", "room_id", "pushkey", "app_id")
MAX_KEPT = 10_000


@dataclass
class Notification:
    """One notification the gateway accepted, with when it came and from whom."""

    seq: int
    received_ts: int  # milliseconds since the epoch
    remote: str  # the caller's address, host:port
    user_agent: str | None
    notification: dict[str, Any]
    rejected: list[str] = field(default_factory=list)
    retries: int = 0  # later deliveries of the same notification, acknowledged but not kept again

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "received_ts": self.received_ts,
            "from": self.remote,
            "user_agent": self.user_agent,
            "retries": self.retries,
            "rejected": self.rejected,
            "notification": self.notification,
        }

    def matches(self, **wanted: str) -> bool:
        notification = self.notification
        devices = notification.get("devices", [])
        for key, value in wanted.items():
            if key in ("event_id", "room_id"):
                if notification.get(key) != value:
                    return False
            elif not any(device.get(key) == value for device in devices):
                return False
        return True


@dataclass
class _RejectRule:
    spec: RejectSpec
    accepted: int = 0

    def matches(self, device: dict[str, Any]) -> bool:
        spec = self.spec
        return (spec.pushkey is None or spec.pushkey == device["pushkey"]) and (
            spec.app_id is None or spec.app_id == device["app_id"]
        )


class Gateway:
    """Thread-safe, so a test can read the journal while the server thread writes it."""

    def __init__(
        self,
        reject: tuple[RejectSpec, ...] = (),
        *,
        clock_ms: Callable[[], int] | None = None,
        max_kept: int = MAX_KEPT,
    ) -> None:
        self._rules = [_RejectRule(spec) for spec in reject]
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.max_kept = max_kept
        self.dropped = 0  # the oldest notifications let go to stay within max_kept
        self._journal: deque[Notification] = deque()
        self._by_key: dict[tuple[Any, ...], Notification] = {}
        self._lock = threading.Lock()
        self._seq = 0
        # Called (without arguments, in the server's thread) after each notification or retry is kept.
        self.listeners: list[Callable[[], None]] = []

    def accept(self, notification: dict[str, Any], remote: str, user_agent: str | None) -> list[str]:
        """Keep a validated notification (once: a retry only counts) and return the pushkeys it rejects."""
        try:
            return self._accept(notification, remote, user_agent)
        finally:
            for listener in self.listeners:
                listener()

    def _accept(self, notification: dict[str, Any], remote: str, user_agent: str | None) -> list[str]:
        with self._lock:
            key = _dedupe_key(notification)
            earlier = self._by_key.get(key)
            if earlier is not None and (
                key[0] == "event" or earlier.notification.get("counts") == notification.get("counts")
            ):
                earlier.retries += 1
                return earlier.rejected
            rejected = self._rejections(notification["devices"])
            self._seq += 1
            kept = Notification(self._seq, self._clock_ms(), remote, user_agent, notification, rejected)
            self._journal.append(kept)
            self._by_key[key] = kept
            if len(self._journal) > self.max_kept:
                oldest = self._journal.popleft()
                # A retry of a notification let go is kept again: the journal no longer shows the first.
                oldest_key = _dedupe_key(oldest.notification)
                if self._by_key.get(oldest_key) is oldest:
                    del self._by_key[oldest_key]
                self.dropped += 1
            return rejected

    def _rejections(self, devices: list[dict[str, Any]]) -> list[str]:
        rejected = []
        for device in devices:
            for rule in self._rules:
                if rule.matches(device):
                    if rule.accepted >= rule.spec.after:
                        rejected.append(device["pushkey"])
                        break
                    rule.accepted += 1
        return rejected

    def notifications(self, **wanted: str) -> list[Notification]:
        """The journal, oldest first, narrowed to entries matching every given field (see FILTERS)."""
        unknown = set(wanted) - set(FILTERS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}; expected some of {', '.join(FILTERS)}")
        with self._lock:
            return [entry for entry in self._journal if entry.matches(**wanted)]

    def kept(self) -> int:
        return len(self._journal)

    def clear(self) -> None:
        with self._lock:
            self._journal.clear()
            self._by_key.clear()


def _dedupe_key(notification: dict[str, Any]) -> tuple[Any, ...]:
    """Event notifications are keyed by event id, as the spec asks gateways to suppress duplicates.

    Badge-only updates carry no event: they are keyed by their devices, and one that repeats the latest
    counts for those devices is the same update again (a later change of counts is a new one).
    """
    devices = tuple(sorted((device["app_id"], device["pushkey"]) for device in notification["devices"]))
    event_id = notification.get("event_id")
    return ("event", event_id, devices) if event_id else ("counts", devices)
