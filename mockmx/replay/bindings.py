"""What this run's values stand for in the recording, both ways: credentials and transaction ids.

Ids and stream tokens the homeserver made (event ids, room ids, `next_batch`, ...) are served as recorded, so the
client passes back exactly the recorded values and they need no mapping. Credentials and transaction ids are the
client's own, or are redacted in the file: each live value is bound to one recorded value the first time a request
carrying it is answered (or, for a recorded `<token:N>` a login answers with, when replay hands out a token for it),
and is that value from then on.
"""

from __future__ import annotations

from mockmx.record.redact import PLACEHOLDER

__all__ = ["PLACEHOLDER", "Bindings"]


class Bindings:
    """Live values to recorded ones and back; transaction ids per session (a recorded access token), as each
    device has its own."""

    def __init__(self) -> None:
        self._live: dict[str, str] = {}  # recorded secret -> live
        self._recorded: dict[str, str] = {}  # live secret -> recorded
        self._txn_live: dict[tuple[str | None, str], str] = {}
        self._txn_recorded: dict[tuple[str | None, str], str] = {}

    def recorded_secret(self, live: str) -> str | None:
        """The recorded credential `live` stands for, if it is bound."""
        return self._recorded.get(live)

    def secret_is_free(self, recorded: str) -> bool:
        """Whether no live value stands for the recorded credential yet."""
        return recorded not in self._live

    def bind_secret(self, recorded: str, live: str) -> None:
        self._live.setdefault(recorded, live)
        self._recorded.setdefault(live, recorded)

    def bound_secrets(self) -> list[tuple[str, str]]:
        """Every recorded credential with the live value bound to it."""
        return list(self._live.items())

    def live_secret(self, recorded: str) -> str:
        """What the client gets where the recording has `recorded`: the live value bound to it, or a new one (a
        stand-in for a placeholder, the value itself for a credential recorded verbatim)."""
        live = self._live.get(recorded)
        if live is None:
            placeholder = PLACEHOLDER.fullmatch(recorded)
            live = f"mockmx_replay_{placeholder[1]}_{placeholder[2]}" if placeholder else recorded
            self.bind_secret(recorded, live)
        return live

    def txn_fits(self, session: str | None, recorded: str, live: str) -> bool:
        """Whether `live` may stand for the recorded transaction id in `session`: bound to it, or both unbound."""
        bound = self._txn_live.get((session, recorded))
        if bound is not None:
            return bound == live
        return (session, live) not in self._txn_recorded

    def bind_txn(self, session: str | None, recorded: str, live: str) -> None:
        self._txn_live.setdefault((session, recorded), live)
        self._txn_recorded.setdefault((session, live), recorded)

    def live_txn(self, session: str | None, recorded: str) -> str:
        """The client's transaction id for a recorded one (in a sync's `unsigned.transaction_id`), else itself."""
        return self._txn_live.get((session, recorded), recorded)
