"""Who is typing in each room: set by clients with a timeout, shown in /sync as an `m.typing` ephemeral event.

Expiry costs no task per request: a room's expired typers are dropped whenever its typing is read or changed, and
one timer per room (at its earliest expiry) makes sure that long polls hear of a timeout as soon as it happens.
Every change takes a stream position of its own, so a sync token taken before it sees the change once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from mockmx.homeserver.notifier import Notifier
from mockmx.homeserver.rooms import JsonDict, Room

DEFAULT_TIMEOUT_MS = 30_000
MAX_TIMEOUT_MS = 120_000  # Synapse's cap, "to stop people from setting silly typing timeouts"


@dataclass
class _RoomTyping:
    room: Room
    until: dict[str, int] = field(default_factory=dict)  # user id -> when their typing expires (clock ms)
    pos: int = 0  # the stream position of the last change
    timer: asyncio.TimerHandle | None = None
    timer_at: int = 0  # the clock ms the timer is set for


class Typing:
    def __init__(self, *, clock_ms: Callable[[], int], notifier: Notifier, advance: Callable[[], int]) -> None:
        self._clock_ms = clock_ms
        self._notifier = notifier
        self._advance = advance
        self._rooms: dict[str, _RoomTyping] = {}  # rooms anyone ever typed in: bounded by the rooms

    def set(self, room: Room, user_id: str, typing: bool, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Start (for `timeout_ms`, refreshed by each call) or stop `user_id`'s typing in `room`."""
        state = self._rooms.get(room.room_id)
        if state is None:
            state = self._rooms[room.room_id] = _RoomTyping(room)
        now = self._clock_ms()
        changed = self._drop_expired(state, now)
        if typing:
            changed |= user_id not in state.until
            state.until[user_id] = now + max(0, min(timeout_ms, MAX_TIMEOUT_MS))
        else:
            changed |= state.until.pop(user_id, None) is not None
        # A refresh of someone already typing changes nothing a client sees: Synapse sends nothing for it either.
        if changed:
            self._announce(state)
        self._schedule(state, now)

    def expire(self) -> None:
        """Drop every typer whose timeout has passed (before a sync reads the rooms' typing)."""
        now = self._clock_ms()
        for state in self._rooms.values():
            if state.until and self._drop_expired(state, now):
                self._announce(state)

    def event_since(self, room_id: str, since_pos: int | None) -> JsonDict | None:
        """The room's `m.typing` event when it changed after `since_pos` (or, for a first sync, when anyone types)."""
        state = self._rooms.get(room_id)
        if state is None:
            return None
        if since_pos is None:
            if not state.until:
                return None
        elif state.pos <= since_pos:
            return None
        return {"type": "m.typing", "content": {"user_ids": sorted(state.until)}}

    def _drop_expired(self, state: _RoomTyping, now: int) -> bool:
        expired = [user_id for user_id, until in state.until.items() if until <= now]
        for user_id in expired:
            del state.until[user_id]
        return bool(expired)

    def _announce(self, state: _RoomTyping) -> None:
        state.pos = self._advance()
        self._notifier.notify(state.room.joined)
        self._notifier.notify((state.room.room_id,))

    def _schedule(self, state: _RoomTyping, now: int) -> None:
        """Keep one timer for the room, due at its earliest expiry (or none when nobody types)."""
        earliest = min(state.until.values(), default=None)
        if state.timer is not None and (earliest is None or state.timer_at > earliest):
            state.timer.cancel()
            state.timer = None
        if earliest is None or state.timer is not None:
            return  # a timer due no later than the earliest expiry fires, then schedules the next one
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous caller): expiry is still seen by the next sync
        state.timer = loop.call_later(max(0, earliest - now) / 1000, self._fire, state)
        state.timer_at = earliest

    def _fire(self, state: _RoomTyping) -> None:
        state.timer = None
        now = self._clock_ms()
        if self._drop_expired(state, now):
            self._announce(state)
        self._schedule(state, now)
