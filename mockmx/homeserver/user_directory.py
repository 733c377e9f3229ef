"""The user directory search: the users a searcher may find, as Synapse's default (not `search_all_users`) has it.

Those are the members of public rooms (anyone may join or read them) and the users who share a room with the
searcher. A search term matches when each of its words starts a word of the user id or the display name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mockmx.homeserver.rooms import JsonDict

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver

MAX_LIMIT = 50  # Synapse's cap
_WORD = re.compile(r"\w+")


def search_users(hs: Homeserver, searcher: str, term: str, limit: int) -> JsonDict:
    words = _WORD.findall(term.lower())
    found: list[JsonDict] = []
    if words:
        for user_id in _visible_users(hs, searcher):
            user = hs.accounts.users.get(user_id)
            display_name = user.display_name if user is not None else None
            haystack = _WORD.findall(f"{user_id} {display_name or ''}".lower())
            if all(any(word.startswith(wanted) for word in haystack) for wanted in words):
                result: JsonDict = {"user_id": user_id}
                if display_name:
                    result["display_name"] = display_name
                if user is not None and user.avatar_url:
                    result["avatar_url"] = user.avatar_url
                found.append(result)
    # Those with a profile first (the spec's "whether or not profile info is available"), then by name.
    found.sort(key=lambda r: ("display_name" not in r, (r.get("display_name") or r["user_id"]).lower(), r["user_id"]))
    limit = max(0, min(limit, MAX_LIMIT))
    return {"results": found[:limit], "limited": len(found) > limit}


def _visible_users(hs: Homeserver, searcher: str) -> set[str]:
    users: set[str] = set()
    for room in hs.rooms.values():
        if room.join_rule == "public" or room.world_readable:
            users |= room.joined
    for room_id in hs.rooms_of(searcher):
        # Synapse pairs each member with the others, never with themselves: a searcher finds themselves only
        # through a public room.
        users |= hs.rooms[room_id].joined - {searcher}
    return users
