"""The room directory: aliases that name rooms, and the rooms published to the server's public room list.

The alias map itself is `Homeserver.aliases` (rooms are made and joined through it); this module keeps who made
each alias and which rooms are published, and answers the directory's questions with Synapse's rules and errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import power
from mockmx.homeserver.rooms import JsonDict, Room

if TYPE_CHECKING:  # the homeserver holds a Directory
    from mockmx.homeserver.server import Homeserver

MAX_ALIAS_LENGTH = 255  # Synapse's
MAX_PUBLIC_ROOMS = 100  # Synapse's cap on one page of the public room list
# A server name: a DNS name, an IPv4 address or a bracketed IPv6 address, and an optional port (the appendix).
_SERVER_NAME = re.compile(r"(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(:[0-9]{1,5})?")


@dataclass
class Directory:
    published: set[str] = field(default_factory=set)  # room ids on the public room list
    alias_creators: dict[str, str] = field(default_factory=dict)  # alias -> who made it with PUT /directory/room


def is_server_name(name: str) -> bool:
    return _SERVER_NAME.fullmatch(name) is not None


def parse_alias(alias: str) -> tuple[str, str]:
    """(localpart, server name) of a room alias; 400 M_INVALID_PARAM when it is not one."""
    localpart, colon, server = alias[1:].partition(":")
    if not alias.startswith("#") or not colon or not is_server_name(server):
        raise MatrixError(400, "Room alias invalid", Codes.INVALID_PARAM)
    return localpart, server


def resolve_alias(hs: Homeserver, alias: str) -> JsonDict:
    """`{room_id, servers}` for an alias; 404 for one that names no room (there is no federation to ask)."""
    parse_alias(alias)
    room_id = hs.aliases.get(alias)
    if room_id is None:
        raise MatrixError(404, f"Room alias {alias} not found", Codes.NOT_FOUND)
    return {"room_id": room_id, "servers": [hs.server_name]}


def add_alias(hs: Homeserver, user_id: str, alias: str, room_id: str) -> None:
    localpart, server = parse_alias(alias)
    if len(alias) > MAX_ALIAS_LENGTH:
        raise MatrixError(400, f"Can't create aliases longer than {MAX_ALIAS_LENGTH} characters", Codes.INVALID_PARAM)
    room = hs.rooms.get(room_id)
    if room is None:
        raise MatrixError(400, "Room does not exist", Codes.UNKNOWN)
    if user_id not in room.joined:
        raise MatrixError(403, "You must be in the room to create an alias for it", Codes.FORBIDDEN)
    if any(c.isspace() for c in localpart):
        raise MatrixError(400, "Invalid characters in room alias", Codes.UNKNOWN)
    if server != hs.server_name:
        raise MatrixError(400, "Room alias must be local", Codes.UNKNOWN)
    if alias in hs.aliases:
        raise MatrixError(409, f"Room alias {alias} already exists", Codes.UNKNOWN)
    hs.aliases[alias] = room_id
    hs.directory.alias_creators[alias] = user_id


def remove_alias(hs: Homeserver, user_id: str, alias: str) -> None:
    """Delete an alias: its creator may, and so may a member with the power to set the room's canonical alias.
    When the room's `m.room.canonical_alias` names it, Synapse sends a new one without it: so does this."""
    _, server = parse_alias(alias)
    room_id = hs.aliases.get(alias)
    if room_id is None:
        raise MatrixError(404, "Unknown room alias", Codes.NOT_FOUND)
    if server != hs.server_name:
        raise MatrixError(400, "Room alias must be local", Codes.UNKNOWN)
    room = hs.rooms[room_id]
    if hs.directory.alias_creators.get(alias) != user_id:
        _check_can_change_room_list(room, user_id, "You don't have permission to delete the alias.")
    del hs.aliases[alias]
    hs.directory.alias_creators.pop(alias, None)
    _drop_from_canonical_alias(hs, room, user_id, alias)


def visibility(hs: Homeserver, room_id: str) -> str:
    if room_id not in hs.rooms:
        raise MatrixError(404, "Unknown room", Codes.NOT_FOUND)
    return "public" if room_id in hs.directory.published else "private"


def set_visibility(hs: Homeserver, user_id: str, room_id: str, visibility: str, *, is_guest: bool = False) -> None:
    """Publish a room to the public room list, or take it off; it takes a member with the power Synapse asks for."""
    if is_guest:
        raise MatrixError(403, "Guests cannot edit the published room list", Codes.FORBIDDEN)
    room = hs.rooms.get(room_id)
    if room is None:
        raise MatrixError(404, "Unknown room", Codes.NOT_FOUND)
    _check_can_change_room_list(
        room, user_id, "This server requires you to be a moderator in the room to edit its room list entry"
    )
    if visibility == "public":
        hs.directory.published.add(room_id)
    else:
        hs.directory.published.discard(room_id)


