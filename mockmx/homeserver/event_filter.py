"""A `RoomEventFilter`, as `/messages`, `/context` and (inside a sync filter) `/sync` take it: which events to keep."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockmx.errors import Codes, MatrixError
from mockmx.web import json_gate

if TYPE_CHECKING:
    from mockmx.homeserver.rooms import Event

LIST_FIELDS = ("types", "not_types", "senders", "not_senders", "rooms", "not_rooms")
BOOLEAN_FIELDS = ("contains_url", "lazy_load_members", "include_redundant_members", "unread_thread_notifications")


@dataclass(frozen=True)
class RoomEventFilter:
    types: re.Pattern[str] | None = None  # None: every type
    not_types: re.Pattern[str] | None = None
    senders: frozenset[str] | None = None
    not_senders: frozenset[str] = frozenset()
    rooms: frozenset[str] | None = None
    not_rooms: frozenset[str] = frozenset()
    contains_url: bool | None = None
    lazy_load_members: bool = False

    def matches(self, event: Event) -> bool:
        if event.room_id in self.not_rooms or (self.rooms is not None and event.room_id not in self.rooms):
            return False
        if event.sender in self.not_senders or (self.senders is not None and event.sender not in self.senders):
            return False
        if self.not_types is not None and self.not_types.fullmatch(event.type):
            return False
        if self.types is not None and not self.types.fullmatch(event.type):
            return False
        return self.contains_url is None or self.contains_url == ("url" in event.content)


EVERYTHING = RoomEventFilter()


def parse_room_event_filter(raw: str | None) -> RoomEventFilter:
    """The filter a `filter` query parameter spells in JSON (none: every event); 400 when it is not one."""
    if not raw:
        return EVERYTHING
    try:
        definition: Any = json_gate.decode(raw)  # the one gate, as for bodies
    except (ValueError, RecursionError):
        raise MatrixError(400, "Invalid filter JSON", Codes.NOT_JSON) from None
    if not isinstance(definition, dict):
        raise MatrixError(400, "The filter must be a JSON object", Codes.BAD_JSON)
    return room_event_filter(definition)


def room_event_filter(definition: dict[str, Any]) -> RoomEventFilter:
    """The filter a decoded `RoomEventFilter` object describes; 400 M_BAD_JSON for ill-typed fields."""
    for key in LIST_FIELDS:
        value = definition.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(item, str) for item in value)):
            raise MatrixError(400, f"Filter field {key!r} must be a list of strings", Codes.BAD_JSON)
    for key in BOOLEAN_FIELDS:
        if definition.get(key) is not None and not isinstance(definition[key], bool):
            raise MatrixError(400, f"Filter field {key!r} must be a boolean", Codes.BAD_JSON)
    not_types = definition.get("not_types")
    return RoomEventFilter(
        types=_patterns(definition.get("types")),
        not_types=_patterns(not_types) if not_types else None,
        senders=_strings(definition.get("senders")),
        not_senders=_strings(definition.get("not_senders")) or frozenset(),
        rooms=_strings(definition.get("rooms")),
        not_rooms=_strings(definition.get("not_rooms")) or frozenset(),
        contains_url=definition.get("contains_url"),
        lazy_load_members=bool(definition.get("lazy_load_members", False)),
    )


def _strings(value: list[str] | None) -> frozenset[str] | None:
    return frozenset(value) if value is not None else None


def _patterns(value: list[str] | None) -> re.Pattern[str] | None:
    """One pattern for a list of event types, in which `*` stands for any run of characters."""
    if value is None:
        return None
    alternatives = ("|".join(re.escape(item).replace(r"\*", ".*") for item in value)) or "(?!)"
    return re.compile(f"(?:{alternatives})", re.DOTALL)
