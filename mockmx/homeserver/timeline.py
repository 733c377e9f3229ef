"""Paging through a room's timeline for one reader, in either direction, from a stream position.

A position `p` stands between events: the events at or before `p` lie behind it, those after `p` ahead. Paging
backwards from `p` returns events at or before it, newest first; forwards, the events after it, oldest first. Each
step bisects `Room.positions` and skips, by bisecting again, the stretches the reader may not see
(`History.readable`), so a page costs the same in a room of a hundred events as in one of a hundred thousand.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.event_filter import EVERYTHING, RoomEventFilter
from mockmx.homeserver.history import FOREVER, Range
from mockmx.homeserver.membership import is_forgotten
from mockmx.homeserver.rooms import Event, Room

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver


class Direction(StrEnum):
    """Which way a page goes from its token, spelled as the `dir` query parameter spells it."""

    BACKWARDS = "b"
    FORWARDS = "f"


@dataclass(frozen=True)
class Page:
    events: list[Event]  # in the direction paged
    next_pos: int | None  # where the next page starts; None when there is nothing more that way


def readable_room(hs: Homeserver, room_id: str, user_id: str) -> tuple[Room, list[Range]]:
    """The room and the stretches of it `user_id` may read; 403 when they may read none (never joined, forgotten,
    or no such room) and it is not world readable."""
    room = hs.rooms.get(room_id)
    if room is not None:
        readable = room.history.readable(user_id, forgotten=is_forgotten(hs, user_id, room_id))
        if readable is not None:
            return room, readable
    raise MatrixError(403, f"User {user_id} not in room {room_id}, and room previews are disabled", Codes.FORBIDDEN)


def page(
    room: Room,
    readable: list[Range],
    *,
    start: int,
    direction: Direction,
    limit: int,
    keep: RoomEventFilter = EVERYTHING,
    stop: int | None = None,
) -> Page:
    """Up to `limit` events that `keep` keeps, from position `start` in `direction`, not past position `stop`."""
    backwards = direction is Direction.BACKWARDS
    if backwards:
        indexes = _backwards(room, readable, start, -1 if stop is None else stop)
    else:
        indexes = _forwards(room, readable, start, stop)
    events: list[Event] = []
    for index in indexes:
        if len(events) >= limit:
            # There is at least this one more: the next page starts with it.
            pos = room.positions[index]
            return Page(events, pos if backwards else pos - 1)
        event = room.timeline[index]
        if keep.matches(event):
            events.append(event)
    return Page(events, None)


def _backwards(room: Room, readable: list[Range], start: int, floor: int) -> Iterator[int]:
    """Timeline indexes of readable events at or before `start` and after `floor`, newest first."""
    positions = room.positions
    index = bisect_right(positions, start) - 1
    r = len(readable) - 1
    while index >= 0:
        pos = positions[index]
        if pos <= floor:
            return
        while r >= 0 and readable[r][0] > pos:
            r -= 1
        if r < 0:
            return
        last = readable[r][1]
        if pos > last:
            index = bisect_right(positions, last) - 1  # jump over what this reader may not see
            continue
        yield index
        index -= 1


def _forwards(room: Room, readable: list[Range], start: int, ceiling: int | None) -> Iterator[int]:
    """Timeline indexes of readable events after `start` and at or before `ceiling`, oldest first."""
    positions = room.positions
    index = bisect_right(positions, start)
    r = 0
    while index < len(positions):
        pos = positions[index]
        if ceiling is not None and pos > ceiling:
            return
        while r < len(readable) and readable[r][1] < pos:
            r += 1
        if r == len(readable):
            return
        first = readable[r][0]
        if pos < first:
            index = bisect_left(positions, first)
            continue
        yield index
        index += 1


def is_readable(readable: list[Range], pos: int) -> bool:
    r = bisect_right(readable, (pos, FOREVER)) - 1  # the last range starting at or before pos
    return r >= 0 and readable[r][1] >= pos


def index_of(room: Room, event: Event) -> int:
    """The event's index in its room's timeline."""
    return bisect_left(room.positions, event.pos)
