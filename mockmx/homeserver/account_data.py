"""Each user's account data, global and per room, with the stream position of each entry's last change.

A change takes the next server-wide stream position, so a sync token orders it with room events, and wakes
the user's long polls. `/sync` then carries every entry changed after the token; a first sync carries all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.notifier import Notifier

JsonDict = dict[str, Any]
# Each entry can be as large as a request body (1 MiB): this keeps one user's account data within reason.
MAX_ENTRIES_PER_USER = 1000


@dataclass(frozen=True, slots=True)
class _Entry:
    pos: int
    content: JsonDict


class AccountData:
    def __init__(self, *, notifier: Notifier, advance: Callable[[], int]) -> None:
        """`advance` gives the next stream position; `notifier` wakes the owner's long polls."""
        self._advance = advance
        self._notifier = notifier
        self._global: dict[str, dict[str, _Entry]] = {}  # user_id -> type -> entry
        self._rooms: dict[str, dict[str, dict[str, _Entry]]] = {}  # user_id -> room_id -> type -> entry
        self._counts: dict[str, int] = {}  # user_id -> entries held, global and per room

    def set_global(self, user_id: str, event_type: str, content: JsonDict) -> None:
        self._store(user_id, self._global.setdefault(user_id, {}), event_type, content)

    def set_room(self, user_id: str, room_id: str, event_type: str, content: JsonDict) -> None:
        """Set the user's account data of `event_type` for one room (`m.fully_read`, `m.tag`, ...)."""
        self._store(user_id, self._rooms.setdefault(user_id, {}).setdefault(room_id, {}), event_type, content)

    def get_global(self, user_id: str, event_type: str) -> JsonDict | None:
        entry = self._global.get(user_id, {}).get(event_type)
        return entry.content if entry is not None else None

    def get_room(self, user_id: str, room_id: str, event_type: str) -> JsonDict | None:
        entry = self._rooms.get(user_id, {}).get(room_id, {}).get(event_type)
        return entry.content if entry is not None else None

    def global_events(self, user_id: str, since_pos: int | None) -> list[JsonDict]:
        """The user's global account data changed after `since_pos` (all of it when None), as sync events."""
        return _events(self._global.get(user_id), since_pos)

    def room_events(self, user_id: str, room_id: str, since_pos: int | None) -> list[JsonDict]:
        """The user's account data for the room changed after `since_pos` (all of it when None), as sync events."""
        rooms = self._rooms.get(user_id)
        return _events(rooms.get(room_id) if rooms is not None else None, since_pos)

    def _store(self, user_id: str, entries: dict[str, _Entry], event_type: str, content: JsonDict) -> None:
        if event_type not in entries:
            if self._counts.get(user_id, 0) >= MAX_ENTRIES_PER_USER:
                raise MatrixError(413, f"Too many account data entries (max {MAX_ENTRIES_PER_USER})", Codes.TOO_LARGE)
            self._counts[user_id] = self._counts.get(user_id, 0) + 1
        entries[event_type] = _Entry(self._advance(), content)
        self._notifier.notify((user_id,))


def _events(entries: dict[str, _Entry] | None, since_pos: int | None) -> list[JsonDict]:
    if not entries:
        return []
    return [
        {"type": event_type, "content": entry.content}
        for event_type, entry in entries.items()
        if since_pos is None or entry.pos > since_pos
    ]
