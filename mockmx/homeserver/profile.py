"""Users' profiles (display name, avatar URL), and what a change does: a new join event in each of the user's rooms."""

from __future__ import annotations

from mockmx.homeserver.accounts import User
from mockmx.homeserver.rooms import JsonDict
from mockmx.homeserver.server import Homeserver

DISPLAYNAME = "displayname"
AVATAR_URL = "avatar_url"
FIELDS = (DISPLAYNAME, AVATAR_URL)


def profile_of(user: User) -> JsonDict:
    """The profile as `GET /profile/{userId}` and a join event carry it: fields that are unset are left out."""
    profile: JsonDict = {}
    if user.display_name is not None:
        profile[DISPLAYNAME] = user.display_name
    if user.avatar_url is not None:
        profile[AVATAR_URL] = user.avatar_url
    return profile


def set_field(hs: Homeserver, user: User, field: str, value: str | None) -> None:
    """Set (or, with None, clear) one profile field and, as Synapse does, send a join event carrying the new
    profile into every room the user is joined to, so that the other members see it in their `/sync`."""
    if field == DISPLAYNAME:
        user.display_name = value
    else:
        user.avatar_url = value
    for room_id in sorted(hs.rooms_of(user.user_id)):
        room = hs.rooms[room_id]
        content: JsonDict = {"membership": "join", **profile_of(user)}
        current = room.member_event(user.user_id)
        # Synapse sends nothing when the join would repeat the current one.
        if current is not None and current.sender == user.user_id and current.content == content:
            continue
        hs.send_event(room, user.user_id, "m.room.member", content, state_key=user.user_id)
