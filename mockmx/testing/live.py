"""A running mock as a test sees it: its URL, and what was sent through it (notifications, to-device messages,
room events), with assertions that wait for asynchronous pushes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette

from mockmx.app import create_app
from mockmx.homeserver.rooms import Event, Room
from mockmx.homeserver.server import Homeserver
from mockmx.hosting import hosted_as
from mockmx.push.gateway import Gateway
from mockmx.scenario.loader import default_scenario
from mockmx.scenario.model import Scenario
from mockmx.testing.threaded import QuickMockServer, config_for, serving
from mockmx.verify import DEFAULT_IGNORE, assert_notifications, describe, differences, notifications_of
from mockmx.world import Mock, World

JsonDict = dict[str, Any]
POLL = 0.01  # seconds between looks at the journal while waiting for a push


class MockmxServer:
    """A mock homeserver serving on `url`, for a test: accessors for what was sent, and assertions."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.mock = hosted_as(app, Mock)
        self.url = ""  # set once the server is bound
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        # Every to-device message delivered, kept here: a sync acknowledges them and the inboxes forget them.
        self._to_device: list[tuple[str, str, JsonDict]] = []
        self._to_device_lock = threading.Lock()
        self._follow(self.mock.world)
        self.mock.world_listeners.append(self._follow)

    def _follow(self, world: World) -> None:
        """Listen to `world`, the mock's first or the one a reset made: what was sent before it is forgotten, as
        the journals are."""
        with self._events_lock:
            self._events.clear()
        with self._to_device_lock:
            self._to_device.clear()
        world.homeserver.to_device.listeners.append(self._keep_to_device)
        world.homeserver.listeners.append(self._keep_event)

    @property
    def homeserver(self) -> Homeserver:
        """The mock's state (users, rooms, pushers): read it, or change it as the API would."""
        return self.mock.world.homeserver

    @property
    def gateway(self) -> Gateway:
        """The push gateway's journal, entries with their metadata (`seq`, `received_ts`, `retries`, ...)."""
        return self.mock.world.gateway

    @property
    def scenario(self) -> Scenario:
        return self.mock.world.scenario

    def client(self, token: str | None = None, *, timeout: float = 10.0) -> httpx.Client:
        """An httpx client for this mock, sending `token` as a Bearer token when given; close it (or use `with`)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    # -- what was sent ---------------------------------------------------------------------------------------

    def notifications(self, **filters: str) -> list[JsonDict]:
        """The notifications the gateway kept so far, oldest first; filters: event_id, room_id, pushkey, app_id."""
        return [entry.notification for entry in self.gateway.notifications(**filters)]

    def wait_for_notifications(self, count: int = 1, *, timeout: float = 5.0, **filters: str) -> list[JsonDict]:
        """The notifications once at least `count` have arrived (pushes are asynchronous); an AssertionError after
        `timeout` seconds."""
        __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
        deadline = time.monotonic() + timeout
        while len(found := self.notifications(**filters)) < count:
            if time.monotonic() >= deadline:
                narrowed = f" ({_render_filters(filters)})" if filters else ""
                raise AssertionError(
                    f"expected at least {count} notification{'s' * (count != 1)}{narrowed} within {timeout} s, "
                    f"got {len(found)}" + "".join(f"\n  {describe(n)}" for n in found)
                )
            time.sleep(POLL)
        return found

    def to_device_messages(
        self, user: str | None = None, device: str | None = None, *, type: str | None = None, sender: str | None = None
    ) -> list[JsonDict]:
        """Every to-device message delivered (`{"sender", "type", "content"}`), oldest first, to `user` (and
        `device`) when given, whether or not a sync fetched it yet; `*` sends count once per device."""
        return [
            message
            for to_user, to_device, message in self._delivered()
            if (user is None or to_user == user)
            and (device is None or to_device == device)
            and (type is None or message["type"] == type)
            and (sender is None or message["sender"] == sender)
        ]

    def _keep_to_device(self, user_id: str, device_id: str, message: JsonDict) -> None:
        with self._to_device_lock:
            self._to_device.append((user_id, device_id, message))

    def _delivered(self) -> list[tuple[str, str, JsonDict]]:
        with self._to_device_lock:
            return list(self._to_device)

    def room_events(self, room: str, *, type: str | None = None, sender: str | None = None) -> list[JsonDict]:
        """The events stored in `room` (id or alias) since the mock started, as a client sees them, oldest first:
        sends, joins, scripted events; the scenario's initial state and timeline are left out."""
        resolved = self.homeserver.resolve_room(room)
        room_id = resolved.room_id if resolved is not None else room
        now = self.homeserver.clock_ms()
        with self._events_lock:
            events = list(self._events)
        return [
            event.serialize(now)
            for event in events
            if event.room_id == room_id
            and (type is None or event.type == type)
            and (sender is None or event.sender == sender)
        ]

    def decrypted(
        self, *, room: str | None = None, sender: str | None = None, type: str | None = None
    ) -> list[JsonDict]:
        """What the scenario's encrypted users decrypted of what was sent to them, oldest first: room messages
        (`{"room_id", "event_id", "sender", "type", "content"}`) and to-device messages (with `to_device`)."""
        room_id = None
        if room is not None:
            resolved = self.homeserver.resolve_room(room)
            room_id = resolved.room_id if resolved is not None else room
        return self.homeserver.encrypted_users.decrypted(room_id=room_id, sender=sender, type=type)

    def _keep_event(self, room: Room, event: Event) -> None:
        with self._events_lock:
            self._events.append(event)

    # -- assertions --------------------------------------------------------------------------------------------

    def assert_notified(
        self,
        expected: Mapping[str, Any] | None = None,
        *,
        pushkey: str | None = None,
        timeout: float = 5.0,
        ignore: Iterable[str] = DEFAULT_IGNORE,
        **fields: Any,
    ) -> JsonDict:
        """Wait for a notification (to `pushkey`, when given) that has the fields of `expected` and `fields`, and
        return it; an AssertionError naming the closest one's differences after `timeout` seconds.

        `assert_notified(type="m.room.message", content={"body": "hi"}, pushkey="bob-phone-pushkey")`
        """
        __tracebackhide__ = True
        wanted = {**(expected or {}), **fields}
        ignore = tuple(ignore)
        filters = {"pushkey": pushkey} if pushkey is not None else {}
        deadline = time.monotonic() + timeout
        while True:
            sent = self.notifications(**filters)
            for notification in sent:
                if not differences(notification, wanted, ignore=ignore, partial=True):
                    return notification
            if time.monotonic() >= deadline:
                raise AssertionError(_not_notified(wanted, sent, filters, timeout, ignore))
            time.sleep(POLL)

    def assert_notifications(
        self,
        expected: Any,
        *,
        timeout: float = 5.0,
        ignore: Iterable[str] = DEFAULT_IGNORE,
        partial: bool = False,
        ordered: bool = True,
        **filters: str,
    ) -> None:
        """Wait until as many notifications as `expected` holds have arrived (or `timeout`), then compare them with
        `mockmx.verify.assert_notifications` (see there for `expected`, `ignore`, `partial` and `ordered`)."""
        __tracebackhide__ = True
        wanted = notifications_of(expected)
        with contextlib.suppress(AssertionError):
            self.wait_for_notifications(len(wanted), timeout=timeout, **filters)
        assert_notifications(self.notifications(**filters), wanted, ignore=ignore, partial=partial, ordered=ordered)

    def assert_decrypted(
        self,
        expected: Mapping[str, Any] | None = None,
        *,
        room: str | None = None,
        timeout: float = 5.0,
        **fields: Any,
    ) -> JsonDict:
        """Wait for a message an encrypted scenario user decrypted (in `room`, when given) that has the fields of
        `expected` and `fields`, and return it; an AssertionError listing what was decrypted after `timeout` seconds.

        `assert_decrypted(sender="@alice:localhost", content={"body": "hi bob"}, room="#secret:localhost")`
        """
        __tracebackhide__ = True
        wanted = {**(expected or {}), **fields}
        deadline = time.monotonic() + timeout
        while True:
            found = self.decrypted(room=room)
            for entry in found:
                if not differences(entry, wanted, ignore=(), partial=True):
                    return entry
            if time.monotonic() >= deadline:
                where = f" in {room}" if room is not None else ""
                lines = [f"nothing decrypted{where} matched {wanted!r} within {timeout} s; {len(found)} decrypted"]
                lines += [f"  {entry!r}" for entry in found[:20]]
                raise AssertionError("\n".join(lines))
            time.sleep(POLL)


