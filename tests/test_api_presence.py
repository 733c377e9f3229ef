"""Presence over the wire: setting one's own, reading that of users one shares a room with, and `/sync`'s
`m.presence` events."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BOB, LiveServer, assert_error, sync

V3 = "/_matrix/client/v3"
# carol shares no room with anyone.
SCENARIO = """
mockmx: 1
server_name: localhost
users:
  - {id: alice, devices: [{id: A, access_token: alice-token}]}
  - {id: bob, devices: [{id: B, access_token: bob-token}]}
  - {id: carol, devices: [{id: C, access_token: carol-token}]}
rooms:
  - {id: "!lobby:localhost", members: [alice, bob]}
"""
CAROL = "@carol:localhost"


def status_path(user_id: str) -> str:
    return f"{V3}/presence/{user_id}/status"


def set_presence(client: httpx.Client, user_id: str, **body: Any) -> None:
    r = client.put(status_path(user_id), json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {}


def get_presence(client: httpx.Client, user_id: str) -> dict[str, Any]:
    r = client.get(status_path(user_id))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def world(serve_yaml: Any) -> LiveServer:
    """alice and bob share a room; carol is alone."""
    server: LiveServer = serve_yaml(SCENARIO)
    return server


def test_a_user_who_never_set_presence_is_offline(alice: httpx.Client) -> None:
    assert get_presence(alice, BOB) == {"presence": "offline"}


def test_presence_set_reads_back_for_oneself_and_room_mates(alice: httpx.Client, bob: httpx.Client) -> None:
    set_presence(alice, ALICE, presence="online", status_msg="Working")
    for reader in (alice, bob):
        seen = get_presence(reader, ALICE)
        assert seen["presence"] == "online"
        assert seen["status_msg"] == "Working"
        assert seen["currently_active"] is True
        assert isinstance(seen["last_active_ago"], int) and seen["last_active_ago"] >= 0
    set_presence(alice, ALICE, presence="unavailable")
    seen = get_presence(bob, ALICE)
    # As Synapse: no status message unless one is set, `currently_active` only while online.
    assert set(seen) == {"presence", "last_active_ago"}
    assert seen["presence"] == "unavailable"


def test_presence_of_someone_sharing_no_room_is_403(world: LiveServer) -> None:
    with world.client("carol-token") as carol, world.client("alice-token") as alice:
        set_presence(alice, ALICE, presence="online")
        assert_error(carol.get(status_path(ALICE)), 403, "M_FORBIDDEN")
        assert_error(alice.get(status_path(CAROL)), 403, "M_FORBIDDEN")
        assert get_presence(carol, CAROL) == {"presence": "offline"}


def test_presence_of_an_unknown_user_is_403_as_synapse(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.get(status_path("@nobody:localhost")), 403, "M_FORBIDDEN")


def test_setting_another_users_presence_is_403(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.put(status_path(BOB), json={"presence": "online"}), 403, "M_FORBIDDEN")


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({}, "M_UNKNOWN"),
        ({"presence": "busy"}, "M_UNKNOWN"),
        ({"presence": 1}, "M_UNKNOWN"),
        ({"presence": "online", "status_msg": 3}, "M_UNKNOWN"),
    ],
)
def test_bad_presence_is_400(shared_alice: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_alice.put(status_path(ALICE), json=body), 400, errcode)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_presence_needs_a_token(shared: LiveServer, method: str) -> None:
    with shared.client() as anonymous:
        assert_error(anonymous.request(method, status_path(ALICE), json={"presence": "online"}), 401, "M_MISSING_TOKEN")


def test_a_change_reaches_room_mates_sync_and_not_strangers(world: LiveServer) -> None:
    with world.client("alice-token") as alice, world.client("bob-token") as bob, world.client("carol-token") as carol:
        bob_since = sync(bob)["next_batch"]
        carol_since = sync(carol)["next_batch"]
        set_presence(alice, ALICE, presence="online", status_msg="hello")
        body = sync(bob, since=bob_since, timeout=0)
        (event,) = body["presence"]["events"]
        assert event["type"] == "m.presence"
        assert event["sender"] == ALICE
        assert {k: v for k, v in event["content"].items() if k != "last_active_ago"} == {
            "presence": "online",
            "status_msg": "hello",
            "currently_active": True,
        }
        assert sync(bob, since=body["next_batch"], timeout=0)["presence"]["events"] == []
        set_presence(carol, CAROL, presence="online")  # the sentinel: carol sees her own change, not alice's
        carol_events = sync(carol, since=carol_since, timeout=0)["presence"]["events"]
        assert [e["sender"] for e in carol_events] == [CAROL]


def test_a_first_sync_has_the_room_mates_presence(world: LiveServer) -> None:
    with world.client("alice-token") as alice, world.client("bob-token") as bob:
        set_presence(alice, ALICE, presence="unavailable")
        set_presence(bob, BOB, presence="online")
        events = sync(bob)["presence"]["events"]
    assert {e["sender"]: e["content"]["presence"] for e in events} == {ALICE: "unavailable", BOB: "online"}


def test_only_the_latest_change_of_a_user_is_sent(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    set_presence(alice, ALICE, presence="online")
    set_presence(alice, ALICE, presence="unavailable", status_msg="lunch")
    events = sync(bob, since=since, timeout=0)["presence"]["events"]
    assert [(e["sender"], e["content"]["presence"], e["content"].get("status_msg")) for e in events] == [
        (ALICE, "unavailable", "lunch")
    ]


def test_a_long_polling_room_mate_wakes_on_a_change(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    # A poll far longer than the client waits: only the change can end it in time.
    timer = threading.Timer(0.2, set_presence, (alice, ALICE), {"presence": "online"})
    timer.start()
    try:
        body = sync(bob, since=since, timeout=60_000)
    finally:
        timer.join()
    assert [e["sender"] for e in body["presence"]["events"]] == [ALICE]
