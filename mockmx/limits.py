"""How much the mock takes from its clients: connections and request heads (enforced by `web.protocol`), and how
much it keeps in memory. Defaults keep a week-long development session flat; a scenario's `limits:` section
and `mockmx serve`'s flags change them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    # -- connections and requests --
    max_connections: int = 1000  # past it, a new connection's request gets a quick 503 M_LIMIT_EXCEEDED
    request_timeout: float = 10.0  # seconds to send a whole request head, from the connection's start or last answer
    keep_alive_timeout: float = 5.0  # seconds an idle kept-alive connection stays open after an answer
    max_header_bytes: int = 64 * 1024  # request line and headers; past it, 431

    def override(self, **values: Any) -> Limits:
        """These limits with the given ones changed; None means "as before" (a flag not given)."""
        return replace(self, **{key: value for key, value in values.items() if value is not None})

    def describe(self) -> str:
        """One line for the start-up banner."""
        return ", ".join(f"{field.name} {getattr(self, field.name)}" for field in fields(self))
