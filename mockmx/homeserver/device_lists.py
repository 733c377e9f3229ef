"""Whose device lists changed when: the positions `/sync`'s `device_lists` and `GET /keys/changes` read.

A user's device list changes when one of their devices uploads new device keys or goes away, or when their
cross-signing keys or the signatures on them change. Each change takes a stream position from the one counter room
events use, and wakes the long polls of everyone who shares a room with the user. Who else a client must hear about
follows from membership, as Synapse reports it: users who joined a room the client is in (and everyone in a room the
client joined) are `changed`; users who no longer share any room with the client after a leave are `left`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from mockmx.homeserver.notifier import Notifier
from mockmx.homeserver.rooms import Event

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver


class DeviceLists:
    """The latest change position of each user's device list, newest last."""

    def __init__(self, *, notifier: Notifier, advance: Callable[[], int], peers: Callable[[str], set[str]]) -> None:
        self._notifier = notifier
        self._advance = advance
        self._peers = peers
        self._changed: dict[str, int] = {}  # one entry per user ever changed: bounded by the accounts

    def mark_changed(self, user_id: str) -> None:
        pos = self._advance()
        self._changed.pop(user_id, None)  # re-inserted last, so the dict stays in position order
        self._changed[user_id] = pos
        self._notifier.notify(self._peers(user_id))

    def changed_between(self, after: int, upto: int | None = None) -> list[str]:
        """The users whose device list changed after position `after` (and at or before `upto`)."""
        found = []
        for user_id, pos in reversed(self._changed.items()):
            if pos <= after:
                break
            if upto is None or pos <= upto:
                found.append(user_id)
        return found


def device_list_updates(
    hs: Homeserver, user_id: str, after: int, upto: int | None = None
) -> tuple[list[str], list[str]]:
    """(changed, left) for `user_id` between two stream positions: what `/sync` and `/keys/changes` answer."""
    mine = hs.rooms_of(user_id)

    def shares_room(other: str) -> bool:
        return other == user_id or not hs.rooms_of(other).isdisjoint(mine)

    changed = {other for other in hs.keys.device_lists.changed_between(after, upto) if shares_room(other)}
    left: set[str] = set()
    recently_left = (room_id for room_id in hs.left_rooms.get(user_id, ()) if room_id not in mine)
    for room_id in (*mine, *recently_left):
        room = hs.rooms[room_id]
        if not room.positions or room.positions[-1] <= after:
            continue
        joined, departed = _membership_changes(room.events_after(after), upto)
        if user_id in joined:
            joined |= room.joined  # the user joined: everyone in the room is news to them
        if user_id in departed:
            departed |= room.joined | departed
        changed |= {other for other in joined if shares_room(other)}
        left |= {other for other in departed if not shares_room(other)}
    return sorted(changed), sorted(left - changed)


def _membership_changes(events: Iterable[Event], upto: int | None) -> tuple[set[str], set[str]]:
    """Who joined and who left (or was kicked or banned) among `events`, up to position `upto`."""
    joined: set[str] = set()
    departed: set[str] = set()
    for event in events:
        if upto is not None and event.pos > upto:
            break
        if event.type != "m.room.member" or event.state_key is None:
            continue
        target = event.state_key
        membership = event.content.get("membership")
        if membership == "join":
            joined.add(target)
            departed.discard(target)
        elif membership in ("leave", "ban"):
            departed.add(target)
            joined.discard(target)
    return joined, departed
