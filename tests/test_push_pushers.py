"""The homeserver side of push: `/pushers` and `/pushers/set`, and what the mock POSTs to a gateway, over real HTTP."""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockmx import __version__
from mockmx.scenario.loader import default_scenario, load_scenario_text
from tests.conftest import ALICE, ALICE_TOKEN, BOB, BOB_PHONE_TOKEN, LOBBY, LiveServer, assert_error, serve

NOTIFY = "/_matrix/push/v1/notify"
JOURNAL = "/_mockmx/notifications"
PUSHERS = "/_matrix/client/v3/pushers"
SET_PUSHER = "/_matrix/client/v3/pushers/set"
SPEC = Path(__file__).parents[2] / "shared" / "matrix-spec" / "merged"
CAROL_TOKEN = "carol-token"
PLAIN = "!plain:localhost"
CROWD = "!crowd:localhost"

# A homeserver whose bob pushes to the gateway at {url}; {extra} goes into bob's pusher.
HOMESERVER = """
server_name: localhost
push: {{backoff: 0.05s, max_backoff: 1s}}
users:
  - id: alice
    display_name: Alice
    devices: [{{id: ALICEDEV, access_token: alice-token}}]
  - id: bob
    display_name: Bob
    devices: [{{id: BOBPHONE, access_token: bob-phone-token}}]
    pushers:
      - app_id: com.example.full
        pushkey: PUSHKEY_BOB
        url: "{url}"
        app_display_name: Ex
        device_display_name: BobPhone
        lang: en
{extra}
  - id: carol
    devices: [{{id: CAROLDEV, access_token: carol-token}}]
rooms:
  - id: "!lobby:localhost"
    alias: "#lobby:localhost"
    name: Lobby
    members: [alice, bob]
  - id: "!plain:localhost"
    members: [alice, bob]
  - id: "!crowd:localhost"
    members: [alice, bob, carol]
"""
GATEWAY = """
server_name: gateway.test
"""


def homeserver_yaml(gateway: LiveServer | str, extra: str = "") -> str:
    url = gateway if isinstance(gateway, str) else gateway.url + NOTIFY
    return HOMESERVER.format(url=url, extra=extra)


def send_path(room_id: str, txn_id: str) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn_id}"


