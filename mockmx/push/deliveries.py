"""What became of the mock homeserver's pushes, per pusher: sent, given up on, dropped from a full backlog.

A push that its gateway still refuses after the last attempt is given up on, so that it never holds back the
ones behind it; the most recent of those are kept here, with why, for `GET /_mockmx/pushes`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_FAILED_KEPT = 200  # the most recent pushes given up on, over all pushers (the default)
MAX_PUSHERS_KEPT = 1000  # counts of this many pushers, the longest unheard-of let go first

PusherKey = tuple[str, str, str]  # (user_id, app_id, pushkey)


@dataclass
class PusherCounts:
    sent: int = 0  # acknowledged by the gateway
    failed: int = 0  # given up on after the last attempt
    dropped: int = 0  # pushed out of a full backlog, oldest first, never attempted
    attempts_failed: int = 0  # every failed attempt, retried or not


@dataclass(frozen=True)
class FailedPush:
    user_id: str
    app_id: str
    pushkey: str
    event_id: str | None  # None for a badge-only update
    attempts: int
    error: str
    given_up_ms: int


@dataclass
class Deliveries:
    max_failed: int = MAX_FAILED_KEPT  # the scenario's `limits.max_failed_pushes`
    counts: dict[PusherKey, PusherCounts] = field(default_factory=dict)
    failed: deque[FailedPush] = field(init=False)
    failed_let_go: int = 0  # records of pushes given up on, let go to stay within max_failed
    pushers_let_go: int = 0  # pushers' counts let go to stay within MAX_PUSHERS_KEPT

    def __post_init__(self) -> None:
        self.failed = deque(maxlen=self.max_failed)

    def of(self, key: PusherKey) -> PusherCounts:
        counts = self.counts.get(key)
        if counts is None:
            if len(self.counts) >= MAX_PUSHERS_KEPT:
                del self.counts[next(iter(self.counts))]
                self.pushers_let_go += 1
            counts = self.counts[key] = PusherCounts()
        return counts

    def gave_up(self, key: PusherKey, payload: dict[str, Any], attempts: int, error: str, now_ms: int) -> None:
        self.of(key).failed += 1
        event_id = payload.get("notification", {}).get("event_id")
        if len(self.failed) == self.max_failed:
            self.failed_let_go += 1
        self.failed.append(FailedPush(*key, event_id, attempts, error, now_ms))

    def totals(self) -> PusherCounts:
        total = PusherCounts()
        for counts in self.counts.values():
            total.sent += counts.sent
            total.failed += counts.failed
            total.dropped += counts.dropped
            total.attempts_failed += counts.attempts_failed
        return total

    def to_json(self, queued: dict[PusherKey, int]) -> dict[str, Any]:
        """The body of `GET /_mockmx/pushes`."""
        pushers = [
            {"user_id": key[0], "app_id": key[1], "pushkey": key[2], "queued": queued.get(key, 0), **asdict(counts)}
            for key, counts in self.counts.items()
        ]
        return {"totals": asdict(self.totals()), "pushers": pushers, "failed": [asdict(push) for push in self.failed]}
