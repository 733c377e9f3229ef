"""`GET /sync` over the wire: initial and incremental syncs, long polls, full state, invites and filters."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error, polling, send_text, sync

SYNC = "/_matrix/client/v3/sync"


def state_types(room: dict[str, Any]) -> set[tuple[str, str]]:
    events = room["state"]["events"] + room["timeline"]["events"]
    return {(e["type"], e["state_key"]) for e in events if "state_key" in e}


def test_initial_sync_has_joined_rooms_with_timeline_and_state(alice: httpx.Client) -> None:
    body = sync(alice)
    assert isinstance(body["next_batch"], str) and body["next_batch"]
    assert set(body["rooms"]["join"]) == {LOBBY, BACKSTAGE}
    lobby = body["rooms"]["join"][LOBBY]
    timeline = lobby["timeline"]["events"]
    assert timeline[-1]["content"] == {"msgtype": "m.text", "body": "Welcome to the lobby!"}
    assert timeline[-1]["sender"] == BOB
    assert {("m.room.create", ""), ("m.room.name", ""), ("m.room.member", ALICE), ("m.room.member", BOB)} <= (
        state_types(lobby)
    )
    for event in lobby["state"]["events"] + timeline:
        assert event["event_id"].startswith("$"), event
        assert "room_id" not in event, event  # sync's events leave the room id to the key they are under


def test_initial_sync_leaves_out_rooms_the_user_is_not_in(bob: httpx.Client) -> None:
    assert set(sync(bob)["rooms"]["join"]) == {LOBBY}


def test_incremental_sync_has_only_new_events(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    event_id = send_text(alice, "news", "t1")
    body = sync(bob, since=since, timeout=0)
    lobby = body["rooms"]["join"][LOBBY]
    assert [e["event_id"] for e in lobby["timeline"]["events"]] == [event_id]
    assert lobby["timeline"]["limited"] is False
    assert lobby["state"]["events"] == []
    assert sync(bob, since=body["next_batch"], timeout=0)["rooms"]["join"] == {}


def test_incremental_sync_long_polls_and_wakes_on_a_send(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    since = sync(bob)["next_batch"]
    # A poll that was not woken would answer empty after its timeout, and fail the assertion below.
    with polling(mock, lambda: sync(bob, since=since, timeout=30_000)) as waiting:
        send_text(alice, "wake", "late")
    body = waiting.result()
    assert [e["content"]["body"] for e in body["rooms"]["join"][LOBBY]["timeline"]["events"]] == ["wake"]


def test_incremental_sync_with_nothing_new_returns_at_its_timeout(mock: LiveServer, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    with polling(mock, lambda: sync(bob, since=since, timeout=2000)) as waiting:
        pass  # it waited (the mock held it), and then answered by itself
    body = waiting.result()
    assert body["rooms"]["join"] == {}
    assert body["to_device"]["events"] == []
    assert isinstance(body["next_batch"], str)


def test_initial_sync_answers_at_once_whatever_the_timeout(bob: httpx.Client) -> None:
    # Were it to wait, the client's own 10 s timeout would fail the test long before the poll's 10 minutes.
    assert LOBBY in sync(bob, timeout=600_000)["rooms"]["join"]


def test_full_state_gives_every_room_with_its_state(alice: httpx.Client) -> None:
    since = sync(alice)["next_batch"]
    body = sync(alice, since=since, full_state="true", timeout=600_000)  # answers at once: full state asked for
    assert set(body["rooms"]["join"]) == {LOBBY, BACKSTAGE}
    lobby = body["rooms"]["join"][LOBBY]
    assert lobby["timeline"]["events"] == []
    assert {("m.room.create", ""), ("m.room.member", ALICE), ("m.room.member", BOB)} <= state_types(lobby)


@pytest.mark.parametrize("since", ["garbage", "s1", "s_1", "1_1", "s1_1_1"])
def test_garbage_since_is_400(shared_bob: httpx.Client, since: str) -> None:
    assert_error(shared_bob.get(SYNC, params={"since": since, "timeout": 0}), 400, "M_UNKNOWN")


def test_invite_shows_in_the_invitees_sync(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    r = alice.post("/_matrix/client/v3/createRoom", json={"name": "Secret plans", "invite": [BOB]})
    assert r.status_code == 200, r.text
    room_id = r.json()["room_id"]
    body = sync(bob, since=since, timeout=0)
    assert list(body["rooms"]["invite"]) == [room_id]
    invite_state = body["rooms"]["invite"][room_id]["invite_state"]["events"]
    assert {
        "type": "m.room.name",
        "state_key": "",
        "sender": ALICE,
        "content": {"name": "Secret plans"},
    } in invite_state
    member = [e for e in invite_state if e["type"] == "m.room.member" and e["state_key"] == BOB]
    assert member and member[0]["content"]["membership"] == "invite"
    assert room_id not in body["rooms"]["join"]
    assert room_id in sync(bob)["rooms"]["invite"]
    assert sync(bob, since=body["next_batch"], timeout=0)["rooms"]["invite"] == {}


def test_a_long_polling_sync_wakes_on_an_invite(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    with polling(mock, lambda: sync(bob, since=since, timeout=30_000)) as waiting:
        r = alice.post("/_matrix/client/v3/createRoom", json={"invite": [BOB]})
        assert r.status_code == 200, r.text
    assert list(waiting.result()["rooms"]["invite"]) == [r.json()["room_id"]]


def test_joining_an_invited_room_moves_it_to_join_with_its_state(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.post("/_matrix/client/v3/createRoom", json={"name": "Planning", "invite": [BOB]})
    assert r.status_code == 200, r.text
    room_id = r.json()["room_id"]
    since = sync(bob)["next_batch"]
    r = bob.post(f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/join", json={})
    assert r.status_code == 200, r.text
    body = sync(bob, since=since, timeout=0)
    assert room_id in body["rooms"]["join"]
    assert ("m.room.name", "") in state_types(body["rooms"]["join"][room_id])


@pytest.mark.parametrize("limit", [1, 3])
def test_inline_filter_limits_the_timeline(alice: httpx.Client, limit: int) -> None:
    sent = [send_text(alice, str(n), f"t{n}") for n in range(5)]
    body = sync(alice, filter=json.dumps({"room": {"timeline": {"limit": limit}}}))
    timeline = body["rooms"]["join"][LOBBY]["timeline"]
    assert [e["event_id"] for e in timeline["events"]] == sent[-limit:]
    assert timeline["limited"] is True


def test_uploaded_filter_limits_the_timeline(alice: httpx.Client) -> None:
    r = alice.post(f"/_matrix/client/v3/user/{quote(ALICE, safe='')}/filter", json={"room": {"timeline": {"limit": 2}}})
    assert r.status_code == 200, r.text
    filter_id = r.json()["filter_id"]
    assert isinstance(filter_id, str)
    sent = [send_text(alice, str(n), f"t{n}") for n in range(4)]
    timeline = sync(alice, filter=filter_id)["rooms"]["join"][LOBBY]["timeline"]
    assert [e["event_id"] for e in timeline["events"]] == sent[-2:]


def test_incremental_sync_over_the_limit_is_marked_limited(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    sent = [send_text(alice, str(n), f"t{n}") for n in range(4)]
    timeline = sync(bob, since=since, timeout=0, filter='{"room":{"timeline":{"limit":2}}}')["rooms"]["join"][LOBBY][
        "timeline"
    ]
    assert [e["event_id"] for e in timeline["events"]] == sent[-2:]
    assert timeline["limited"] is True


def test_another_users_filter_id_is_no_such_filter(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.post(f"/_matrix/client/v3/user/{quote(ALICE, safe='')}/filter", json={"room": {"timeline": {"limit": 1}}})
    assert r.status_code == 200, r.text
    assert_error(bob.get(SYNC, params={"filter": r.json()["filter_id"]}), 400, "M_INVALID_PARAM")


def test_uploading_a_filter_for_another_user_is_403(alice: httpx.Client) -> None:
    r = alice.post(f"/_matrix/client/v3/user/{quote(BOB, safe='')}/filter", json={})
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"filter": "{not json"}, "M_NOT_JSON"),
        ({"filter": '{"room": {"timeline": {"limit": -1}}}'}, "M_BAD_JSON"),
        ({"filter": '{"room": {"timeline": {"limit": "ten"}}}'}, "M_BAD_JSON"),
        ({"filter": '{"room":' + "[" * 5000 + "]" * 5000 + "}"}, "M_NOT_JSON"),
        ({"full_state": "maybe"}, "M_INVALID_PARAM"),
        ({"timeout": "soon"}, "M_INVALID_PARAM"),
    ],
)
def test_bad_sync_parameters_are_400(shared_bob: httpx.Client, params: dict[str, str], errcode: str) -> None:
    assert_error(shared_bob.get(SYNC, params=params), 400, errcode)


def test_unknown_filter_id_is_400_invalid_param(shared_bob: httpx.Client) -> None:
    assert_error(shared_bob.get(SYNC, params={"filter": "12345"}), 400, "M_INVALID_PARAM")


def test_sync_needs_a_known_token(shared: LiveServer) -> None:
    assert_error(httpx.get(shared.url + SYNC), 401, "M_MISSING_TOKEN")
    r = httpx.get(shared.url + SYNC, headers={"Authorization": "Bearer nobody-has-this"})
    assert_error(r, 401, "M_UNKNOWN_TOKEN")
    assert r.json()["soft_logout"] is False
