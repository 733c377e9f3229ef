"""Scenario files in, a `Scenario` out, or every problem in the file with its line and column.

Three passes over one YAML document: its nodes become plain data (remembering where each value stands),
`schema.json` checks the shape, then `_Builder` resolves references and checks what a schema cannot say
(unknown users, duplicates, keys that exclude each other) while it builds the model.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import yaml
from jsonschema import Draft202012Validator, ValidationError

from mockmx.errors import Codes
from mockmx.scenario.model import (
    DeviceSpec,
    FaultSpec,
    RoomSpec,
    Scenario,
    ScriptedEventSpec,
    TimelineEventSpec,
    UserSpec,
)

JsonPath = tuple[str | int, ...]
_T = TypeVar("_T")

_TAG = "tag:yaml.org,2002:"
_JSON_SCALAR_TAGS = frozenset(_TAG + name for name in ("null", "bool", "int", "float", "str"))
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
# Errors about a mapping's keys say nothing about its values, which later checks may still trust.
_KEY_VALIDATORS = frozenset({"additionalProperties", "required", "dependentRequired"})
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DEFAULT_ERRCODES = {429: Codes.LIMIT_EXCEEDED, 404: Codes.NOT_FOUND, 403: Codes.FORBIDDEN}
_MESSAGE = "m.room.message"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, at a 1-based line and column."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file that does not load; `problems` lists everything wrong with it, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(map(str, self.problems)))


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario file."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise ScenarioError([Problem(source, 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError([Problem(source, line, column, f"not UTF-8 text: {exc.reason}")]) from exc
    return load_scenario_text(text, source)


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Load and validate a scenario from YAML text; `source` names it in problems."""
    document = _Document(source)
    data = document.read(text)
    scenario = None
    if isinstance(data, dict):
        document.check_schema(data)
        scenario = _Builder(document, data).build()
    if document.problems or scenario is None:
        raise ScenarioError(document.sorted_problems())
    return scenario


