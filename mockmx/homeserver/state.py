"""Setting a room's state as a client does (`PUT /rooms/{roomId}/state/{eventType}/{stateKey}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import power
from mockmx.homeserver.membership import update_membership
from mockmx.homeserver.rooms import Event, JsonDict

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver


def set_state(hs: Homeserver, room_id: str, sender: str, event_type: str, state_key: str, content: JsonDict) -> Event:
    """The state event `sender` sets, or the current one when it already says the same (Synapse sends no repeat)."""
    if event_type == "m.room.member":
        membership = content.get("membership")
        if not isinstance(membership, str):
            raise MatrixError(400, "Invalid membership (must be a string)", Codes.UNKNOWN)
        return update_membership(hs, room_id, sender, state_key, membership, content)
    room = hs.rooms.get(room_id)
    if room is None or sender not in room.joined:
        raise MatrixError(403, f"User {sender} not in room {room_id}", Codes.FORBIDDEN)
    current = room.state.get((event_type, state_key))
    if current is not None and current.sender == sender and current.content == content:
        return current
    if event_type == "m.room.create":
        raise MatrixError(403, "Create event has prev events", Codes.FORBIDDEN)
    power.check_state_event(room, sender, event_type, state_key, content)
    return hs.send_event(room, sender, event_type, content, state_key=state_key)
