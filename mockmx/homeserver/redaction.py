"""Redactions: the `m.room.redaction` event, and the stored original stripped to what its room version keeps.

The spec's redaction algorithm for room versions 1 to 11 (rooms appendices, "Redactions"). Of the top-level keys a
client sees (`event_id`, `type`, `room_id`, `sender`, `state_key`, `content`, `origin_server_ts`), every version
keeps all but `content`, which loses every key except those listed here for its event type. The checks and their
messages are Synapse's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import power
from mockmx.homeserver.rooms import Event, JsonDict, Room

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver

_POWER_LEVELS = ("ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default")
LATEST_RULES = 11  # room versions after 11 (and unknown ones) redact as 11 does
# Synapse refuses to redact these: a room without them could not be authorized.
_UNREDACTABLE = {
    "m.room.create": "Redacting create events is not permitted",
    "m.room.server_acl": "Redacting server ACL events is not permitted",
}


def kept_content_keys(room_version: str, event_type: str) -> tuple[str, ...] | None:
    """The content keys a redaction keeps for `event_type` in `room_version` (None: all of them)."""
    version = int(room_version) if room_version.isdigit() else LATEST_RULES
    if event_type == "m.room.member":
        # Room version 11 also keeps third_party_invite, reduced to its `signed` key (see redacted_content).
        return ("membership",) + (("join_authorised_via_users_server",) if version >= 9 else ())
    if event_type == "m.room.create":
        return None if version >= 11 else ("creator",)
    if event_type == "m.room.join_rules":
        return ("join_rule",) + (("allow",) if version >= 8 else ())
    if event_type == "m.room.power_levels":
        return _POWER_LEVELS + (("invite",) if version >= 11 else ())
    if event_type == "m.room.aliases" and version <= 5:
        return ("aliases",)
    if event_type == "m.room.history_visibility":
        return ("history_visibility",)
    if event_type == "m.room.redaction" and version >= 11:
        return ("redacts",)
    return ()


def redacted_content(room_version: str, event_type: str, content: JsonDict) -> JsonDict:
    """`content` as a redaction leaves it."""
    kept = kept_content_keys(room_version, event_type)
    if kept is None:
        return dict(content)
    redacted = {key: content[key] for key in kept if key in content}
    if event_type == "m.room.member" and kept_content_keys(room_version, "m.room.create") is None:
        invite: Any = content.get("third_party_invite")
        if isinstance(invite, dict) and "signed" in invite:
            redacted["third_party_invite"] = {"signed": invite["signed"]}
    return redacted


def room_version(room: Room) -> str:
    version = room.state_content("m.room.create").get("room_version", "1")
    return version if isinstance(version, str) else "1"


def redact(hs: Homeserver, room_id: str, sender: str, event_id: str, content: JsonDict, txn: tuple[str, str]) -> Event:
    """Send `sender`'s redaction of `event_id` and strip the stored original; the redaction event."""
    room = hs.rooms.get(room_id)
    if room is None or sender not in room.joined:
        raise MatrixError(403, f"User {sender} not in room {room_id}", Codes.FORBIDDEN)
    target = room.by_id.get(event_id)
    if target is None:
        # Synapse lets a moderator redact an event it has not seen (it may arrive later); others learn it is unknown.
        power.check_send(room, sender, "m.room.redaction", None)
        if power.user_level(room, sender) < power.action_level(room, "redact"):
            raise MatrixError(404, f"Could not find event {event_id}", Codes.NOT_FOUND)
    else:
        if target.type in _UNREDACTABLE and target.state_key == "":
            raise MatrixError(403, _UNREDACTABLE[target.type], Codes.FORBIDDEN)
        power.check_redact(room, sender, target)
    redaction = hs.send_event(room, sender, "m.room.redaction", {**content, "redacts": event_id}, txn=txn)
    if target is not None and target.redacted_because is None:
        apply_redaction(room, target, redaction)
    return redaction


def apply_redaction(room: Room, target: Event, redaction: Event) -> None:
    """Replace the stored `target` by its redacted form; it no longer relates to any other event."""
    room.relations.remove(target)
    target.content = redacted_content(room_version(room), target.type, target.content)
    target.redacted_because = redaction
    if target.state_key is not None:
        room.state_changes += 1  # the room's state may be this event, now with less content
