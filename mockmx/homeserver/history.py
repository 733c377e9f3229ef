"""Which of a room's events a user may read: history visibility and their membership over time, as ranges of stream
positions, so that paging a long timeline skips what a user may not see instead of looking at every event.

As Synapse filters events for a client: an event is visible when the room was `world_readable` at it, when the user
was joined at it, when it was `invited` and they were invited, or when it was `shared` and the user is (or was) a
member. A user's own membership event counts with the more joined of their memberships before and after it, and a
history visibility event with the more permissive of the settings before and after it. A user who left or was banned
reads nothing after that; one who never joined reads only the `world_readable` stretches, and only while the room
still is world readable.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockmx.homeserver.rooms import Event

Range = tuple[int, int]  # first and last stream position, both included
FOREVER = sys.maxsize

DEFAULT_VISIBILITY = "shared"  # the spec's default when a room has no history visibility event
_PERMISSIVENESS = {"joined": 0, "invited": 1, "shared": 2, "world_readable": 3}
_DEPARTED = ("leave", "ban")


class History:
    """A room's history visibility settings and each user's membership changes, in stream order."""

    def __init__(self) -> None:
        self.visibility: list[tuple[int, str]] = []
        self.memberships: dict[str, list[tuple[int, str]]] = {}
        self.ever_joined: set[str] = set()

    def record(self, event: Event) -> None:
        if event.state_key is None:
            return
        if event.type == "m.room.history_visibility" and event.state_key == "":
            value = event.content.get("history_visibility")
            self.visibility.append((event.pos, value if value in _PERMISSIVENESS else DEFAULT_VISIBILITY))
        elif event.type == "m.room.member":
            membership = event.content.get("membership")
            membership = membership if isinstance(membership, str) else "leave"
            self.memberships.setdefault(event.state_key, []).append((event.pos, membership))
            if membership == "join":
                self.ever_joined.add(event.state_key)

    @property
    def current_visibility(self) -> str:
        return self.visibility[-1][1] if self.visibility else DEFAULT_VISIBILITY

    def is_member(self, user_id: str) -> bool:
        """Joined now, or joined once and since left or banned: a reader of the room's history (not a peeker)."""
        changes = self.memberships.get(user_id)
        if not changes:
            return False
        current = changes[-1][1]
        return current == "join" or (current in _DEPARTED and user_id in self.ever_joined)

    def readable(self, user_id: str, *, forgotten: bool = False) -> list[Range] | None:
        """The stream positions `user_id` may read, sorted and disjoint; None when they may not read the room.
        A user who forgot the room reads it as one who was never there."""
        member = self.is_member(user_id) and not forgotten
        if not member and self.current_visibility != "world_readable":
            return None
        changes = self.memberships.get(user_id, [])
        ranges: list[Range] = []
        for first, last, visibility in self._segments():
            if visibility == "world_readable" or (member and visibility == "shared"):
                ranges.append((first, last))
            elif member:
                wanted = ("join",) if visibility == "joined" else ("join", "invite")
                ranges.extend(_clip(_membership_ranges(changes, wanted), first, last))
        if member and changes[-1][1] in _DEPARTED:
            ranges = _clip(ranges, 0, changes[-1][0])  # nothing after they left
        return _merged(ranges)

    def _segments(self) -> list[tuple[int, int, str]]:
        """The timeline cut where the visibility changes; each change event a segment of its own."""
        segments = []
        previous, start = DEFAULT_VISIBILITY, 0
        for pos, visibility in self.visibility:
            if start < pos:
                segments.append((start, pos - 1, previous))
            more_permissive = max(previous, visibility, key=_PERMISSIVENESS.__getitem__)
            segments.append((pos, pos, more_permissive))
            previous, start = visibility, pos + 1
        segments.append((start, FOREVER, previous))
        return segments


def _membership_ranges(changes: list[tuple[int, str]], wanted: tuple[str, ...]) -> list[Range]:
    """Where the user's membership was one of `wanted`, the event that ended each stretch included."""
    ranges: list[Range] = []
    start: int | None = None
    for pos, membership in changes:
        if membership in wanted:
            if start is None:
                start = pos
        elif start is not None:
            ranges.append((start, pos))
            start = None
    if start is not None:
        ranges.append((start, FOREVER))
    return ranges


def _clip(ranges: list[Range], first: int, last: int) -> list[Range]:
    return [(max(a, first), min(b, last)) for a, b in ranges if a <= last and b >= first]


def _merged(ranges: list[Range]) -> list[Range]:
    merged: list[Range] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
