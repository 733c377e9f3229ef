"""Power levels (`m.room.power_levels`): who may send which events, invite, kick, ban and redact.

The spec's authorization rules (room versions 10 and before), with Synapse's error messages; a refusal is a 403
M_FORBIDDEN, as Synapse sends its "insufficient power" errors while MSC3848's codes are unstable.
"""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.rooms import Event, JsonDict, Room

# The levels an action needs when the power levels event does not say (the spec's defaults).
ACTION_DEFAULTS = {"invite": 0, "kick": 50, "ban": 50, "redact": 50}
_INTEGER_KEYS = ("users_default", "events_default", "state_default", "ban", "redact", "kick", "invite")
_MAPPING_KEYS = ("events", "notifications", "users")
_REFUSALS = {
    "invite": "You don't have permission to invite users",
    "kick": "You don't have permission to kick users",
    "ban": "You don't have permission to ban",
    "redact": "You don't have permission to redact events",
}


def levels(room: Room) -> JsonDict | None:
    """The power levels event's content, or None when the room has none."""
    event = room.state.get(("m.room.power_levels", ""))
    return event.content if event is not None else None


def user_level(room: Room, user_id: str) -> int:
    content = levels(room)
    if content is None:
        # Without power levels, the room's creator has 100 and everyone else 0.
        return 100 if user_id == _creator(room) else 0
    users = content.get("users")
    level = users.get(user_id) if isinstance(users, dict) else None
    if level is None:
        level = content.get("users_default", 0)
    return _as_int(level)


def action_level(room: Room, action: str) -> int:
    """The level `action` (invite, kick, ban, redact) needs."""
    content = levels(room) or {}
    return _as_int(content.get(action, ACTION_DEFAULTS[action]))


def required_for_event(room: Room, event_type: str, is_state: bool) -> int:
    """The level sending an event of `event_type` needs: its own entry, else `state_default` or `events_default`."""
    content = levels(room)
    if content is None:
        return 0  # the spec: without power levels, state_default is 0 as well as events_default
    events = content.get("events")
    level = events.get(event_type) if isinstance(events, dict) else None
    if level is None:
        level = content.get("state_default", 50) if is_state else content.get("events_default", 0)
    return _as_int(level)


def check_can(room: Room, user_id: str, action: str) -> None:
    """403 unless `user_id` has the level for `action` (invite, kick, ban, redact) in `room`."""
    if user_level(room, user_id) < action_level(room, action):
        raise MatrixError(403, _REFUSALS[action], Codes.FORBIDDEN)


def check_send(room: Room, sender: str, event_type: str, state_key: str | None) -> None:
    """403 unless `sender` may send this event: its level, and state keys naming another user are theirs alone."""
    have = user_level(room, sender)
    need = required_for_event(room, event_type, state_key is not None)
    if have < need:
        raise MatrixError(
            403,
            f"You don't have permission to post that to the room. user_level ({have}) < send_level ({need})",
            Codes.FORBIDDEN,
        )
    if state_key is not None and state_key.startswith("@") and state_key != sender:
        raise MatrixError(403, "You are not allowed to set others state", Codes.FORBIDDEN)


def check_redact(room: Room, user_id: str, target: Event) -> None:
    """403 unless `user_id` may redact `target`: anyone may redact their own events, others need the redact level."""
    check_send(room, user_id, "m.room.redaction", None)
    if target.sender != user_id:
        check_can(room, user_id, "redact")


def validate_levels(content: JsonDict) -> None:
    """400 unless `content` is well-formed power levels: integers, and user ids as the keys of `users`."""
    for key in _INTEGER_KEYS:
        if key in content and not _is_int(content[key]):
            raise MatrixError(400, f"{content[key]!r} must be an integer.", Codes.BAD_JSON)
    for key in _MAPPING_KEYS:
        value = content.get(key, {})
        if not isinstance(value, dict) or not all(_is_int(level) for level in value.values()):
            raise MatrixError(400, f"{value!r} must be a dict wherein all the values are integers.", Codes.BAD_JSON)
    for user_id in content.get("users", {}):
        if not user_id.startswith("@") or ":" not in user_id:
            raise MatrixError(400, f"Not a valid user_id: {user_id}", Codes.BAD_JSON)


def check_power_levels_change(room: Room, sender: str, new: JsonDict) -> None:
    """400 for malformed levels; 403 when `sender` raises anything above their own level or lowers their equals."""
    validate_levels(new)
    old = levels(room)
    if old is None:
        return
    mine = user_level(room, sender)
    changes: list[tuple[str | None, str, Any, Any]] = [(None, key, old.get(key), new.get(key)) for key in _INTEGER_KEYS]
    for name in _MAPPING_KEYS:
        before_map, after_map = _mapping(old.get(name)), _mapping(new.get(name))
        changes.extend((name, key, before_map.get(key), after_map.get(key)) for key in {*before_map, *after_map})
    for section, key, before, after in changes:
        if before == after:
            continue
        if section == "users" and key != sender and before is not None and _as_int(before) == mine:
            raise MatrixError(403, "You don't have permission to remove ops level equal to your own", Codes.FORBIDDEN)
        if (before is not None and _as_int(before) > mine) or (after is not None and _as_int(after) > mine):
            raise MatrixError(403, "You don't have permission to add ops level greater than your own", Codes.FORBIDDEN)


def check_state_event(room: Room, sender: str, event_type: str, state_key: str, content: JsonDict) -> None:
    """403 (or 400 for malformed power levels) unless `sender` may set this state in `room`."""
    check_send(room, sender, event_type, state_key)
    if event_type == "m.room.power_levels" and state_key == "":
        check_power_levels_change(room, sender, content)


def _creator(room: Room) -> str | None:
    create = room.state.get(("m.room.create", ""))
    if create is None:
        return None
    creator = create.content.get("creator")
    return creator if isinstance(creator, str) else create.sender


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value: object) -> int:
    # Stored levels were validated on the way in; scenario-made ones might still be strings of digits.
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0
