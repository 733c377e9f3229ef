"""The homeserver: one object holding a scenario's world, changed only through its methods."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from mockmx.crypto.participants import EncryptedUsers
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import power
from mockmx.homeserver.account_data import AccountData
from mockmx.homeserver.accounts import Accounts
from mockmx.homeserver.directory import Directory
from mockmx.homeserver.keys import Keys
from mockmx.homeserver.media import MediaStore
from mockmx.homeserver.notifier import Notifier
from mockmx.homeserver.presence import Presence
from mockmx.homeserver.pushers import Pusher, Pushers
from mockmx.homeserver.receipts import Receipts
from mockmx.homeserver.redaction import room_version
from mockmx.homeserver.room_keys import RoomKeyBackups
from mockmx.homeserver.rooms import Event, JsonDict, Room, new_event_id
from mockmx.homeserver.to_device import ToDeviceInboxes
from mockmx.homeserver.tokens import StreamToken
from mockmx.homeserver.typing import Typing
from mockmx.homeserver.uia import InteractiveAuth
from mockmx.homeserver.visibility import DEPARTED, membership_of
from mockmx.push.notification_log import NotificationLog
from mockmx.push.ruleset import PushRules
from mockmx.scenario.model import RoomSpec, Scenario
from mockmx.web.json_gate import check_event_content

ROOM_VERSION = "10"


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class Homeserver:
    def __init__(self, scenario: Scenario, *, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.server_name = scenario.server_name
        self.clock_ms = clock_ms
        self.limits = scenario.limits  # how much of what grows with traffic is kept (rooms, inboxes, the log)
        self.accounts = Accounts(scenario.server_name)
        self.registration = scenario.registration
        self.uia = InteractiveAuth(clock_ms)
        self.notifier = Notifier()
        self.to_device = ToDeviceInboxes(max_per_device=scenario.limits.max_to_device_per_device)
        self.rooms: dict[str, Room] = {}
        self.aliases: dict[str, str] = {}
        self.joined_rooms: dict[str, set[str]] = {}  # user_id -> room ids, kept in step with Room.joined
        self.invited_rooms: dict[str, set[str]] = {}
        self.left_rooms: dict[str, set[str]] = {}  # rooms the user left or was kicked or banned from
        self.forgotten_rooms: dict[str, set[str]] = {}  # left rooms the user forgot, until their membership changes
        self.filters: dict[tuple[str, str], JsonDict] = {}  # (user_id, filter_id) -> filter definition
        self.pushers = Pushers()
        # Called with (room, event) for every stored event: how pushing (and later, recording) hooks in.
        self.listeners: list[Callable[[Room, Event], None]] = []
        self.pos = 0
        # Typing and receipts take stream positions of their own, from the one counter room events use.
        self.typing = Typing(clock_ms=clock_ms, notifier=self.notifier, advance=self.advance)
        self.receipts = Receipts(notifier=self.notifier, advance=self.advance)
        self.directory = Directory()
        self.media = MediaStore(scenario.server_name, scenario.media, clock_ms=clock_ms, notifier=self.notifier)
        self.account_data = AccountData(notifier=self.notifier, advance=self.advance)
        self.presence = Presence(notifier=self.notifier, advance=self.advance, peers=self.peers_of)
        self.keys = Keys(notifier=self.notifier, advance=self.advance, peers=self.peers_of)
        self.room_keys = RoomKeyBackups()
        # Push rules decide, as each event arrives, whom it notifies; the log keeps that for pushes and counts.
        self.push_rules = PushRules(on_change=self._push_rules_changed)
        self.notifications = NotificationLog(self)
        for user in scenario.users:
            self.accounts.add_user(user)
            self.push_rules.load(user.user_id, user.push_rules)
            for pusher in user.pushers:
                self.pushers.add(Pusher.from_spec(user.user_id, pusher), append=True)
        for room in scenario.rooms:
            self._build_room(room)
        # The scenario's rooms are the world as it starts: their messages and invites count as any would, but their
        # other state events (joins, names, ...), which default rules never notify of, are not evaluated for every
        # member: a room of 2,000 members would take four million evaluations to build.
        for built in self.rooms.values():
            for stored in built.timeline:
                if stored.state_key is None or stored.content.get("membership") == "invite":
                    self.notifications.on_event(built, stored)
        self.listeners.append(self.notifications.on_event)
        # Last: the encrypted scenario devices publish their keys into the world built so far.
        self.encrypted_users = EncryptedUsers(self, scenario.users)

    # -- reading --------------------------------------------------------------------------------------------

    def current_token(self) -> StreamToken:
        return StreamToken(self.pos, self.to_device.pos)

    def resolve_room(self, room_id_or_alias: str) -> Room | None:
        if room_id_or_alias.startswith("#"):
            room_id = self.aliases.get(room_id_or_alias)
            return self.rooms.get(room_id) if room_id is not None else None
        return self.rooms.get(room_id_or_alias)

    def rooms_of(self, user_id: str) -> set[str]:
        return self.joined_rooms.get(user_id, set())

    def peers_of(self, user_id: str) -> set[str]:
        """Everyone who shares a joined room with the user, the user included: who sees the user's presence."""
        peers = {user_id}
        for room_id in self.rooms_of(user_id):
            peers |= self.rooms[room_id].joined
        return peers

    def _push_rules_changed(self, user_id: str) -> None:
        # The rules reach the user's devices as `m.push_rules` account data, in /sync, at a position of its own.
        self.account_data.set_global(user_id, "m.push_rules", {"global": self.push_rules.ruleset(user_id)})

    def display_name(self, user_id: str) -> str:
        user = self.accounts.users.get(user_id)
        if user is not None and user.display_name:
            return user.display_name
        return user_id[1:].split(":", 1)[0]

    # -- writing --------------------------------------------------------------------------------------------

    def advance(self) -> int:
        """The next stream position, for a change that is not a room event (typing, a receipt, account data)."""
        self.pos += 1
        return self.pos

    def send_event(
        self,
        room: Room,
        sender: str,
        event_type: str,
        content: JsonDict,
        *,
        state_key: str | None = None,
        txn: tuple[str, str] | None = None,
    ) -> Event:
        """Append an event to the room and the stream, and wake whoever may see it."""
        check_event_content(content, room_version(room))  # every event, whatever made it: no floats in v6+ rooms
        self.pos += 1
        event = Event(
            self.pos, new_event_id(), room.room_id, sender, event_type, content, self.clock_ms(), state_key, txn
        )
        room.append(event)
        if event_type == "m.room.member" and state_key is not None:
            self._track_membership(room, state_key)
            self.notifier.notify((state_key,))
        self.notifier.notify(room.joined)
        if room.invited:
            self.notifier.notify(room.invited)
        self.notifier.notify((room.room_id,))
        for listener in self.listeners:
            listener(room, event)
        return event

    def send_message(
        self, room_id: str, sender: str, event_type: str, content: JsonDict, txn: tuple[str, str]
    ) -> Event:
        """A client's room send: the sender must be joined."""
        room = self.rooms.get(room_id)
        if room is None or sender not in room.joined:
            raise MatrixError(403, f"User {sender} not in room {room_id}", Codes.FORBIDDEN)
        power.check_send(room, sender, event_type, None)
        return self.send_event(room, sender, event_type, content, txn=txn)

    def send_to_device(self, sender: str, event_type: str, messages: dict[str, dict[str, Any]]) -> None:
        woken = self.to_device.deliver(sender, event_type, messages, self.accounts.device_ids)
        self.notifier.notify(woken)

    def delete_devices(self, user_id: str, device_ids: Iterable[str], *, keep_token: str | None = None) -> None:
        """Delete the user's devices (unknown ones are no error), logging out their tokens but `keep_token`."""
        for device_id in device_ids:
            self.accounts.delete_device(user_id, device_id, keep_token=keep_token)
            if device_id not in self.accounts.device_ids(user_id):
                self.to_device.drop_device(user_id, device_id)
                self.keys.drop_device(user_id, device_id)

    def join(self, user_id: str, room_id_or_alias: str) -> Room:
        room = self.resolve_room(room_id_or_alias)
        if room is None:
            if room_id_or_alias.startswith("#"):
                raise MatrixError(404, f"Room alias {room_id_or_alias} not found", Codes.NOT_FOUND)
            raise MatrixError(404, "No known servers", Codes.NOT_FOUND)
        if user_id in room.joined:
            return room
        if membership_of(room, user_id) == "ban":
            raise MatrixError(403, "Cannot join user who was banned", Codes.BAD_STATE)
        user = self.accounts.users.get(user_id)
        if user is not None and user.is_guest and not room.guest_can_join:
            raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
        if room.join_rule != "public" and user_id not in room.invited:
            raise MatrixError(403, "You are not invited to this room.", Codes.FORBIDDEN)
        self._set_membership(room, user_id, user_id, "join")
        return room

    def create_room(
        self,
        creator: str,
        *,
        name: str | None = None,
        topic: str | None = None,
        alias_localpart: str | None = None,
        preset: str = "private_chat",
        invite: Iterable[str] = (),
        is_direct: bool = False,
        initial_state: Iterable[JsonDict] = (),
    ) -> Room:
        invite = list(invite)
        if creator in invite:
            # The spec's auth rules refuse an invite for a joined user; refuse before a half-made room exists.
            raise MatrixError(403, f"{creator} is already in the room.", Codes.FORBIDDEN)
        alias = f"#{alias_localpart}:{self.server_name}" if alias_localpart is not None else None
        if alias is not None and alias in self.aliases:
            raise MatrixError(400, "Room alias already taken", Codes.ROOM_IN_USE)
        room_id = f"!{new_event_id()[1:19]}:{self.server_name}"
        public = preset == "public_chat"
        room = self._open_room(
            room_id,
            creator,
            alias,
            join_rule="public" if public else "invite",
            guest_access=None if public else "can_join",
        )
        for state in initial_state:
            self.send_event(room, creator, state["type"], state["content"], state_key=state.get("state_key", ""))
        if name is not None:
            self.send_event(room, creator, "m.room.name", {"name": name}, state_key="")
        if topic is not None:
            self.send_event(room, creator, "m.room.topic", {"topic": topic}, state_key="")
        for invitee in invite:
            self._set_membership(room, creator, invitee, "invite", is_direct=is_direct)
        return room

    # -- building -------------------------------------------------------------------------------------------

    def _open_room(
        self,
        room_id: str,
        creator: str,
        alias: str | None,
        *,
        join_rule: str,
        history_visibility: str = "shared",
        guest_access: str | None = None,
    ) -> Room:
        """A new room with the state events Synapse gives one: create, creator's join, power levels, rules."""
        room = Room(room_id, max_events=self.limits.max_room_events)
        self.rooms[room_id] = room
        create = {"creator": creator, "room_version": ROOM_VERSION}
        self.send_event(room, creator, "m.room.create", create, state_key="")
        self._set_membership(room, creator, creator, "join")
        self.send_event(room, creator, "m.room.power_levels", _power_levels(creator), state_key="")
        if alias is not None:
            self.aliases[alias] = room_id
            self.send_event(room, creator, "m.room.canonical_alias", {"alias": alias}, state_key="")
        self.send_event(room, creator, "m.room.join_rules", {"join_rule": join_rule}, state_key="")
        visibility = {"history_visibility": history_visibility}
        self.send_event(room, creator, "m.room.history_visibility", visibility, state_key="")
        if guest_access is not None:
            self.send_event(room, creator, "m.room.guest_access", {"guest_access": guest_access}, state_key="")
        return room

    def _build_room(self, spec: RoomSpec) -> None:
        room = self._open_room(
            spec.room_id,
            spec.creator,
            spec.alias,
            join_rule=spec.join_rule,
            history_visibility=spec.history_visibility,
            guest_access="can_join" if spec.guest_access else "forbidden",
        )
        if spec.name is not None:
            self.send_event(room, spec.creator, "m.room.name", {"name": spec.name}, state_key="")
        if spec.topic is not None:
            self.send_event(room, spec.creator, "m.room.topic", {"topic": spec.topic}, state_key="")
        if spec.published:
            self.directory.published.add(spec.room_id)
        for member in spec.members:
            if member != spec.creator:
                self._set_membership(room, member, member, "join")
        for invitee in spec.invited:
            self._set_membership(room, spec.creator, invitee, "invite")
        for event in spec.timeline:
            self.send_event(room, event.sender, event.type, dict(event.content), state_key=event.state_key)

    def _set_membership(
        self, room: Room, sender: str, target: str, membership: str, *, is_direct: bool = False
    ) -> None:
        content: JsonDict = {"membership": membership}
        if membership == "join":
            content["displayname"] = self.display_name(target)
        if is_direct:
            content["is_direct"] = True
        self.send_event(room, sender, "m.room.member", content, state_key=target)

    def _track_membership(self, room: Room, user_id: str) -> None:
        for index, members in ((self.joined_rooms, room.joined), (self.invited_rooms, room.invited)):
            rooms = index.setdefault(user_id, set())
            if user_id in members:
                rooms.add(room.room_id)
            else:
                rooms.discard(room.room_id)
        left = self.left_rooms.setdefault(user_id, set())
        if membership_of(room, user_id) in DEPARTED:
            left.add(room.room_id)
        else:
            left.discard(room.room_id)
        self.forgotten_rooms.get(user_id, set()).discard(room.room_id)


def _power_levels(creator: str) -> JsonDict:
    return {
        "users": {creator: 100},
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            "m.room.tombstone": 100,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 0,
        "historical": 100,
    }
