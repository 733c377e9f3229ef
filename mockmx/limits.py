"""How much the mock takes from its clients: connections and request heads (enforced by `web.protocol`), and how
much it keeps in memory (enforced where each thing is kept; `GET /_mockmx/limits` counts what fell out). Defaults
keep a week-long development session flat; a scenario's `limits:` section and `mockmx serve`'s flags change them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

CONNECTION_LIMITS = ("max_connections", "request_timeout", "keep_alive_timeout", "max_header_bytes")


def default_max_connections() -> int:
    """As many connections as the process can open files, less a margin for its own (logs, recordings, pushes):
    past that, accepting would fail anyway, so a quick 503 is the kinder answer. 1,000 where it cannot tell."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 1000
    if soft == resource.RLIM_INFINITY:
        return 65_536
    return max(64, soft - 64)


@dataclass(frozen=True)
class Limits:
    # -- connections and requests --
    # Past it, a new connection's request gets a quick 503 M_LIMIT_EXCEEDED; by default, what the open files limit
    # (`ulimit -n`) leaves room for: 960 with a soft limit of 1,024, for the benchmark's 2,000 long polls more.
    max_connections: int = field(default_factory=default_max_connections)
    request_timeout: float = 10.0  # seconds to send a whole request head, from the connection's start or last answer
    keep_alive_timeout: float = 5.0  # seconds an idle kept-alive connection stays open after an answer
    max_header_bytes: int = 64 * 1024  # request line and headers; past it, 431
    # -- memory: what is kept, the oldest let go first (counted) --
    max_room_events: int = 10_000  # per room: its newest events; the current state always stays
    max_transactions: int = 10_000  # txnId answers kept for repeats, besides their 30-minute lifetime
    max_to_device_per_device: int = 10_000  # undelivered to-device messages per device
    max_gateway_notifications: int = 10_000  # the push gateway's journal (GET /_mockmx/notifications)
    max_notifications_per_user: int = 5_000  # what notified each user (GET /notifications, unread counts)
    max_failed_pushes: int = 200  # pushes given up on, kept with why (GET /_mockmx/pushes)

    def override(self, **values: Any) -> Limits:
        """These limits with the given ones changed; None means "as before" (a flag not given)."""
        return replace(self, **{key: value for key, value in values.items() if value is not None})

    def describe(self) -> str:
        """The connection limits, on one line of the start-up banner."""
        return ", ".join(f"{name} {getattr(self, name)}" for name in CONNECTION_LIMITS)

    def describe_retention(self) -> str:
        """The memory limits, on one line of the start-up banner."""
        return ", ".join(
            f"{field.name} {getattr(self, field.name):,}" for field in fields(self)[len(CONNECTION_LIMITS) :]
        )
