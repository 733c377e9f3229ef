"""The world a scenario file describes, after loading: plain data, every reference already resolved.

User and room references are full Matrix ids here (`@alice:localhost`, `!lobby:localhost`); the loader
expands localparts and aliases, so the homeserver never has to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mockmx.limits import Limits


@dataclass(frozen=True)
class DeviceSpec:
    device_id: str
    display_name: str | None = None
    # A fixed token lets tests skip /login; None means the device only exists until someone logs in with it.
    access_token: str | None = None
    # The mock plays this device as an encrypting client (mockmx.crypto): real Olm keys, published at start-up.
    encrypted: bool = False
    one_time_keys: int = 50  # how many one-time keys an encrypted device keeps published (0: the fallback key only)


@dataclass(frozen=True)
class PusherSpec:
    """An HTTP pusher the user has from the start, as `POST /pushers/set` would make it."""

    app_id: str
    pushkey: str
    url: str  # an absolute http(s) URL, or a path (starting with /) on this mock itself
    format: str | None = None  # "event_id_only" for the short payload
    app_display_name: str = "mockmx"
    device_display_name: str = "mockmx"
    lang: str = "en"
    profile_tag: str | None = None


@dataclass(frozen=True)
class UserSpec:
    user_id: str
    password: str | None = None
    display_name: str | None = None
    devices: tuple[DeviceSpec, ...] = ()
    pushers: tuple[PusherSpec, ...] = ()
    # Push rules as `PUT /pushrules/global/{kind}/{rule_id}` bodies plus `kind` and `rule_id`, most important first
    # within a kind; for a server-default rule (`.m.rule...`), only `enabled` and `actions`.
    push_rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class TimelineEventSpec:
    sender: str
    type: str
    content: dict[str, Any]
    state_key: str | None = None


@dataclass(frozen=True)
class RoomSpec:
    room_id: str
    creator: str
    members: tuple[str, ...]
    alias: str | None = None
    name: str | None = None
    topic: str | None = None
    join_rule: str = "public"  # "public" or "invite"
    guest_access: bool = False
    history_visibility: str = "shared"
    published: bool = False  # listed in the server's public room list (GET /publicRooms)
    invited: tuple[str, ...] = ()
    timeline: tuple[TimelineEventSpec, ...] = ()


@dataclass(frozen=True)
class ScriptedEventSpec:
    """A room event or a to-device message the server emits on its own, relative to start-up."""

    after: float  # seconds after start-up for the first firing
    sender: str
    type: str
    content: dict[str, Any]
    every: float | None = None  # seconds between repeats; None fires once
    count: int | None = None  # firings in all when repeating; None repeats until shutdown
    room_id: str | None = None  # a room event when set...
    # ...otherwise a to-device message: {user_id: {device_id or "*": content}}
    to_device: dict[str, dict[str, dict[str, Any]]] | None = None
    action: KeyAction | None = None  # ...or, instead of any message, a change to the sender's keys


class KeyAction(StrEnum):
    """What a scripted entry can do to a user's encryption keys, for testing how a client copes."""

    DEVICE_LIST_CHANGE = "device_list_change"  # everyone sharing a room with the user sees it change in /sync
    DROP_ONE_TIME_KEYS = "drop_one_time_keys"  # their devices' one-time keys run out: claims get the fallback key


@dataclass(frozen=True)
class FaultSpec:
    """Requests matching `method` and `path` are delayed, answered with an error, or rate limited."""

    path: str  # a glob over the request path: `*` stays within one segment, `**` crosses segments
    method: str | None = None  # None matches every method
    after: int = 0  # matching requests let through untouched before the rule starts to apply
    times: int | None = None  # matching requests the rule applies to; None means all of them
    delay: float = 0.0  # seconds to wait before answering (or before passing the request on)
    status: int | None = None  # an error answer when set...
    errcode: str | None = None
    error: str | None = None
    retry_after_ms: int | None = None  # ...a 429 M_LIMIT_EXCEEDED with Retry-After when set
    # Handle the request as usual but answer with the error anyway: a lost acknowledgement, which makes a
    # client (or a homeserver pushing to the gateway) retry something that already happened.
    lose_answer: bool = False
    line: int | None = None  # where the rule stands in its file, for messages


@dataclass(frozen=True)
class RejectSpec:
    """The gateway lists matching pushkeys in `rejected`: always, or once `after` notifications were accepted."""

    pushkey: str | None = None  # None matches every pushkey...
    app_id: str | None = None  # ...and None every app id
    after: int = 0


class UnreadCount(StrEnum):
    """What a push's `counts.unread` counts: the spec's unread notifying messages over all the user's rooms, or
    the rooms with any, as Synapse does by default (`push.group_unread_count_by_room`). Pending invites count one
    each either way, as in Synapse."""

    MESSAGES = "messages"
    ROOMS = "rooms"


@dataclass(frozen=True)
class PushSpec:
    """How the mock homeserver retries a push that failed (from `backoff` seconds, doubling up to `max_backoff`, at
    most `max_attempts` times), how many pushes wait per pusher, and what its pushes count as unread."""

    backoff: float = 1.0
    max_backoff: float = 3600.0
    max_attempts: int = 10  # then the push is given up on: 1+2+...+256 s of retries, about 8.5 minutes
    max_backlog: int = 1000  # pushes waiting per pusher; past it the oldest is dropped
    unread_count: UnreadCount = UnreadCount.MESSAGES


@dataclass(frozen=True)
class RegistrationSpec:
    """Whether `POST /register` makes new accounts (after the `m.login.dummy` stage), or answers 403 as when off."""

    enabled: bool = False


@dataclass(frozen=True)
class MediaSpec:
    """The in-memory media repository: the largest upload it takes, and how much it keeps (oldest dropped first)."""

    max_upload_bytes: int = 50 * 1024 * 1024  # Synapse's default `max_upload_size`, 50M
    max_total_bytes: int = 512 * 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    server_name: str
    users: tuple[UserSpec, ...] = ()
    rooms: tuple[RoomSpec, ...] = ()
    script: tuple[ScriptedEventSpec, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    reject: tuple[RejectSpec, ...] = ()  # the push gateway's rejection rules
    push: PushSpec = PushSpec()
    media: MediaSpec = MediaSpec()
    registration: RegistrationSpec = RegistrationSpec()
    journal_limit: int | None = None  # requests the journal keeps (GET /_mockmx/requests); None: the default
    limits: Limits = field(default_factory=Limits)  # connections and request heads the server takes
    source: str = "<memory>"  # the file it came from, for messages and the start-up banner
