"""An uploaded filter (`POST /user/{userId}/filter`), checked field by field as Synapse checks one against its schema:
a field of the wrong type is refused when the filter is uploaded, not later, when a sync first uses it."""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.event_filter import BOOLEAN_FIELDS, LIST_FIELDS

EVENT_FORMATS = ("client", "federation")
_ROOM_EVENT_FILTERS = ("timeline", "state", "ephemeral", "account_data")


def check_filter(definition: dict[str, Any]) -> None:
    """400 M_BAD_JSON naming the first field of `definition` (a `Filter`) whose value has the wrong type."""
    _strings(definition, "event_fields", "")
    if "event_format" in definition and definition["event_format"] not in EVENT_FORMATS:
        raise MatrixError(400, f"Filter field 'event_format' must be one of {', '.join(EVENT_FORMATS)}", Codes.BAD_JSON)
    for key in ("presence", "account_data"):
        if (event_filter := _object(definition, key, "")) is not None:
            _event_filter(event_filter, f"{key}.")
    room = _object(definition, "room", "")
    if room is None:
        return
    for key in ("rooms", "not_rooms"):
        _strings(room, key, "room.")
    _boolean(room, "include_leave", "room.")
    for key in _ROOM_EVENT_FILTERS:
        if (event_filter := _object(room, key, "room.")) is not None:
            _event_filter(event_filter, f"room.{key}.")


def _event_filter(definition: dict[str, Any], where: str) -> None:
    """An `EventFilter` or a `RoomEventFilter`: its limit, its lists and its flags."""
    limit = definition.get("limit")
    if "limit" in definition and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise MatrixError(400, f"Filter field '{where}limit' must be an integer", Codes.BAD_JSON)
    for key in LIST_FIELDS:
        _strings(definition, key, where)
    for key in BOOLEAN_FIELDS:
        _boolean(definition, key, where)


def _object(container: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    if key not in container:
        return None
    value = container[key]
    if not isinstance(value, dict):
        raise MatrixError(400, f"Filter field '{where}{key}' must be an object", Codes.BAD_JSON)
    return value


def _strings(container: dict[str, Any], key: str, where: str) -> None:
    value = container.get(key)
    if key in container and (not isinstance(value, list) or not all(isinstance(item, str) for item in value)):
        raise MatrixError(400, f"Filter field '{where}{key}' must be a list of strings", Codes.BAD_JSON)


def _boolean(container: dict[str, Any], key: str, where: str) -> None:
    if key in container and not isinstance(container[key], bool):
        raise MatrixError(400, f"Filter field '{where}{key}' must be a boolean", Codes.BAD_JSON)
