"""Membership changes (invite, join, leave, kick, ban, unban) and forgetting a room.

The checks run in Synapse's order: its membership handler first (bans, kicks of absent users, repeated changes),
then the spec's authorization rules for `m.room.member`, with Synapse's messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import power
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.homeserver.visibility import DEPARTED, membership_of

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver

# What a client may ask for, and the membership each one leaves the target with.
ACTIONS = {"invite": "invite", "join": "join", "leave": "leave", "kick": "leave", "ban": "ban", "unban": "leave"}
MEMBERSHIPS = ("invite", "join", "leave", "ban", "knock")


def update_membership(
    hs: Homeserver, room_id: str, sender: str, target: str, action: str, content: JsonDict | None = None
) -> Event:
    """Change `target`'s membership in the room as `sender` asks; the event that says so (an earlier identical one
    when nothing changes, as Synapse answers a repeat)."""
    membership = ACTIONS.get(action, action)
    if membership not in MEMBERSHIPS:
        raise MatrixError(400, "Invalid membership key", Codes.UNKNOWN)
    room = hs.rooms.get(room_id)
    if room is None:
        if membership == "leave" and sender == target:
            raise MatrixError(404, "Not a known room", Codes.UNKNOWN)
        raise MatrixError(403, "Unknown room", Codes.FORBIDDEN)
    content = {**(content or {}), "membership": membership}
    if membership in ("join", "invite"):
        content = {**_profile(hs, target), **content}
    old = room.member_event(target)
    repeat = _check_transition(old, action, membership, sender, content)
    if repeat is not None:
        return repeat
    if membership == "join":
        _check_guest(hs, room, target)
    _check_auth(room, sender, target, membership)
    return hs.send_event(room, sender, "m.room.member", content, state_key=target)


def forget(hs: Homeserver, room_id: str, user_id: str) -> None:
    """Hide a room the user has left from their syncs and state reads; 400 while they are joined or invited."""
    room = hs.rooms.get(room_id)
    membership = membership_of(room, user_id) if room is not None else None
    if membership is not None and membership not in DEPARTED:
        raise MatrixError(400, f"User {user_id} in room {room_id}", Codes.UNKNOWN)
    if membership is not None:
        hs.forgotten_rooms.setdefault(user_id, set()).add(room_id)


def is_forgotten(hs: Homeserver, user_id: str, room_id: str) -> bool:
    return room_id in hs.forgotten_rooms.get(user_id, ())


def _profile(hs: Homeserver, user_id: str) -> JsonDict:
    """What Synapse copies from the target's profile into a join or an invite (nothing for unknown users)."""
    if user_id not in hs.accounts.users:
        return {}
    profile: JsonDict = {"displayname": hs.display_name(user_id)}
    avatar_url = getattr(hs.accounts.users[user_id], "avatar_url", None)
    if isinstance(avatar_url, str):
        profile["avatar_url"] = avatar_url
    return profile


def _check_transition(old: Event | None, action: str, membership: str, sender: str, content: JsonDict) -> Event | None:
    """Synapse's membership handler: refusals that depend on the target's current membership; a repeat's event."""
    old_membership = old.content.get("membership") if old is not None else None
    if action == "unban" and old_membership != "ban":
        # Synapse lets an unban of someone who was never in the room through (a leave for them); refused here too.
        raise MatrixError(403, f"Cannot unban user who was not banned (membership={old_membership})", Codes.BAD_STATE)
    if old_membership == "ban" and action not in ("ban", "unban", "leave"):
        raise MatrixError(403, f"Cannot {action} user who was banned", Codes.BAD_STATE)
    if old is not None and old.sender == sender and old_membership == membership and old.content == content:
        return old
    if action == "kick" and old_membership in (None, *DEPARTED):
        raise MatrixError(403, "The target user is not in the room", Codes.FORBIDDEN)
    return None


def _check_guest(hs: Homeserver, room: Room, user_id: str) -> None:
    user = hs.accounts.users.get(user_id)
    if user is not None and user.is_guest and not room.guest_can_join:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)


def _check_auth(room: Room, sender: str, target: str, membership: str) -> None:
    """The spec's authorization rules for an `m.room.member` event."""
    caller = membership_of(room, sender)
    current = membership_of(room, target)
    if membership == "join":
        if sender != target:
            raise MatrixError(403, "Cannot force another user to join.", Codes.FORBIDDEN)
        if current == "ban":
            raise MatrixError(403, "You are banned from this room", Codes.FORBIDDEN)
        if room.join_rule != "public" and caller not in ("join", "invite"):
            raise MatrixError(403, "You are not invited to this room.", Codes.FORBIDDEN)
        return
    if membership == "knock":
        raise MatrixError(403, "You don't have permission to knock", Codes.FORBIDDEN)
    if membership == "leave" and sender == target and caller == "invite":
        return  # rejecting an invite
    if caller != "join":
        raise MatrixError(403, f"{sender} not in room {room.room_id}.", Codes.FORBIDDEN)
    mine = power.user_level(room, sender)
    theirs = power.user_level(room, target)
    if membership == "invite":
        if current == "ban":
            raise MatrixError(403, f"{target} is banned from the room", Codes.FORBIDDEN)
        if current == "join":
            raise MatrixError(403, f"{target} is already in the room.", Codes.FORBIDDEN)
        power.check_can(room, sender, "invite")
    elif membership == "leave":
        if current == "ban" and mine < power.action_level(room, "ban"):
            raise MatrixError(403, f"You cannot unban user {target}.", Codes.FORBIDDEN)
        if target != sender and (mine < power.action_level(room, "kick") or mine <= theirs):
            raise MatrixError(403, f"You cannot kick user {target}.", Codes.FORBIDDEN)
    elif membership == "ban":
        power.check_can(room, sender, "ban")
        if mine <= theirs:
            raise MatrixError(403, "You don't have permission to ban this user", Codes.FORBIDDEN)
