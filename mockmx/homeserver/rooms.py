"""Rooms and their events: one timeline per room, ordered by the server-wide stream position."""

from __future__ import annotations

import base64
import secrets
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from mockmx.homeserver.history import History
from mockmx.homeserver.relations import Relations
from mockmx.limits import Limits

# A client-visible event, as the client-server API serializes it.
JsonDict = dict[str, Any]


@dataclass(slots=True)
class Event:
    pos: int  # server-wide stream position: the event stream's order
    event_id: str
    room_id: str
    sender: str
    type: str
    content: JsonDict
    origin_server_ts: int
    state_key: str | None = None
    # (device_id, txn_id) of the send that made it, so the sender's own device sees its transaction id echoed.
    txn: tuple[str, str] | None = None
    redacted_because: Event | None = None  # the m.room.redaction that stripped `content`, once redacted

    def serialize(self, now_ms: int, viewer: tuple[str, str] | None = None) -> JsonDict:
        """The event as `viewer` (user id, device id) sees it: the sending device also gets its transaction id."""
        unsigned: JsonDict = {"age": max(0, now_ms - self.origin_server_ts)}
        if self.txn is not None and viewer == (self.sender, self.txn[0]):
            unsigned["transaction_id"] = self.txn[1]
        if self.redacted_because is not None:
            unsigned["redacted_because"] = self.redacted_because.serialize(now_ms, viewer)
        event: JsonDict = {
            "event_id": self.event_id,
            "room_id": self.room_id,
            "sender": self.sender,
            "type": self.type,
            "content": self.content,
            "origin_server_ts": self.origin_server_ts,
            "unsigned": unsigned,
        }
        if self.state_key is not None:
            event["state_key"] = self.state_key
        if self.type == "m.room.redaction" and "redacts" in self.content:
            # Room version 11 moved `redacts` into the content; Synapse serves it in both places for every version.
            event["redacts"] = self.content["redacts"]
        return event

    def stripped(self) -> JsonDict:
        """The stripped state form used in invites."""
        return {"type": self.type, "state_key": self.state_key, "sender": self.sender, "content": self.content}


def new_event_id() -> str:
    # The shape of room version 4+ ids: `$` and 43 characters of unpadded url-safe base64 (of a hash, there).
    return _EVENT_IDS.next()


class _RandomIds:
    """`$` and 32 random bytes in unpadded url-safe base64, as `secrets.token_urlsafe(32)` makes them, read from
    the OS in batches: a read per event was a system call on every send. Shared by every mock in the process,
    which is harmless: each id is as random as before."""

    _BATCH = 256

    def __init__(self) -> None:
        self._ids: list[str] = []

    def next(self) -> str:
        if not self._ids:
            raw = secrets.token_bytes(32 * self._BATCH)
            # A zero byte after each 32 makes groups of 33, whose base64 is 44 characters, the first 43 of which
            # are the unpadded base64 of the 32: one encoding for the batch.
            padded = b"".join(raw[start : start + 32] + b"\0" for start in range(0, len(raw), 32))
            text = base64.urlsafe_b64encode(padded).decode("ascii")
            self._ids = ["$" + text[start : start + 43] for start in range(0, len(text), 44)]
        return self._ids.pop()


_EVENT_IDS = _RandomIds()


@dataclass
class Room:
    room_id: str
    timeline: list[Event] = field(default_factory=list)  # the kept events: the newest `max_events` or a few more
    positions: list[int] = field(default_factory=list)  # timeline's stream positions, for bisecting
    state: dict[tuple[str, str], Event] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    invited: set[str] = field(default_factory=set)
    by_id: dict[str, Event] = field(default_factory=dict)  # the kept events only: one that fell out is unknown
    history: History = field(default_factory=History)  # who may read which part of the timeline
    relations: Relations = field(default_factory=Relations)  # parent event id -> the events relating to it
    max_events: int = Limits.max_room_events
    # The state just before the first kept event: with the kept ones, the state at any kept position.
    base_state: dict[tuple[str, str], Event] = field(default_factory=dict)
    dropped: int = 0  # events that fell out of the timeline
    dropped_upto: int = 0  # the stream position of the newest of them (0: none)
    # Changes to the room's state (a state event, a state event redacted): what was made from it is to be made again.
    state_changes: int = 0

    def append(self, event: Event) -> None:
        self.timeline.append(event)
        self.positions.append(event.pos)
        self.by_id[event.event_id] = event
        self.history.record(event)
        self.relations.add(event)
        if event.state_key is not None:
            self.state[(event.type, event.state_key)] = event
            self.state_changes += 1
            if event.type == "m.room.member":
                self._update_membership(event.state_key, event.content.get("membership"))
        # Let go in batches of 1/64 of the limit: deleting from the front of the lists moves all the rest.
        if len(self.timeline) > self.max_events + self.max_events // 64:
            self._let_go(len(self.timeline) - self.max_events)

    def _let_go(self, count: int) -> None:
        """Drop the `count` oldest events: out of the timeline, the event index and the relations. A state event
        among them moves to `base_state`, so that the room's state at every kept position stays known."""
        for event in self.timeline[:count]:
            self.by_id.pop(event.event_id, None)
            if event.state_key is not None:
                self.base_state[(event.type, event.state_key)] = event
            elif "m.relates_to" in event.content:
                self.relations.remove(event)
        self.dropped += count
        self.dropped_upto = self.positions[count - 1]
        del self.timeline[:count]
        del self.positions[:count]

    def _update_membership(self, user_id: str, membership: object) -> None:
        self.joined.discard(user_id)
        self.invited.discard(user_id)
        if membership == "join":
            self.joined.add(user_id)
        elif membership == "invite":
            self.invited.add(user_id)

    def events_after(self, pos: int, limit: int | None = None) -> list[Event]:
        """The events with a stream position above `pos`, oldest first: all of them, or the first `limit`."""
        start = bisect_right(self.positions, pos)
        return self.timeline[start : None if limit is None else start + limit]

    def state_content(self, event_type: str, state_key: str = "") -> JsonDict:
        event = self.state.get((event_type, state_key))
        return event.content if event is not None else {}

    @property
    def join_rule(self) -> str:
        return str(self.state_content("m.room.join_rules").get("join_rule", "invite"))

    @property
    def guest_can_join(self) -> bool:
        return self.state_content("m.room.guest_access").get("guest_access") == "can_join"

    @property
    def world_readable(self) -> bool:
        return self.state_content("m.room.history_visibility").get("history_visibility") == "world_readable"

    @property
    def name(self) -> str | None:
        name = self.state_content("m.room.name").get("name")
        return name if isinstance(name, str) else None

    @property
    def canonical_alias(self) -> str | None:
        alias = self.state_content("m.room.canonical_alias").get("alias")
        return alias if isinstance(alias, str) else None

    def member_event(self, user_id: str) -> Event | None:
        return self.state.get(("m.room.member", user_id))

    def membership_pos(self, user_id: str) -> int:
        """The stream position of the user's current membership event (0 when there is none)."""
        event = self.member_event(user_id)
        return event.pos if event is not None else 0
