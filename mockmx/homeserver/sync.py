"""What a device's `/sync` sees since a token: joined rooms' timelines and state, invites, to-device messages."""

from __future__ import annotations

from bisect import bisect_right

from mockmx.homeserver.accounts import Session
from mockmx.homeserver.device_lists import device_list_updates
from mockmx.homeserver.history import FOREVER
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.timeline import Direction, page
from mockmx.homeserver.tokens import StreamToken
from mockmx.homeserver.visibility import state_at

DEFAULT_TIMELINE_LIMIT = 10  # Synapse's default when the filter names none
# The stripped state an invite carries: the spec's required and recommended types, and Synapse's topic.
_INVITE_STATE = (
    "m.room.create",
    "m.room.join_rules",
    "m.room.name",
    "m.room.canonical_alias",
    "m.room.avatar",
    "m.room.encryption",
    "m.room.topic",
)


def sync_response(
    hs: Homeserver,
    session: Session,
    since: StreamToken | None,
    *,
    full_state: bool = False,
    timeline_limit: int = DEFAULT_TIMELINE_LIMIT,
    include_leave: bool = False,
    thread_counts: bool = False,
) -> tuple[JsonDict, bool]:
    """The sync body, and whether it has anything to say (a long poll waits while it has not)."""
    now = hs.clock_ms()
    user_id = session.user_id
    hs.typing.expire()  # a timeout that has passed is a change, at a position this sync's next_batch covers
    since_pos = since.room_pos if since is not None else None
    joined: JsonDict = {}
    for room_id in hs.rooms_of(user_id):
        room = hs.rooms[room_id]
        ephemeral = _ephemeral(hs, room_id, user_id, since)
        room_data = hs.account_data.room_events(user_id, room_id, since_pos)
        viewer = (user_id, session.device_id)
        entry = _joined_room(room, viewer, since, full_state, timeline_limit, now, ephemeral, room_data)
        if entry is not None:
            counts, by_thread = hs.notifications.unread_notifications(room, user_id, by_thread=thread_counts)
            entry["unread_notifications"] = counts
            if by_thread:  # only when the filter asks (`unread_thread_notifications`) and a thread has any
                entry["unread_thread_notifications"] = by_thread
            joined[room_id] = entry
    invited: JsonDict = {}
    for room_id in hs.invited_rooms.get(user_id, ()):
        room = hs.rooms[room_id]
        invite = room.member_event(user_id)
        if invite is not None and (since is None or invite.pos > since.room_pos):
            invited[room_id] = {"invite_state": {"events": _invite_state(room, invite)}}
    left: JsonDict = {}
    forgotten = hs.forgotten_rooms.get(user_id, set())
    for room_id in hs.left_rooms.get(user_id, ()):
        room = hs.rooms[room_id]
        departure = room.member_event(user_id)
        # A first sync shows rooms left long ago only when its filter asks (`include_leave`); later ones, new leaves.
        wanted = include_leave if since is None else departure is not None and departure.pos > since.room_pos
        if departure is not None and wanted and room_id not in forgotten:
            left[room_id] = _left_room(room, departure, (user_id, session.device_id), since, timeline_limit, now)

    if since is not None:
        hs.to_device.acknowledge(user_id, session.device_id, since.to_device_pos)
    to_device, to_device_pos = hs.to_device.pending(user_id, session.device_id)
    account_data = _account_data(hs, user_id, since_pos)
    presence = hs.presence.events_for(user_id, since_pos, now)
    # A first sync lists no device list changes (as Synapse): the client queries everyone it tracks anyway.
    changed, gone = device_list_updates(hs, user_id, since_pos) if since_pos is not None else ([], [])

    body: JsonDict = {
        "next_batch": str(StreamToken(hs.pos, to_device_pos)),
        "rooms": {"join": joined, "invite": invited, "leave": left},
        "to_device": {"events": to_device},
        "presence": {"events": presence},
        "account_data": {"events": account_data},
        "device_lists": {"changed": changed, "left": gone},
        # Synapse always sends these two (element-android needs them), so clients may rely on them.
        "device_one_time_keys_count": hs.keys.one_time_key_counts(user_id, session.device_id),
        "device_unused_fallback_key_types": hs.keys.unused_fallback_key_types(user_id, session.device_id),
    }
    news = joined or invited or left or to_device or account_data or presence or changed or gone
    return body, bool(news)


def _account_data(hs: Homeserver, user_id: str, since_pos: int | None) -> list[JsonDict]:
    """The user's global account data changed since the token; a first sync also gets the push rules (as Synapse)."""
    events = hs.account_data.global_events(user_id, since_pos)
    if since_pos is None and not any(event["type"] == "m.push_rules" for event in events):
        # Never changed, so not stored: the rules as they are (the defaults, and a scenario's).
        events.insert(0, {"type": "m.push_rules", "content": {"global": hs.push_rules.ruleset(user_id)}})
    return events