def public_rooms(
    hs: Homeserver,
    *,
    limit: int | None,
    since: str | None,
    search_term: str | None = None,
    room_types: Sequence[str | None] | None = None,
) -> JsonDict:
    """A page of the public room list, as Synapse orders it (most members first, then room id, descending).

    Tokens name the last room of a page and a direction, so a page stays right when rooms come and go between
    requests, as Synapse's do.
    """
    every = _listed_rooms(hs)
    listed = sorted((room for room in every if _matches(room, search_term, room_types)), key=_order, reverse=True)
    limit = MAX_PUBLIC_ROOMS if limit is None or limit <= 0 or limit > MAX_PUBLIC_ROOMS else limit
    forwards, bound = _parse_token(since) if since else (True, None)
    if forwards:
        candidates = [room for room in listed if bound is None or _order(room) < bound]
        page = candidates[:limit]
        more_after, more_before = len(candidates) > limit, bound is not None
    else:
        candidates = [room for room in listed if bound is not None and _order(room) > bound]
        page = candidates[-limit:]
        more_after, more_before = True, len(candidates) > limit
    body: JsonDict = {
        "chunk": [_entry(room) for room in page],
        "total_room_count_estimate": len(every),
    }
    if page and more_after:
        body["next_batch"] = _token("n", page[-1])
    if more_before:
        body["prev_batch"] = _token("p", page[0]) if page else "p0:"
    return body


def _listed_rooms(hs: Homeserver) -> list[Room]:
    # As Synapse: published rooms that anyone may join or read, with somebody in them.
    return [
        room
        for room_id in hs.directory.published
        if (room := hs.rooms.get(room_id)) is not None
        and (room.join_rule in ("public", "knock", "knock_restricted") or room.world_readable)
        and room.joined
    ]


def _order(room: Room) -> tuple[int, str]:
    return len(room.joined), room.room_id


def _token(direction: str, room: Room) -> str:
    return f"{direction}{len(room.joined)}:{room.room_id}"


def _parse_token(token: str) -> tuple[bool, tuple[int, str]]:
    direction, count, _, room_id = token[:1], *token[1:].partition(":")
    if direction not in ("n", "p") or not count.isdigit() or len(count) > 9:
        raise MatrixError(400, "Invalid pagination token", Codes.INVALID_PARAM)
    return direction == "n", (int(count), room_id)


def _matches(room: Room, search_term: str | None, room_types: Sequence[str | None] | None) -> bool:
    if room_types is not None and _room_type(room) not in room_types:
        return False
    if not search_term:
        return True
    term = search_term.lower()
    topic = room.state_content("m.room.topic").get("topic")
    fields = (room.name, topic if isinstance(topic, str) else None, room.canonical_alias)
    return any(value is not None and term in value.lower() for value in fields)


def _room_type(room: Room) -> str | None:
    room_type = room.state_content("m.room.create").get("type")
    return room_type if isinstance(room_type, str) else None


def _entry(room: Room) -> JsonDict:
    topic = room.state_content("m.room.topic").get("topic")
    avatar = room.state_content("m.room.avatar").get("url")
    entry: JsonDict = {
        "room_id": room.room_id,
        "name": room.name,
        "topic": topic if isinstance(topic, str) else None,
        "canonical_alias": room.canonical_alias,
        "num_joined_members": len(room.joined),
        "avatar_url": avatar if isinstance(avatar, str) and avatar.startswith("mxc://") else None,
        "world_readable": room.world_readable,
        "guest_can_join": room.guest_can_join,
        "join_rule": room.join_rule,
        "room_type": _room_type(room),
    }
    return {key: value for key, value in entry.items() if value is not None}


def _check_can_change_room_list(room: Room, user_id: str, refusal: str) -> None:
    """Synapse's rule for the room list and for others' aliases: a member who may set the canonical alias."""
    if user_id not in room.joined:
        raise MatrixError(403, f"User {user_id} not in room {room.room_id}", Codes.FORBIDDEN)
    if power.user_level(room, user_id) < power.required_for_event(room, "m.room.canonical_alias", True):
        raise MatrixError(403, refusal, Codes.FORBIDDEN)


def _drop_from_canonical_alias(hs: Homeserver, room: Room, user_id: str, alias: str) -> None:
    content = dict(room.state_content("m.room.canonical_alias"))
    changed = content.get("alias") == alias
    if changed:
        del content["alias"]
    alt_aliases = content.get("alt_aliases")
    if isinstance(alt_aliases, list) and alias in alt_aliases:
        changed = True
        content["alt_aliases"] = [other for other in alt_aliases if other != alias]
        if not content["alt_aliases"]:
            del content["alt_aliases"]
    # Synapse sends it as the deleter, and leaves it be when they may not (an alias creator without power).
    can_send = user_id in room.joined and power.user_level(room, user_id) >= power.required_for_event(
        room, "m.room.canonical_alias", True
    )
    if changed and can_send:
        hs.send_event(room, user_id, "m.room.canonical_alias", content, state_key="")