@functools.cache
def default_scenario() -> Scenario:
    """The built-in scenario `mockmx serve` runs without --scenario."""
    resource = resources.files("mockmx") / "scenario" / "default.yaml"
    return load_scenario_text(resource.read_text(encoding="utf-8"), source=str(resource))


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads((resources.files("mockmx") / "scenario" / "schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


class _Document:
    """The problems found so far, and where every value of the document stands."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.value_marks: dict[JsonPath, tuple[int, int]] = {(): (1, 1)}
        self.key_marks: dict[JsonPath, tuple[int, int]] = {}
        # Values already reported as wrong: later passes must neither trust them nor report them again.
        self.invalid: set[JsonPath] = set()
        self._constructor = yaml.constructor.SafeConstructor()

    def report(
        self, path: JsonPath, message: str, *, key: str | None = None, position: tuple[int, int] | None = None
    ) -> None:
        """Report a problem with the value at `path`, or with its entry `key` (pointing at the key)."""
        if position is None and key is not None:
            position = self.key_marks.get((*path, key))
        line, column = position or self.position(path)
        where = _render_path(path)
        self.problems.append(Problem(self.source, line, column, f"{where}: {message}" if where else message))

    def position(self, path: JsonPath) -> tuple[int, int]:
        while path not in self.value_marks:
            path = path[:-1]
        return self.value_marks[path]

    def line(self, path: JsonPath) -> int:
        return self.position(path)[0]

    def sorted_problems(self) -> list[Problem]:
        unique = dict.fromkeys(self.problems)
        return sorted(unique, key=lambda problem: (problem.line, problem.column))

    def read(self, text: str) -> Any:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = ", ".join(part for part in (exc.context, exc.problem) if part)
            self.problems.append(Problem(self.source, line, column, f"YAML syntax error: {problem}"))
            return None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            message = f"YAML syntax error: unacceptable character #x{code:04x}: {exc.reason}"
            self.problems.append(Problem(self.source, line, column, message))
            return None
        except RecursionError:
            return self._too_deep()
        if root is None:
            self.report((), "the file is empty; expected a mapping with at least 'server_name'")
            return None
        if not isinstance(root, yaml.MappingNode):
            got = "a list" if isinstance(root, yaml.SequenceNode) else f"{root.value!r}"
            self.value_marks[()] = _position(root.start_mark)
            self.report((), f"expected a mapping with at least 'server_name' at the top level, got {got}")
            return None
        try:
            return self._data(root, (), set())
        except RecursionError:
            return self._too_deep()

    def _too_deep(self) -> None:
        self.problems.append(Problem(self.source, 1, 1, "YAML syntax error: the document is nested too deeply"))

    def _data(self, node: yaml.Node, path: JsonPath, active: set[int]) -> Any:
        self.value_marks[path] = _position(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in active:
            return self._broken(path, "an alias refers to a node that contains it")
        if node.tag not in (_TAG + "map", _TAG + "seq"):
            return self._broken(path, f"unsupported YAML tag {node.tag!r}")
        active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self._data(item, (*path, index), active) for index, item in enumerate(node.value)]
            return self._mapping(node, path, active)
        finally:
            active.discard(id(node))

    def _mapping(self, node: yaml.Node, path: JsonPath, active: set[int]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        own = [(key, value) for key, value in node.value if key.tag != _TAG + "merge"]
        # `<<: *anchor` merges: the node's own keys win, then earlier merged mappings over later ones.
        for key_node, value_node in node.value:
            if key_node.tag != _TAG + "merge":
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, yaml.MappingNode):
                    self.value_marks[(*path, "<<")] = _position(source.start_mark)
                    self._broken((*path, "<<"), "'<<' merges mappings only")
                    continue
                merged = self._data(source, path, active)
                result.update(merged if isinstance(merged, dict) else {})
        self.value_marks[path] = _position(node.start_mark)
        first_seen: dict[str, int] = {}
        for key_node, value_node in own:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "str"):
                got = f"{key_node.value} (quote it)" if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.report(path, f"keys must be strings, got {got}", position=_position(key_node.start_mark))
                continue
            key = key_node.value
            self.key_marks[(*path, key)] = _position(key_node.start_mark)
            if key in first_seen:
                self.report(path, f"duplicate key {key!r} (first at line {first_seen[key]})", key=key)
            first_seen.setdefault(key, key_node.start_mark.line + 1)
            result[key] = self._data(value_node, (*path, key), active)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        if node.tag == _TAG + "timestamp":
            return node.value  # YAML 1.1 reads `2024-01-01` as a date; JSON has no dates, keep the text
        if node.tag not in _JSON_SCALAR_TAGS:
            return self._broken(path, f"unsupported YAML tag {node.tag!r}")
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError):
            return self._broken(path, f"{node.value!r} is not a valid {node.tag.removeprefix(_TAG)}")
        if isinstance(value, float) and not math.isfinite(value):
            return self._broken(path, f"expected a finite number, got {node.value}")
        return value

    def _broken(self, path: JsonPath, message: str) -> None:
        self.report(path, message)
        self.invalid.add(path)

    def check_schema(self, data: dict[str, Any]) -> None:
        reported = frozenset(self.invalid)
        for error in _validator().iter_errors(data):
            path = tuple(error.absolute_path)
            if any(path[:end] in reported for end in range(len(path) + 1)):
                continue
            self._schema_problem(error, path)
            if error.validator not in _KEY_VALIDATORS:
                self.invalid.add(path)

    def _schema_problem(self, error: ValidationError, path: JsonPath) -> None:
        kind, expected, schema, value = error.validator, error.validator_value, error.schema, error.instance
        if kind == "additionalProperties":
            known = ", ".join(schema.get("properties", {}))
            for key in value:
                if key not in schema.get("properties", {}):
                    self.report(path, f"unknown key {key!r} (expected one of: {known})", key=key)
        elif kind == "required":
            for key in expected:
                if key not in value:
                    self.report(path, f"missing required key {key!r}")
        elif kind == "dependentRequired":
            for key, needed in expected.items():
                for other in needed:
                    if key in value and other not in value:
                        self.report(path, f"{key!r} only goes with {other!r}", key=key)
        elif kind == "enum":
            self.report(path, f"expected one of {', '.join(map(repr, expected))}, got {_show(value)}")
        elif kind == "const":
            self.report(path, f"expected {_show(expected)}, got {_show(value)}")
        elif kind in ("type", "pattern"):
            hint = ""
            if schema.get("type") == "string" and isinstance(value, bool | int | float):
                hint = " (quote it to make it a string)"
            self.report(path, f"expected {_expected(schema)}, got {_show(value)}{hint}")
        elif kind in ("minimum", "maximum", "exclusiveMinimum"):
            self.report(path, f"expected {_expected_number(schema)}, got {_show(value)}")
        elif kind == "minItems":
            self.report(path, f"expected at least {expected} item{'s' * (expected != 1)}, got {len(value)}")
        elif kind == "minProperties":
            self.report(path, f"expected at least {expected} entr{'ies' if expected != 1 else 'y'}, got {len(value)}")
        elif kind == "minLength":
            self.report(path, f"expected a non-empty string, got {_show(value)}")
        else:  # a keyword added to schema.json without a translation here: jsonschema's own words
            self.report(path, error.message)


class _Builder:
    """Resolves references and checks cross-field rules while building the model from schema-checked data."""

    def __init__(self, document: _Document, data: dict[str, Any]) -> None:
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

    def build(self) -> Scenario | None:
        server = self._get((), self.data, "server_name")
        if server is None:
            return None  # every reference expands against the server name, so nothing more can be checked
        self.server = server
        users = tuple(self._each("users", self._user))
        rooms = tuple(self._each("rooms", self._room))
        script = tuple(self._each("script", self._scripted_event))
        faults = tuple(self._each("faults", self._fault))
        return Scenario(server, users, rooms, script, faults, source=self.document.source)

    def _get(self, path: JsonPath, mapping: dict[str, Any], key: str) -> Any:
        """The value of `key`, or None when it is missing or already reported as wrong."""
        return None if (*path, key) in self.document.invalid else mapping.get(key)

    def _items(self, path: JsonPath, mapping: dict[str, Any], key: str) -> Iterator[tuple[JsonPath, Any]]:
        for index, item in enumerate(self._get(path, mapping, key) or ()):
            if (*path, key, index) not in self.document.invalid:
                yield (*path, key, index), item

    def _each(self, key: str, build: Callable[[JsonPath, Any], _T | None]) -> Iterator[_T]:
        for index, item in enumerate(self._get((), self.data, key) or ()):
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
        ref = self._get(path, entry, "id")
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
        for device_path, device in self._items(path, entry, "devices"):
            device_id = self._get(device_path, device, "id")
            token = self._get(device_path, device, "access_token")
            if token is not None:
                if token in self.tokens:
                    first = self.document.line(self.tokens[token])
                    self._report((*device_path, "access_token"), f"duplicate access token (first at line {first})")
                self.tokens.setdefault(token, (*device_path, "access_token"))
            if device_id is None:
                continue
            if device_id in devices:
                self._report((*device_path, "id"), f"duplicate device {device_id!r} of {user_id!r}")
            devices.setdefault(device_id, DeviceSpec(device_id, self._get(device_path, device, "display_name"), token))
        return UserSpec(
            user_id,
            password=self._get(path, entry, "password"),
            display_name=self._get(path, entry, "display_name"),
            devices=tuple(devices.values()),
        )

    def _room(self, path: JsonPath, entry: dict[str, Any]) -> RoomSpec | None:
        room_id, alias = self._room_names(path, entry)
        if room_id is None:
            return None
        members = self._user_list(path, entry, "members", {})
        invited = self._user_list(path, entry, "invited", members)
        creator_ref = self._get(path, entry, "creator")
        creator = self._known_user((*path, "creator"), creator_ref)
        if creator is not None and creator not in members:
            self._report((*path, "creator"), f"{creator_ref!r} is not a member of this room")
        guest_access = self._get(path, entry, "guest_access") or False
        default_visibility = "world_readable" if guest_access else "shared"
        timeline = tuple(
            event
            for event_path, item in self._items(path, entry, "timeline")
            if (event := self._timeline_event(event_path, item, members)) is not None
        )
        spec = RoomSpec(
            room_id,
            creator=creator or next(iter(members), ""),
            members=tuple(members),
            alias=alias,
            name=self._get(path, entry, "name"),
            topic=self._get(path, entry, "topic"),
            join_rule=self._get(path, entry, "join_rule") or "public",
            guest_access=guest_access,
            history_visibility=self._get(path, entry, "history_visibility") or default_visibility,
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
        alias_ref = self._get(path, entry, "alias")
        alias = None
        if alias_ref is not None:
            alias = alias_ref if alias_ref.startswith("#") else f"#{alias_ref}:{self.server}"
            self._local((*path, "alias"), alias, "aliases")
            if alias in self.aliases:
                first = self.document.line(self.rooms[self.aliases[alias]][0])
                self._report((*path, "alias"), f"duplicate alias {alias!r} (first at line {first})")
        room_id = self._get(path, entry, "id")
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
        for item_path, ref in self._items(path, entry, key):
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
        sender_ref = self._get(path, entry, "sender")
        sender = self._known_user((*path, "sender"), sender_ref)
        if sender is not None and sender not in members:
            self._report((*path, "sender"), f"{sender_ref!r} is not a member of this room")
        event_type = self._get(path, entry, "type") or _MESSAGE
        content = self._content(path, entry, event_type)
        if sender is None or content is None:
            return None
        return TimelineEventSpec(sender, event_type, content, state_key=self._get(path, entry, "state_key"))

    def _content(self, path: JsonPath, entry: dict[str, Any], event_type: str) -> dict[str, Any] | None:
        """The content of a room event, from exactly one of `content` and `say`."""
        if "content" in entry and "say" in entry:
            self._report(path, "'content' and 'say' exclude each other; give one", key="say")
            return None
        if "content" not in entry and "say" not in entry:
            self._report(path, "expected 'content' or 'say'")
            return None
        if "content" in entry:
            content: dict[str, Any] | None = self._get(path, entry, "content")
            return content
        if event_type != _MESSAGE:
            self._report(path, f"'say' only goes with type {_MESSAGE!r}, not {event_type!r}", key="say")
            return None
        text = self._get(path, entry, "say")
        return None if text is None else {"msgtype": "m.text", "body": text}

    def _scripted_event(self, path: JsonPath, entry: dict[str, Any]) -> ScriptedEventSpec | None:
        sender_ref = self._get(path, entry, "sender")
        sender = self._known_user((*path, "sender"), sender_ref)
        room_id: str | None = None
        to_device: dict[str, dict[str, dict[str, Any]]] | None = None
        content: dict[str, Any] | None = None
        event_type = self._get(path, entry, "type")
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
            room_id = self._known_room((*path, "room"), self._get(path, entry, "room"))
            members = self.rooms[room_id][1].members if room_id is not None else ()
            if sender is not None and room_id is not None and sender not in members:
                self._report((*path, "sender"), f"{sender_ref!r} is not a member of {room_id!r}")
            event_type = event_type or _MESSAGE
            content = self._content(path, entry, event_type)
        else:
            self._report(path, "expected 'room' (a room event) or 'to_device' (a to-device message)")
        every = self._duration(path, entry, "every")
        if every == 0:
            self._report((*path, "every"), "expected a duration greater than 0")
        count = self._get(path, entry, "count")
        if sender is None or event_type is None or content is None or (room_id is None and to_device is None):
            return None
        return ScriptedEventSpec(
            after=self._duration(path, entry, "after") or 0.0,
            sender=sender,
            type=event_type,
            content=content,
            every=every,
            count=None if count is None else int(count),
            room_id=room_id,
            to_device=to_device,
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
        messages = self._get(path, entry, "to_device")
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

    def _duration(self, path: JsonPath, entry: dict[str, Any], key: str) -> float | None:
        value = self._get(path, entry, key)
        if value is None or isinstance(value, int | float):
            return None if value is None else float(value)
        match = _DURATION.fullmatch(value)
        return None if match is None else float(match[1]) * _UNIT_SECONDS[match[2]]

    def _fault(self, path: JsonPath, entry: dict[str, Any]) -> FaultSpec | None:
        if not {"delay", "status", "rate_limit"} & entry.keys():
            self._report(path, "expected at least one of 'delay', 'status', 'rate_limit'")
        if "status" in entry and "rate_limit" in entry:
            self._report(path, "'status' and 'rate_limit' exclude each other; give one", key="rate_limit")
        glob = self._get(path, entry, "path")
        if glob is None:
            return None
        line = self.document.line(path)
        status = self._get(path, entry, "status")
        rate_limit = self._get(path, entry, "rate_limit")
        retry_after_ms = None if rate_limit is None else self._get((*path, "rate_limit"), rate_limit, "retry_after_ms")
        if retry_after_ms is not None:
            status = 429
        errcode = self._get(path, entry, "errcode")
        if status is not None and errcode is None:
            errcode = _DEFAULT_ERRCODES.get(status, Codes.UNKNOWN).value
        error = self._get(path, entry, "error")
        if status is not None and error is None:
            error = f"Injected fault (scenario rule at line {line})"
        times = self._get(path, entry, "times")
        return FaultSpec(
            path=glob,
            method=self._get(path, entry, "method"),
            after=int(self._get(path, entry, "after") or 0),
            times=None if times is None else int(times),
            delay=self._duration(path, entry, "delay") or 0.0,
            status=None if status is None else int(status),
            errcode=errcode,
            error=error,
            retry_after_ms=None if retry_after_ms is None else int(retry_after_ms),
            line=line,
        )


def _position(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _render_path(path: JsonPath) -> str:
    """`rooms[0].members[2]`; keys that are not identifiers as `to_device['@bob:localhost']`."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append(f".{step}" if parts else step)
        else:
            parts.append(f"[{step!r}]")
    return "".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _expected(schema: dict[str, Any]) -> str:
    if "title" in schema:
        return str(schema["title"])
    if "pattern" in schema:
        return f"a string matching {schema['pattern']}"
    types = schema.get("type", [])
    return " or ".join(_TYPE_WORDS[name] for name in ([types] if isinstance(types, str) else types))


def _expected_number(schema: dict[str, Any]) -> str:
    if "title" in schema:
        return str(schema["title"])
    word = _TYPE_WORDS.get(str(schema.get("type")), "a number")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{word} from {low} to {high}"
    if "exclusiveMinimum" in schema:
        return f"{word} greater than {schema['exclusiveMinimum']}"
    return f"{word} >= {low}" if low is not None else f"{word} <= {high}"