def _not_notified(
    wanted: JsonDict, sent: list[JsonDict], filters: dict[str, str], timeout: float, ignore: tuple[str, ...]
) -> str:
    narrowed = f" ({_render_filters(filters)})" if filters else ""
    lines = [f"no notification{narrowed} matched {wanted!r} within {timeout} s; {len(sent)} sent"]
    if sent:
        closest = min(sent, key=lambda n: len(differences(n, wanted, ignore=ignore, partial=True)))
        lines.append(f"the closest, {describe(closest)}, differs:")
        lines += [f"  {d}" for d in differences(closest, wanted, ignore=ignore, partial=True)]
        lines.append("sent:")
        lines += [f"  {i}. {describe(n)}" for i, n in enumerate(sent[:20], 1)]
    return "\n".join(lines)


def _render_filters(filters: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in filters.items())


@contextlib.contextmanager
def running_mock(scenario: Scenario | None = None) -> Iterator[MockmxServer]:
    """A mock homeserver serving `scenario` (default: the built-in one) on a free loopback port until the block
    ends."""
    scenario = scenario or default_scenario()
    app = create_app(scenario=scenario)
    mock = MockmxServer(app)
    with serving(QuickMockServer(config_for(app, limits=scenario.limits)), name="mockmx-server") as url:
        mock.url = url
        yield mock
