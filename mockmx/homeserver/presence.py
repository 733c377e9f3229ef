"""Users' presence: what each last said (online, unavailable, offline, a status message) and when.

A change takes the next server-wide stream position and wakes everyone who shares a room with the user, whose
next `/sync` carries it as an `m.presence` event. Users who never set a presence have none (offline, unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockmx.homeserver.notifier import Notifier

JsonDict = dict[str, Any]
STATES = ("online", "unavailable", "offline")


@dataclass(frozen=True, slots=True)
class PresenceState:
    presence: str
    status_msg: str | None
    last_active_ts: int
    pos: int

    def content(self, now: int) -> JsonDict:
        """As Synapse formats it: `currently_active` only while online, `status_msg` only when there is one."""
        content: JsonDict = {"presence": self.presence, "last_active_ago": max(0, now - self.last_active_ts)}
        if self.status_msg:
            content["status_msg"] = self.status_msg
        if self.presence == "online":
            content["currently_active"] = True
        return content


class Presence:
    def __init__(self, *, notifier: Notifier, advance: Callable[[], int], peers: Callable[[str], set[str]]) -> None:
        """`advance` gives the next stream position, `notifier` wakes long polls, `peers` says who shares a room
        with a user (the user included)."""
        self._advance = advance
        self._notifier = notifier
        self._peers = peers
        # In order of change, oldest first: a sync reads back from the newest until it reaches its token.
        self._states: dict[str, PresenceState] = {}

    def get(self, user_id: str) -> PresenceState | None:
        return self._states.get(user_id)

    def set(self, user_id: str, presence: str, status_msg: str | None, now: int) -> None:
        self._states.pop(user_id, None)
        self._states[user_id] = PresenceState(presence, status_msg, now, self._advance())
        self._notifier.notify(self._peers(user_id))

    def events_for(self, viewer: str, since_pos: int | None, now: int) -> list[JsonDict]:
        """`m.presence` events of the viewer's peers whose presence changed after `since_pos` (all when None)."""
        changed: list[tuple[str, PresenceState]] = []
        for user_id in reversed(self._states):
            state = self._states[user_id]
            if since_pos is not None and state.pos <= since_pos:
                break
            changed.append((user_id, state))
        if not changed:
            return []
        peers = self._peers(viewer)
        return [
            {"type": "m.presence", "sender": user_id, "content": state.content(now)}
            for user_id, state in reversed(changed)
            if user_id in peers
        ]
