"""From schema-checked data to a `Scenario`, resolving references and checking what a schema cannot say.

Users and rooms are referred to by localpart, alias or full id; each reference must name one that the file
defines, and names must be unique. Faults and push settings refer to nothing, so they live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from mockmx.jsonpath import JsonPath
from mockmx.scenario.document import Document
from mockmx.scenario.durations import duration
from mockmx.scenario.fault_rules import fault_rule
from mockmx.scenario.limits import limits_spec
from mockmx.scenario.media import media_spec
from mockmx.scenario.model import (
    DeviceSpec,
    KeyAction,
    RoomSpec,
    Scenario,
    ScriptedEventSpec,
    TimelineEventSpec,
    UserSpec,
)
from mockmx.scenario.push import push_rules, push_spec, pushers, reject_rules
from mockmx.scenario.registration import registration_spec

_T = TypeVar("_T")
_MESSAGE = "m.room.message"


class Builder:
    """Resolves references and checks cross-field rules while building the model from schema-checked data."""

    def __init__(self, document: Document, data: dict[str, Any]) -> None:
        self.document = document
        self.data = data
        self.server: str = ""
        self.users: dict[str, JsonPath] = {}
        self.rooms: dict[str, tuple[JsonPath, RoomSpec]] = {}
        self.aliases: dict[str, str] = {}  # alias -> room id
        self.tokens: dict[str, JsonPath] = {}
        # After a problem hid some users (or rooms), an unknown reference may only be a follow-on error.
        self.all_users_known = True
        self.all_rooms_known = True

    @classmethod
    def for_world(
        cls,
        document: Document,
        server: str,
        users: Iterable[str],
        rooms: Mapping[str, Iterable[str]],
        aliases: Mapping[str, str],
    ) -> Builder:
        """A builder for parts of a scenario (a script entry) that refer to a running world: its users, its rooms
        with their joined members, its aliases."""
        builder = cls(document, {})
        builder.server = server
        builder.users = dict.fromkeys(users, ())
        builder.rooms = {room_id: ((), RoomSpec(room_id, "", tuple(members))) for room_id, members in rooms.items()}
        builder.aliases = dict(aliases)
        return builder

    def scripted_event(self, entry: dict[str, Any]) -> ScriptedEventSpec | None:
        """One script entry on its own (a document of its own), or None after reporting its problems."""
        return self._scripted_event((), entry)

    def build(self) -> Scenario | None:
        """The scenario, or None without a usable server name; every problem found goes to the document."""
        faults = tuple(self._each("faults", lambda path, entry: fault_rule(self.document, path, entry)))
        reject = reject_rules(self.document, self.data)
        push = push_spec(self.document, self.data)
        media = media_spec(self.document, self.data)
        limits = limits_spec(self.document, self.data)
        registration = registration_spec(self.document, self.data)
        server = self.document.get((), self.data, "server_name")
        if server is None:
            return None  # user and room references expand against the server name: they cannot be checked
        self.server = server
        users = tuple(self._each("users", self._user))
        rooms = tuple(self._each("rooms", self._room))
        script = tuple(self._each("script", self._scripted_event))
        return Scenario(
            server,
            users,
            rooms,
            script,
            faults,
            reject=reject,
            push=push,
            media=media,
            registration=registration,
            journal_limit=self.document.get((), self.data, "journal_limit"),
            limits=limits,
            source=self.document.source,
        )

    def _each(self, key: str, build: Callable[[JsonPath, Any], _T | None]) -> Iterator[_T]:
        for index, item in enumerate(self.document.get((), self.data, key) or ()):
            path: JsonPath = (key, index)
            spec = build(path, item) if path not in self.document.invalid else None
            if spec is not None:
                yield spec
        # The list or one of its entries was unreadable: it may hold the user or room a reference means.
        if any(path[:1] == (key,) and len(path) <= 2 for path in self.document.invalid):
            if key == "users":
                self.all_users_known = False
            elif key == "rooms":
                self.all_rooms_known = False

    def _report(self, path: JsonPath, message: str, *, key: str | None = None) -> None:
        self.document.report(path, message, key=key)

    def _local(self, path: JsonPath, full_id: str, what: str) -> None:
        if full_id.split(":", 1)[1] != self.server:
            self._report(path, f"{full_id!r} is on another server; {what} must be local to {self.server!r}")

    def _user_id(self, ref: str) -> str:
        return ref if ref.startswith("@") else f"@{ref}:{self.server}"

    def _known_user(self, path: JsonPath, ref: str | None) -> str | None:
        """The full id of a user reference, or None (reported) when no such user exists."""
        if ref is None:
            return None
        user_id = self._user_id(ref)
        if user_id in self.users:
            return user_id
        if self.all_users_known:
            self._report(path, f"unknown user {ref!r}")
        return None

    def _user(self, path: JsonPath, entry: dict[str, Any]) -> UserSpec | None:
        ref = self.document.get(path, entry, "id")
        if ref is None:
            self.all_users_known = False
            return None
        user_id = self._user_id(ref)
        self._local((*path, "id"), user_id, "users")
        if user_id in self.users:
            first = self.document.line(self.users[user_id])
            self._report((*path, "id"), f"duplicate user {user_id!r} (first at line {first})")
        self.users.setdefault(user_id, path)
        devices: dict[str, DeviceSpec] = {}
        for device_path, device in self.document.items(path, entry, "devices"):
            device_id = self.document.get(device_path, device, "id")
            token = self.document.get(device_path, device, "access_token")
            if token is not None:
                if token in self.tokens:
                    first = self.document.line(self.tokens[token])
                    self._report((*device_path, "access_token"), f"duplicate access token (first at line {first})")
                self.tokens.setdefault(token, (*device_path, "access_token"))
            if device_id is None:
                continue
            if device_id in devices:
                self._report((*device_path, "id"), f"duplicate device {device_id!r} of {user_id!r}")
            devices.setdefault(
                device_id,
                DeviceSpec(
                    device_id,
                    self.document.get(device_path, device, "display_name"),
                    token,
                    encrypted=bool(self.document.get(device_path, device, "encrypted")),
                    one_time_keys=_or_default(self.document.get(device_path, device, "one_time_keys"), 50),
                ),
            )
        return UserSpec(
            user_id,
            password=self.document.get(path, entry, "password"),
            display_name=self.document.get(path, entry, "display_name"),
            devices=tuple(devices.values()),
            pushers=pushers(self.document, path, entry, user_id),
            push_rules=push_rules(self.document, path, entry, user_id),
        )

    def _room(self, path: JsonPath, entry: dict[str, Any]) -> RoomSpec | None:
        room_id, alias = self._room_names(path, entry)
        if room_id is None:
            return None
        members = self._user_list(path, entry, "members", {})
        invited = self._user_list(path, entry, "invited", members)
        creator_ref = self.document.get(path, entry, "creator")
        creator = self._known_user((*path, "creator"), creator_ref)
        if creator is not None and creator not in members:
            self._report((*path, "creator"), f"{creator_ref!r} is not a member of this room")
        guest_access = self.document.get(path, entry, "guest_access") or False
        default_visibility = "world_readable" if guest_access else "shared"
        timeline = tuple(
            event
            for event_path, item in self.document.items(path, entry, "timeline")
            if (event := self._timeline_event(event_path, item, members)) is not None
        )
        spec = RoomSpec(
            room_id,
            creator=creator or next(iter(members), ""),
            members=tuple(members),
            alias=alias,
            name=self.document.get(path, entry, "name"),
            topic=self.document.get(path, entry, "topic"),
            join_rule=self.document.get(path, entry, "join_rule") or "public",
            guest_access=guest_access,
            history_visibility=self.document.get(path, entry, "history_visibility") or default_visibility,
            published=self.document.get(path, entry, "published") or False,
            invited=tuple(invited),
            timeline=timeline,
        )
        self.rooms.setdefault(room_id, (path, spec))
        return spec

    def _room_names(self, path: JsonPath, entry: dict[str, Any]) -> tuple[str | None, str | None]:
        """The room's id and alias, registered; a None id means the room cannot be referred to."""
        if "id" not in entry and "alias" not in entry:
            self._report(path, "expected 'id' or 'alias' (or both)")
            return None, None
        alias_ref = self.document.get(path, entry, "alias")
        alias = None
        if alias_ref is not None:
            alias = alias_ref if alias_ref.startswith("#") else f"#{alias_ref}:{self.server}"
            self._local((*path, "alias"), alias, "aliases")
            if alias in self.aliases:
                first = self.document.line(self.rooms[self.aliases[alias]][0])
                self._report((*path, "alias"), f"duplicate alias {alias!r} (first at line {first})")
        room_id = self.document.get(path, entry, "id")
        id_key = "id"
        if room_id is not None:
            self._local((*path, "id"), room_id, "rooms")
        elif alias is not None and "id" not in entry:
            room_id, id_key = f"!{alias[1:].split(':', 1)[0]}:{self.server}", "alias"
        if room_id is None:
            self.all_rooms_known = False
            return None, alias
        if room_id in self.rooms:
            first = self.document.line(self.rooms[room_id][0])
            derived = " (the id this alias gives)" if id_key == "alias" else ""
            self._report((*path, id_key), f"duplicate room id {room_id!r}{derived} (first at line {first})")
        if alias is not None:
            self.aliases.setdefault(alias, room_id)
        return room_id, alias

    def _user_list(self, path: JsonPath, entry: dict[str, Any], key: str, members: dict[str, None]) -> dict[str, None]:
        """The users listed under `key`, in order (a dict as an ordered set); `members` must not be repeated."""
        users: dict[str, None] = {}
        for item_path, ref in self.document.items(path, entry, key):
            user_id = self._known_user(item_path, ref)
            if user_id is None:
                continue
            if user_id in members:
                self._report(item_path, f"{ref!r} is already a member")
            elif user_id in users:
                self._report(item_path, f"{ref!r} is listed twice")
            users[user_id] = None
        return users

    def _timeline_event(
        self, path: JsonPath, entry: dict[str, Any], members: dict[str, None]
    ) -> TimelineEventSpec | None:
        sender_ref = self.document.get(path, entry, "sender")
        sender = self._known_user((*path, "sender"), sender_ref)
        if sender is not None and sender not in members:
            self._report((*path, "sender"), f"{sender_ref!r} is not a member of this room")
        event_type = self.document.get(path, entry, "type") or _MESSAGE
        content = self._content(path, entry, event_type)
        if sender is None or content is None:
            return None
        return TimelineEventSpec(sender, event_type, content, state_key=self.document.get(path, entry, "state_key"))

    def _content(self, path: JsonPath, entry: dict[str, Any], event_type: str) -> dict[str, Any] | None:
        """The content of a room event, from exactly one of `content` and `say`."""
        if "content" in entry and "say" in entry:
            self._report(path, "'content' and 'say' exclude each other; give one", key="say")
            return None
        if "content" not in entry and "say" not in entry:
            self._report(path, "expected 'content' or 'say'")
            return None
        if "content" in entry:
            content: dict[str, Any] | None = self.document.get(path, entry, "content")
            return content
        if event_type != _MESSAGE:
            self._report(path, f"'say' only goes with type {_MESSAGE!r}, not {event_type!r}", key="say")
            return None
        text = self.document.get(path, entry, "say")
        return None if text is None else {"msgtype": "m.text", "body": text}

    def _scripted_event(self, path: JsonPath, entry: dict[str, Any]) -> ScriptedEventSpec | None:
        sender_ref = self.document.get(path, entry, "sender")
        sender = self._known_user((*path, "sender"), sender_ref)
        room_id: str | None = None
        to_device: dict[str, dict[str, dict[str, Any]]] | None = None
        content: dict[str, Any] | None = None
        event_type = self.document.get(path, entry, "type")
        if "action" in entry:
            return self._key_action(path, entry, sender)
        if "room" in entry and "to_device" in entry:
            self._report(path, "'room' and 'to_device' exclude each other; give one", key="to_device")
        elif "to_device" in entry:
            to_device = self._to_device(path, entry)
            if "type" not in entry:
                self._report(path, "missing required key 'type' (to-device messages have no default type)")
            for key in ("content", "say"):
                if key in entry:
                    self._report(path, f"{key!r} is for room events; to_device gives the content per device", key=key)
            content = {}
        elif "room" in entry:
            room_id = self._known_room((*path, "room"), self.document.get(path, entry, "room"))
            members = self.rooms[room_id][1].members if room_id is not None else ()
            if sender is not None and room_id is not None and sender not in members:
                self._report((*path, "sender"), f"{sender_ref!r} is not a member of {room_id!r}")
            event_type = event_type or _MESSAGE
            content = self._content(path, entry, event_type)
        else:
            self._report(path, "expected 'room' (a room event) or 'to_device' (a to-device message)")
        every = duration(self.document, path, entry, "every")
        if every == 0:
            self._report((*path, "every"), "expected a duration greater than 0")
        count = self.document.get(path, entry, "count")
        if sender is None or event_type is None or content is None or (room_id is None and to_device is None):
            return None
        return ScriptedEventSpec(
            after=duration(self.document, path, entry, "after") or 0.0,
            sender=sender,
            type=event_type,
            content=content,
            every=every,
            count=None if count is None else int(count),
            room_id=room_id,
            to_device=to_device,
        )

    def _key_action(self, path: JsonPath, entry: dict[str, Any], sender: str | None) -> ScriptedEventSpec | None:
        """A scripted change to the sender's keys (`action:`), which sends nothing."""
        for key in ("room", "to_device", "type", "content", "say"):
            if key in entry:
                self._report(path, f"{key!r} does not go with 'action' (a change to keys sends nothing)", key=key)
        every = duration(self.document, path, entry, "every")
        count = self.document.get(path, entry, "count")
        action = self.document.get(path, entry, "action")
        if sender is None or action is None:
            return None
        return ScriptedEventSpec(
            after=duration(self.document, path, entry, "after") or 0.0,
            sender=sender,
            type="",
            content={},
            every=every or None,
            count=None if count is None else int(count),
            action=KeyAction(action),
        )

    def _known_room(self, path: JsonPath, ref: str | None) -> str | None:
        """The id of a room reference (id, alias or bare alias name), or None (reported) when there is none."""
        if ref is None:
            return None
        if ref.startswith("!"):
            room_id: str | None = ref if ref in self.rooms else None
        else:
            room_id = self.aliases.get(ref if ref.startswith("#") else f"#{ref}:{self.server}")
        if room_id is None and self.all_rooms_known:
            self._report(path, f"unknown room {ref!r}")
        return room_id

    def _to_device(self, path: JsonPath, entry: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]] | None:
        messages = self.document.get(path, entry, "to_device")
        if messages is None:
            return None
        to_device: dict[str, dict[str, dict[str, Any]]] = {}
        for ref, per_device in messages.items():
            user_path = (*path, "to_device", ref)
            user_id = self._known_user(user_path, ref) if user_path not in self.document.invalid else None
            if user_id is None:
                continue
            if user_id in to_device:
                self._report((*path, "to_device"), f"{user_id!r} is listed twice", key=ref)
            to_device.setdefault(user_id, {}).update(per_device)
        return to_device


def _or_default(value: Any, default: int) -> int:
    return default if value is None else int(value)