def _joined_room(
    room: Room,
    viewer: tuple[str, str],
    since: StreamToken | None,
    full_state: bool,
    limit: int,
    now: int,
    ephemeral: list[JsonDict],
    account_data: list[JsonDict],
) -> JsonDict | None:
    newly_joined = True
    if since is None or _joined_after(room, viewer[0], since.room_pos):
        # The newest events the viewer may see: with history visibility `joined`, none from before they joined.
        readable = room.history.readable(viewer[0]) or []
        found = page(room, readable, start=FOREVER, direction=Direction.BACKWARDS, limit=limit)
        events = found.events[::-1]
        # Events that fell out of the timeline (`limits.max_room_events`) are a gap too, if the viewer could read them.
        lost = room.dropped_upto > 0 and bool(readable) and readable[0][0] <= room.dropped_upto
        limited = found.next_pos is not None or lost
    else:
        newly_joined = False
        after = room.events_after(since.room_pos)
        if not after and not full_state and not ephemeral and not account_data:
            return None
        events = after[-limit:] if limit else []
        limited = len(after) > len(events) or room.dropped_upto > since.room_pos  # some fell out since the token
    # The state block is the state before the timeline starts: here, current state not already in the timeline.
    state: list[Event] = []
    if newly_joined or full_state:
        in_timeline = {event.event_id for event in events}
        state = [event for event in room.state.values() if event.event_id not in in_timeline]
    elif limited and since is not None:
        # The state that changed in the gap a limited timeline leaves out, which the client would otherwise miss.
        gap_end = events[0].pos if events else FOREVER
        state = sorted((e for e in room.state.values() if since.room_pos < e.pos < gap_end), key=lambda e: e.pos)
    # /messages pages back from prev_batch: just before the timeline's first event, or from the newest when empty.
    prev_pos = events[0].pos - 1 if events else (room.positions[-1] if room.positions else 0)
    return {
        "timeline": {
            "events": [_sync_event(event, now, viewer) for event in events],
            "limited": limited,
            "prev_batch": str(StreamToken(prev_pos, 0)),
        },
        "state": {"events": [_sync_event(event, now, viewer) for event in state]},
        "ephemeral": {"events": ephemeral},
        "account_data": {"events": account_data},
        "summary": {
            "m.joined_member_count": len(room.joined),
            "m.invited_member_count": len(room.invited),
        },
    }


def _joined_after(room: Room, user_id: str, pos: int) -> bool:
    """Whether the user was not yet joined at `pos`: a join that only changes a joined user's profile is no new join."""
    before = [membership for at, membership in room.history.memberships.get(user_id, ()) if at <= pos]
    return not before or before[-1] != "join"


def _ephemeral(hs: Homeserver, room_id: str, user_id: str, since: StreamToken | None) -> list[JsonDict]:
    """The room's typing and receipts changed since the token (for a first sync: who types, and every receipt)."""
    since_pos = since.room_pos if since is not None else None
    events = (hs.typing.event_since(room_id, since_pos), hs.receipts.event_since(room_id, user_id, since_pos))
    return [event for event in events if event is not None]


def _left_room(
    room: Room, departure: Event, viewer: tuple[str, str], since: StreamToken | None, limit: int, now: int
) -> JsonDict:
    """A room the viewer left or was kicked or banned from: its timeline up to and including that event, and the
    state as it was then (on a first sync all of it; later, what changed since the token)."""
    start = bisect_right(room.positions, since.room_pos) if since is not None else 0
    window = room.timeline[start : bisect_right(room.positions, departure.pos)]
    events = window[-limit:] if limit else []
    in_timeline = {event.event_id for event in events}
    after = since.room_pos if since is not None else 0
    state = [
        event
        for event in sorted(state_at(room, departure.pos).values(), key=lambda event: event.pos)
        if event.pos > after and event.event_id not in in_timeline
    ]
    prev_pos = events[0].pos - 1 if events else departure.pos  # as for joined rooms: no gap, no repeat
    return {
        "timeline": {
            "events": [_sync_event(event, now, viewer) for event in events],
            "limited": len(window) > len(events),
            "prev_batch": str(StreamToken(prev_pos, 0)),
        },
        "state": {"events": [_sync_event(event, now, viewer) for event in state]},
        "account_data": {"events": []},
    }


def _sync_event(event: Event, now: int, viewer: tuple[str, str]) -> JsonDict:
    # Sync leaves the room id out of room events: the room's key says it (ClientEventWithoutRoomID).
    serialized = event.serialize(now, viewer)
    del serialized["room_id"]
    return serialized


def _invite_state(room: Room, invite: Event) -> list[JsonDict]:
    state = [room.state[(kind, "")].stripped() for kind in _INVITE_STATE if (kind, "") in room.state]
    inviter = room.member_event(invite.sender)
    if inviter is not None:
        state.append(inviter.stripped())
    state.append(invite.stripped())
    return state
