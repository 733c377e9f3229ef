"""Which state of a room a user may read: the current state while joined, the state when they left once departed."""

from __future__ import annotations

from bisect import bisect_right

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.rooms import Event, Room

StateMap = dict[tuple[str, str], Event]
DEPARTED = ("leave", "ban")


def membership_of(room: Room, user_id: str) -> str | None:
    """The user's membership in `room` ("join", "invite", "leave", "ban", ...), None when they never had one."""
    event = room.member_event(user_id)
    if event is None:
        return None
    membership = event.content.get("membership")
    return membership if isinstance(membership, str) else None


def state_at(room: Room, pos: int) -> StateMap:
    """The room's state just after stream position `pos`: every state event up to it, the last one for each key.
    Before the first kept event (the rest fell out of the timeline) that is the state as it was then."""
    if room.positions and pos >= room.positions[-1]:
        return dict(room.state)
    state: StateMap = dict(room.base_state)
    for event in room.timeline[: bisect_right(room.positions, pos)]:
        if event.state_key is not None:
            state[(event.type, event.state_key)] = event
    return state


def readable_state(room: Room | None, room_id: str, user_id: str, *, forgotten: bool = False) -> StateMap:
    """The state `user_id` may read, as Synapse gives it: current while joined, as it was at their leave or ban once
    departed, current again when the room is world readable; 403 otherwise (never there, invited, or forgotten)."""
    if room is not None:
        membership = membership_of(room, user_id)
        if membership == "join":
            return dict(room.state)
        if membership in DEPARTED and not forgotten:
            return state_at(room, room.membership_pos(user_id))
        if room.world_readable:
            return dict(room.state)
    raise MatrixError(403, f"User {user_id} not in room {room_id}, and room previews are disabled", Codes.FORBIDDEN)
