"""The default push rules, reduced to what a mock needs: which events notify a member, and with which tweaks.

In Synapse's order: an invite for the member, a mention of the member (by `m.mentions` or by name in the
body: a highlight with sound), a message in a one-to-one room (sound), any other message (notify only).
Events of other types, and the member's own events, do not notify.
"""

from __future__ import annotations

import re
from typing import Any

from mockmx.homeserver.rooms import Event

MESSAGE_TYPES = ("m.room.message", "m.room.encrypted")
SOUND = {"sound": "default", "highlight": False}
HIGHLIGHT = {"sound": "default", "highlight": True}


def tweaks_for(event: Event, user_id: str, display_name: str, joined_members: int) -> dict[str, Any] | None:
    """The tweaks of the first default rule that makes `event` notify `user_id`; None when none does."""
    if event.sender == user_id:
        return None
    content = event.content
    if event.type == "m.room.member":
        return dict(SOUND) if event.state_key == user_id and content.get("membership") == "invite" else None
    if event.type not in MESSAGE_TYPES:
        return None
    if _mentions(content, user_id, display_name):
        return dict(HIGHLIGHT)
    if joined_members == 2:
        return dict(SOUND)
    return {}


def priority(event: Event, tweaks: dict[str, Any]) -> str:
    # As Synapse: encrypted events and anything that sounds or highlights is urgent.
    return "high" if event.type == "m.room.encrypted" or tweaks.get("sound") or tweaks.get("highlight") else "low"


def _mentions(content: dict[str, Any], user_id: str, display_name: str) -> bool:
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        user_ids = mentions.get("user_ids")
        return isinstance(user_ids, list) and user_id in user_ids
    body = content.get("body")
    if not isinstance(body, str):
        return False
    localpart = user_id[1:].split(":", 1)[0]
    names = {re.escape(name) for name in (display_name, localpart) if name}
    return re.search(rf"(?<!\w)({'|'.join(names)})(?!\w)", body, re.IGNORECASE) is not None