def send(client: httpx.Client, room_id: str, body: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    """Send a text message; its event id and content."""
    content = {"msgtype": "m.text", "body": body, **extra}
    r = client.put(send_path(room_id, f"t{time.monotonic_ns()}"), json=content)
    assert r.status_code == 200, r.text
    return r.json()["event_id"], content


def journal(live: LiveServer, **filters: str) -> list[dict[str, Any]]:
    with live.client() as client:
        r = client.get(JOURNAL, params=filters)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["notifications"]
    return entries


def wait_for_notifications(live: LiveServer, count: int, timeout: float = 5.0, **filters: str) -> list[dict[str, Any]]:
    """The gateway's journal once it holds at least `count` notifications (matching `filters`)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = journal(live, **filters)
        if len(entries) >= count:
            return entries
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} notifications at {live.url} within {timeout} s, got {entries}")
        time.sleep(0.01)


def pushers_of(live: LiveServer, token: str) -> list[dict[str, Any]]:
    with live.client(token) as client:
        r = client.get(PUSHERS)
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()["pushers"]
    validator = get_pushers_schema()
    if validator is not None:
        errors = [error.message for error in validator.iter_errors(r.json())]
        assert not errors, f"GET /pushers does not match the spec: {errors}"
    return listed


@cache
def get_pushers_schema() -> Draft202012Validator | None:
    path = SPEC / "client-server.json"
    if not path.is_file():
        return None
    spec = json.loads(path.read_text(encoding="utf-8"))
    answer = spec["paths"][PUSHERS]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return Draft202012Validator(answer)


@cache
def notify_schema() -> Draft202012Validator | None:
    path = SPEC / "push-gateway.json"
    if not path.is_file():
        return None
    spec = json.loads(path.read_text(encoding="utf-8"))
    schema = copy.deepcopy(spec["paths"][NOTIFY]["post"]["requestBody"]["content"]["application/json"]["schema"])
    return Draft202012Validator(schema)


def assert_spec_shaped(payload: dict[str, Any]) -> None:
    validator = notify_schema()
    if validator is None:
        return  # test_spec_schemas_are_at_hand skips, saying why
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(payload)]
    assert not errors, f"pushed payload does not match the spec's schema: {errors}\n{payload}"


def pusher_body(url: str = "https://push.example.org/_matrix/push/v1/notify", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "http",
        "app_id": "com.example.app.ios",
        "pushkey": "APA91bHPRgkF3JUikC4ENAHEeMrd41",
        "app_display_name": "Mat Rix",
        "device_display_name": "iPhone 9",
        "lang": "en",
        "profile_tag": "xxyyzz",
        "data": {"url": url, "format": "event_id_only"},
    }
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def set_pusher(client: httpx.Client, body: dict[str, Any]) -> None:
    r = client.post(SET_PUSHER, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {}


def assert_pushkey_ts(value: Any) -> None:
    assert isinstance(value, int) and not isinstance(value, bool), value
    assert abs(value - time.time()) < 60, f"pushkey_ts {value} is not in seconds near now ({time.time():.0f})"


# -- /pushers and /pushers/set --------------------------------------------------------------------------------


def test_spec_schemas_are_at_hand() -> None:
    if notify_schema() is None or get_pushers_schema() is None:
        pytest.skip(f"no Matrix spec data under {SPEC}: pushed payloads and GET /pushers go unchecked against the spec")


def test_scenario_pusher_is_listed_with_its_full_url(mock: LiveServer) -> None:
    [listed] = pushers_of(mock, BOB_PHONE_TOKEN)
    assert listed == {
        "pushkey": "bob-phone-pushkey",
        "kind": "http",
        "app_id": "org.example.mockmx",
        "app_display_name": listed["app_display_name"],
        "device_display_name": "BobPhone",
        "lang": listed["lang"],
        "data": {"url": mock.url + NOTIFY},
    }
    assert pushers_of(mock, ALICE_TOKEN) == []


def test_set_pusher_then_get_it(mock: LiveServer, bob: httpx.Client) -> None:
    body = pusher_body()
    set_pusher(bob, body)
    listed = pushers_of(mock, BOB_PHONE_TOKEN)
    assert [p["pushkey"] for p in listed] == ["bob-phone-pushkey", body["pushkey"]]
    expected = {key: value for key, value in body.items() if key != "append"}
    assert listed[1] == expected


def test_set_pusher_replaces_the_same_app_id_and_pushkey(mock: LiveServer, bob: httpx.Client) -> None:
    set_pusher(bob, pusher_body())
    set_pusher(bob, pusher_body(device_display_name="iPhone 10", data={"url": "http://gw.example:8080" + NOTIFY}))
    listed = [p for p in pushers_of(mock, BOB_PHONE_TOKEN) if p["app_id"] == "com.example.app.ios"]
    assert [(p["device_display_name"], p["data"]) for p in listed] == [
        ("iPhone 10", {"url": "http://gw.example:8080" + NOTIFY})
    ]
    # Another pushkey of the same app is another pusher.
    set_pusher(bob, pusher_body(pushkey="second-key"))
    assert len([p for p in pushers_of(mock, BOB_PHONE_TOKEN) if p["app_id"] == "com.example.app.ios"]) == 2


def test_same_pushkey_for_another_user_replaces_unless_appending(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    set_pusher(alice, pusher_body())
    set_pusher(bob, pusher_body())
    assert pushers_of(mock, ALICE_TOKEN) == []
    assert pusher_body()["pushkey"] in [p["pushkey"] for p in pushers_of(mock, BOB_PHONE_TOKEN)]
    set_pusher(alice, pusher_body(append=True))
    assert [p["pushkey"] for p in pushers_of(mock, ALICE_TOKEN)] == [pusher_body()["pushkey"]]
    assert pusher_body()["pushkey"] in [p["pushkey"] for p in pushers_of(mock, BOB_PHONE_TOKEN)]


def test_kind_null_deletes_the_pusher_and_its_pushes(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    set_pusher(bob, {"kind": None, "app_id": "org.example.mockmx", "pushkey": "bob-phone-pushkey"})
    assert pushers_of(mock, BOB_PHONE_TOKEN) == []
    # Deleting what is not there is no error.
    set_pusher(bob, {"kind": None, "app_id": "org.example.mockmx", "pushkey": "bob-phone-pushkey"})
    send(alice, LOBBY, "anyone there?")
    time.sleep(0.3)
    assert journal(mock) == []


def test_pushers_need_an_access_token(mock: LiveServer) -> None:
    with mock.client() as anonymous:
        assert_error(anonymous.get(PUSHERS), 401, "M_MISSING_TOKEN")
        assert_error(anonymous.post(SET_PUSHER, json=pusher_body()), 401, "M_MISSING_TOKEN")
    with mock.client("no-such-token") as stranger:
        assert_error(stranger.get(PUSHERS), 401, "M_UNKNOWN_TOKEN")
        assert_error(stranger.post(SET_PUSHER, json=pusher_body()), 401, "M_UNKNOWN_TOKEN")


def _data(**data: Any) -> dict[str, Any]:
    return pusher_body(data=data)


BAD_PUSHERS = [
    ("missing kind", pusher_body(kind=...), "M_MISSING_PARAM"),
    ("missing app_id", pusher_body(app_id=...), "M_MISSING_PARAM"),
    ("missing pushkey", pusher_body(pushkey=...), "M_MISSING_PARAM"),
    ("missing app_display_name", pusher_body(app_display_name=...), "M_MISSING_PARAM"),
    ("missing device_display_name", pusher_body(device_display_name=...), "M_MISSING_PARAM"),
    ("missing lang", pusher_body(lang=...), "M_MISSING_PARAM"),
    ("missing data", pusher_body(data=...), "M_MISSING_PARAM"),
    ("missing data.url", _data(format="event_id_only"), "M_MISSING_PARAM"),
    ("delete without pushkey", {"kind": None, "app_id": "org.example.mockmx"}, "M_MISSING_PARAM"),
    ("url not http", _data(url="ftp://push.example.org/_matrix/push/v1/notify"), "M_INVALID_PARAM"),
    ("url a bare path", _data(url=NOTIFY), "M_INVALID_PARAM"),
    ("url without a host", _data(url="https:///_matrix/push/v1/notify"), "M_INVALID_PARAM"),
    ("url with the wrong path", _data(url="https://push.example.org/notify"), "M_INVALID_PARAM"),
    ("url with no path", _data(url="https://push.example.org"), "M_INVALID_PARAM"),
    ("url not a url", _data(url="not a url"), "M_INVALID_PARAM"),
    ("kind email", pusher_body(kind="email"), "M_INVALID_PARAM"),
    ("app_id too long", pusher_body(app_id="a" * 65), "M_INVALID_PARAM"),
    ("pushkey too long", pusher_body(pushkey="k" * 513), "M_INVALID_PARAM"),
    ("kind a number", pusher_body(kind=1), "M_BAD_JSON"),
    ("app_id a number", pusher_body(app_id=1), "M_BAD_JSON"),
    ("pushkey an array", pusher_body(pushkey=["k"]), "M_BAD_JSON"),
    ("app_display_name a bool", pusher_body(app_display_name=True), "M_BAD_JSON"),
    ("device_display_name an object", pusher_body(device_display_name={}), "M_BAD_JSON"),
    ("lang a number", pusher_body(lang=1), "M_BAD_JSON"),
    ("profile_tag a number", pusher_body(profile_tag=1), "M_BAD_JSON"),
    ("append a string", pusher_body(append="true"), "M_BAD_JSON"),
    ("data a string", pusher_body(data="https://push.example.org/_matrix/push/v1/notify"), "M_BAD_JSON"),
    ("data.url a number", _data(url=1), "M_BAD_JSON"),
    ("data.format a number", _data(url="https://push.example.org" + NOTIFY, format=1), "M_BAD_JSON"),
]


@pytest.fixture(scope="module")
def untouched_mock() -> Iterator[LiveServer]:
    """One default mock for the tests of refused requests, which must leave it as they found it."""
    with serve(default_scenario()) as live:
        yield live


@pytest.mark.parametrize(("body", "errcode"), [case[1:] for case in BAD_PUSHERS], ids=[case[0] for case in BAD_PUSHERS])
def test_bad_pusher_is_refused_and_changes_nothing(
    untouched_mock: LiveServer, body: dict[str, Any], errcode: str
) -> None:
    before = pushers_of(untouched_mock, BOB_PHONE_TOKEN)
    with untouched_mock.client(BOB_PHONE_TOKEN) as bob:
        assert_error(bob.post(SET_PUSHER, json=body), 400, errcode)
    assert pushers_of(untouched_mock, BOB_PHONE_TOKEN) == before


@pytest.mark.parametrize(("body", "errcode"), [(b"{nope", "M_NOT_JSON"), (b"[]", "M_BAD_JSON")], ids=["text", "array"])
def test_set_pusher_body_must_be_a_json_object(untouched_mock: LiveServer, body: bytes, errcode: str) -> None:
    with untouched_mock.client(BOB_PHONE_TOKEN) as bob:
        assert_error(bob.post(SET_PUSHER, content=body), 400, errcode)


# -- pushing --------------------------------------------------------------------------------------------------


def test_default_scenario_pushes_bobs_notification_to_its_own_gateway(mock: LiveServer, alice: httpx.Client) -> None:
    event_id, content = send(alice, LOBBY, "hello bob's phone")
    [entry] = wait_for_notifications(mock, 1)
    notification = entry["notification"]
    assert notification["event_id"] == event_id
    assert notification["content"] == content
    assert notification["sender"] == ALICE
    assert [(d["app_id"], d["pushkey"], d["data"]) for d in notification["devices"]] == [
        ("org.example.mockmx", "bob-phone-pushkey", {})
    ]
    assert entry["user_agent"] == f"mockmx/{__version__}"
    assert mock.gateway.notifications(event_id=event_id)[0].notification == notification
    assert_spec_shaped({"notification": notification})


def test_push_to_a_second_mock_carries_what_synapse_sends(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(ALICE_TOKEN) as alice:
        sent = [send(alice, LOBBY, "push me"), send(alice, PLAIN, "and me"), send(alice, LOBBY, "me too")]
    entries = wait_for_notifications(gateway, 3)
    assert len(entries) == 3, entries
    for n, (entry, (event_id, content)) in enumerate(zip(entries, sent, strict=True), start=1):
        notification = entry["notification"]
        [device] = notification["devices"]
        assert_pushkey_ts(device["pushkey_ts"])
        expected: dict[str, Any] = {
            "event_id": event_id,
            "id": event_id,
            "room_id": PLAIN if n == 2 else LOBBY,
            "type": "m.room.message",
            "sender": ALICE,
            "sender_display_name": "Alice",
            "content": content,
            "prio": "high",
            "counts": {"unread": n},
            "devices": [
                {
                    "app_id": "com.example.full",
                    "pushkey": "PUSHKEY_BOB",
                    "pushkey_ts": device["pushkey_ts"],
                    "data": {},
                    # The spec's `.m.rule.room_one_to_one` sets no `highlight: false` (Synapse's older copy does).
                    "tweaks": {"sound": "default"},
                }
            ],
        }
        if n != 2:  # the plain room has neither name nor alias
            expected.update({"room_name": "Lobby", "room_alias": "#lobby:localhost"})
        assert notification == expected
        assert entry["user_agent"] == f"mockmx/{__version__}"
        assert entry["from"].startswith("127.0.0.1:")
        assert entry["retries"] == 0
        assert_spec_shaped({"notification": notification})


def test_pushed_data_is_the_pushers_data_without_url(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(BOB_PHONE_TOKEN) as bob:
        set_pusher(bob, pusher_body(data={"url": gateway.url + NOTIFY, "extra": {"x": 1}}))
    with homeserver.client(ALICE_TOKEN) as alice:
        send(alice, LOBBY, "data?")
    entries = wait_for_notifications(gateway, 1, pushkey=pusher_body()["pushkey"])
    [device] = entries[0]["notification"]["devices"]
    assert device["data"] == {"extra": {"x": 1}}
    assert device["app_id"] == pusher_body()["app_id"]
    assert_pushkey_ts(device["pushkey_ts"])


def test_event_id_only_format_sends_the_short_payload(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway, extra="        format: event_id_only"))
    with homeserver.client(ALICE_TOKEN) as alice:
        event_id, _ = send(alice, LOBBY, "short please")
    [entry] = wait_for_notifications(gateway, 1)
    notification = entry["notification"]
    [device] = notification["devices"]
    assert_pushkey_ts(device["pushkey_ts"])
    assert notification == {
        "event_id": event_id,
        "room_id": LOBBY,
        "counts": {"unread": 1},
        "prio": "high",
        "devices": [
            {
                "app_id": "com.example.full",
                "pushkey": "PUSHKEY_BOB",
                "pushkey_ts": device["pushkey_ts"],
                "data": {"format": "event_id_only"},
            }
        ],
    }
    assert_spec_shaped({"notification": notification})


def test_pusher_set_over_the_api_pushes_event_id_only(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(BOB_PHONE_TOKEN) as bob:
        set_pusher(bob, pusher_body(data={"url": gateway.url + NOTIFY, "format": "event_id_only"}))
    with homeserver.client(ALICE_TOKEN) as alice:
        event_id, _ = send(alice, LOBBY, "two pushers")
    entries = wait_for_notifications(gateway, 2)
    by_pushkey = {entry["notification"]["devices"][0]["pushkey"]: entry["notification"] for entry in entries}
    short = by_pushkey[pusher_body()["pushkey"]]
    assert set(short) == {"event_id", "room_id", "counts", "prio", "devices"}
    assert set(short["devices"][0]) == {"app_id", "pushkey", "pushkey_ts", "data"}
    assert short["event_id"] == by_pushkey["PUSHKEY_BOB"]["event_id"] == event_id


def test_sending_does_not_wait_for_pushing(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY + "faults:\n  - {method: POST, path: /_matrix/push/v1/notify, delay: 2s}\n")
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(ALICE_TOKEN) as alice:
        event_id, _ = send(alice, LOBBY, "don't wait for me")
    # The send has its answer while the push is still held up at the gateway for 2 s.
    assert gateway.gateway.notifications() == []
    [entry] = wait_for_notifications(gateway, 1, timeout=10)
    assert entry["notification"]["event_id"] == event_id


def test_failed_pushes_are_retried_with_backoff_in_order(serve_yaml: Callable[[str], LiveServer]) -> None:
    failing = "faults:\n  - {method: POST, path: /_matrix/push/v1/notify, times: 3, status: 500}\n"
    gateway = serve_yaml(GATEWAY + failing)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(ALICE_TOKEN) as alice:
        sent_ms = time.time() * 1000
        first, _ = send(alice, LOBBY, "first")
        second, _ = send(alice, LOBBY, "second")
    entries = wait_for_notifications(gateway, 2)
    assert [entry["notification"]["event_id"] for entry in entries] == [first, second]
    assert [entry["notification"]["counts"]["unread"] for entry in entries] == [1, 2]
    assert [entry["retries"] for entry in entries] == [0, 0]
    # Three failures: waits of 0.05 s, 0.1 s and 0.2 s before the fourth attempt gets through.
    waited_ms = entries[0]["received_ts"] - sent_ms
    assert waited_ms >= 350 - 2, f"the first notification came {waited_ms:.0f} ms after the send"
    assert homeserver.mock.world.push_sender.failures == 3


def test_lost_answer_is_retried_and_kept_once(serve_yaml: Callable[[str], LiveServer]) -> None:
    losing = "faults:\n  - {method: POST, path: /_matrix/push/v1/notify, times: 1, status: 500, lose_answer: true}\n"
    gateway = serve_yaml(GATEWAY + losing)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(ALICE_TOKEN) as alice:
        event_id, _ = send(alice, LOBBY, "did you get it?")
        second, _ = send(alice, LOBBY, "and this?")
    entries = wait_for_notifications(gateway, 2)
    assert [(entry["notification"]["event_id"], entry["retries"]) for entry in entries] == [(event_id, 1), (second, 0)]
    assert homeserver.mock.world.push_sender.failures == 1


def test_rejected_pushkey_removes_the_pusher(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY + "gateway:\n  reject:\n    - pushkey: PUSHKEY_BOB\n")
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(BOB_PHONE_TOKEN) as bob:
        # A second pusher the gateway keeps: it shows when later pushes have been made.
        set_pusher(bob, pusher_body(data={"url": gateway.url + NOTIFY}))
    with homeserver.client(ALICE_TOKEN) as alice:
        first, _ = send(alice, LOBBY, "for a dead token")
        [rejected] = wait_for_notifications(gateway, 1, pushkey="PUSHKEY_BOB")
        assert rejected["rejected"] == ["PUSHKEY_BOB"]
        deadline = time.monotonic() + 5
        while "PUSHKEY_BOB" in [p["pushkey"] for p in pushers_of(homeserver, BOB_PHONE_TOKEN)]:
            assert time.monotonic() < deadline, "the rejected pusher is still listed"
            time.sleep(0.01)
        assert [p["pushkey"] for p in pushers_of(homeserver, BOB_PHONE_TOKEN)] == [pusher_body()["pushkey"]]
        second, _ = send(alice, LOBBY, "anyone?")
    kept = wait_for_notifications(gateway, 2, pushkey=pusher_body()["pushkey"])
    assert [entry["notification"]["event_id"] for entry in kept] == [first, second]
    time.sleep(0.2)
    assert [entry["notification"]["event_id"] for entry in journal(gateway, pushkey="PUSHKEY_BOB")] == [first]
    assert [entry["retries"] for entry in journal(gateway, pushkey="PUSHKEY_BOB")] == [0]


def test_replaced_pusher_keeps_pushing(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    body = pusher_body(data={"url": gateway.url + NOTIFY})
    with homeserver.client(BOB_PHONE_TOKEN) as bob, homeserver.client(ALICE_TOKEN) as alice:
        set_pusher(bob, body)
        first, _ = send(alice, LOBBY, "one")
        wait_for_notifications(gateway, 1, pushkey=body["pushkey"])
        # Apps set their pusher again on every start: the same app_id and pushkey, so a replacement.
        set_pusher(bob, {**body, "device_display_name": "iPhone 10"})
        second, _ = send(alice, LOBBY, "two")
        third, _ = send(alice, LOBBY, "three")
    entries = wait_for_notifications(gateway, 3, pushkey=body["pushkey"])
    assert [entry["notification"]["event_id"] for entry in entries] == [first, second, third]


def test_no_notification_for_the_senders_own_message(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(BOB_PHONE_TOKEN) as bob:
        send(bob, LOBBY, "talking to myself")
    with homeserver.client(ALICE_TOKEN) as alice:
        from_alice, _ = send(alice, LOBBY, "hi bob")
    entries = wait_for_notifications(gateway, 1)
    time.sleep(0.1)
    assert [entry["notification"]["event_id"] for entry in journal(gateway)] == [from_alice]
    assert entries[0]["notification"]["counts"] == {"unread": 1}


@pytest.fixture(scope="module")
def pushing_pair() -> Iterator[tuple[LiveServer, LiveServer]]:
    """A gateway mock and a homeserver mock pushing bob's notifications to it, shared by tests that filter by event."""
    with contextlib.ExitStack() as stack:
        gateway = stack.enter_context(serve(load_scenario_text(GATEWAY, "<gateway>")))
        homeserver = stack.enter_context(serve(load_scenario_text(homeserver_yaml(gateway), "<homeserver>")))
        yield gateway, homeserver


@pytest.mark.parametrize(
    ("room_id", "body", "extra", "tweaks", "prio"),
    [
        (CROWD, "hey Bob, look at this", {}, {"sound": "default", "highlight": True}, "high"),
        (CROWD, "BOB!", {}, {"sound": "default", "highlight": True}, "high"),
        (CROWD, "ping bob", {}, {"sound": "default", "highlight": True}, "high"),
        (CROWD, "for you", {"m.mentions": {"user_ids": [BOB]}}, {"sound": "default", "highlight": True}, "high"),
        (CROWD, "Bob is named but not mentioned", {"m.mentions": {}}, {}, "low"),
        (CROWD, "bobsleigh is not a name", {}, {}, "low"),
        (CROWD, "a plain message", {}, {}, "low"),
        (LOBBY, "a plain message", {}, {"sound": "default"}, "high"),
        (LOBBY, "hey Bob", {}, {"sound": "default", "highlight": True}, "high"),
    ],
    ids=[
        "display name",
        "display name upper case",
        "localpart",
        "m.mentions",
        "m.mentions without bob",
        "name inside a word",
        "three members",
        "one to one",
        "one to one mention",
    ],
)
def test_push_rules_give_tweaks_and_priority(
    pushing_pair: tuple[LiveServer, LiveServer],
    room_id: str,
    body: str,
    extra: dict[str, Any],
    tweaks: dict[str, Any],
    prio: str,
) -> None:
    gateway, homeserver = pushing_pair
    with homeserver.client(ALICE_TOKEN) as alice:
        event_id, _ = send(alice, room_id, body, **extra)
    [entry] = wait_for_notifications(gateway, 1, event_id=event_id)
    notification = entry["notification"]
    assert notification["event_id"] == event_id
    # No tweaks at all is left out, as Synapse does.
    assert (notification["devices"][0].get("tweaks", {}), notification["prio"]) == (tweaks, prio)


def test_invite_notifies_the_invited_user(serve_yaml: Callable[[str], LiveServer]) -> None:
    gateway = serve_yaml(GATEWAY)
    homeserver = serve_yaml(homeserver_yaml(gateway))
    with homeserver.client(ALICE_TOKEN) as alice:
        r = alice.post("/_matrix/client/v3/createRoom", json={"name": "Secret", "invite": [BOB]})
        assert r.status_code == 200, r.text
    [entry] = wait_for_notifications(gateway, 1)
    notification = entry["notification"]
    assert notification["room_id"] == r.json()["room_id"]
    assert notification["type"] == "m.room.member"
    assert notification["content"]["membership"] == "invite"
    assert notification["user_is_target"] is True
    assert notification["room_name"] == "Secret"
    assert notification["devices"][0]["tweaks"] == {"sound": "default"}
    assert_spec_shaped({"notification": notification})
