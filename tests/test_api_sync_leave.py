"""Leaving in `/sync`: `rooms.leave` for rooms left, kicked or banned from, `include_leave`, forgetting, rejoining."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, send_text, sync

V3 = "/_matrix/client/v3"
INCLUDE_LEAVE = json.dumps({"room": {"include_leave": True}})


def q(value: str) -> str:
    return quote(value, safe="")


def post(client: httpx.Client, room_id: str, endpoint: str, body: dict[str, Any] | None = None) -> None:
    r = client.post(f"{V3}/rooms/{q(room_id)}/{endpoint}", json=body or {})
    assert r.status_code == 200, r.text


def joined_rooms(client: httpx.Client) -> list[str]:
    r = client.get(f"{V3}/joined_rooms")
    assert r.status_code == 200, r.text
    rooms: list[str] = r.json()["joined_rooms"]
    return rooms


def test_leaving_shows_the_room_in_leave_once_with_the_leave_last(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    send_text(alice, "before bob goes", "t1")
    post(bob, LOBBY, "leave", {"reason": "bye"})
    send_text(alice, "after bob went", "t2")
    body = sync(bob, since=since)
    assert LOBBY not in body["rooms"]["join"], body
    left = body["rooms"]["leave"][LOBBY]
    events = left["timeline"]["events"]
    assert [e.get("content", {}).get("body") for e in events[:-1]] == ["before bob goes"]
    leave = events[-1]
    assert (leave["type"], leave["state_key"], leave["content"]) == (
        "m.room.member",
        BOB,
        {"membership": "leave", "reason": "bye"},
    )
    assert {"state", "account_data"} <= set(left) and isinstance(left["timeline"]["prev_batch"], str)
    assert LOBBY not in sync(bob, since=body["next_batch"])["rooms"]["leave"]
    assert joined_rooms(bob) == []


def test_kick_and_ban_show_in_leave(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    post(alice, LOBBY, "kick", {"user_id": BOB, "reason": "out"})
    kicked = sync(bob, since=since)
    assert kicked["rooms"]["leave"][LOBBY]["timeline"]["events"][-1]["sender"] == ALICE
    post(bob, LOBBY, "join")
    post(alice, LOBBY, "ban", {"user_id": BOB})
    banned = sync(bob, since=kicked["next_batch"])
    assert banned["rooms"]["leave"][LOBBY]["timeline"]["events"][-1]["content"] == {"membership": "ban"}
    assert LOBBY not in banned["rooms"]["join"]


def test_a_long_poll_wakes_when_the_user_is_kicked(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    with ThreadPoolExecutor(1) as pool:
        poll = pool.submit(bob.get, f"{V3}/sync", params={"since": since, "timeout": 30000})
        post(alice, LOBBY, "kick", {"user_id": BOB})
        r = poll.result(timeout=30)
    assert r.status_code == 200, r.text
    assert LOBBY in r.json()["rooms"]["leave"], r.text


def test_a_first_sync_lists_left_rooms_only_when_the_filter_asks(alice: httpx.Client, bob: httpx.Client) -> None:
    post(bob, LOBBY, "leave")
    send_text(alice, "bob cannot see this", "t1")
    assert sync(bob)["rooms"]["leave"] == {}
    left = sync(bob, filter=INCLUDE_LEAVE)["rooms"]["leave"][LOBBY]
    events = left["timeline"]["events"]
    assert events[-1]["state_key"] == BOB and events[-1]["content"]["membership"] == "leave"
    assert "bob cannot see this" not in json.dumps(left)
    # The state block and the timeline together: the whole state at the leave, each event once.
    state = [(e["type"], e["state_key"]) for e in left["state"]["events"] + events if "state_key" in e]
    assert ("m.room.create", "") in state and ("m.room.name", "") in state
    assert not {e["event_id"] for e in left["state"]["events"]} & {e["event_id"] for e in events}
    post(bob, LOBBY, "forget")
    assert sync(bob, filter=INCLUDE_LEAVE)["rooms"]["leave"] == {}


def test_an_uploaded_filter_can_ask_for_left_rooms(bob: httpx.Client) -> None:
    post(bob, LOBBY, "leave")
    r = bob.post(f"{V3}/user/{q(BOB)}/filter", json={"room": {"include_leave": True}})
    assert r.status_code == 200, r.text
    assert LOBBY in sync(bob, filter=r.json()["filter_id"])["rooms"]["leave"]


def test_include_leave_must_be_a_boolean(bob: httpx.Client) -> None:
    r = bob.get(f"{V3}/sync", params={"filter": json.dumps({"room": {"include_leave": "yes"}})})
    assert r.status_code == 400, r.text
    assert r.json()["errcode"] == "M_BAD_JSON", r.text


def test_rejoining_shows_the_room_in_join_again(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    post(bob, LOBBY, "leave")
    after_leave = sync(bob, since=since)
    assert LOBBY in after_leave["rooms"]["leave"]
    send_text(alice, "while bob was away", "t1")
    post(bob, LOBBY, "join")
    body = sync(bob, since=after_leave["next_batch"])
    assert LOBBY not in body["rooms"]["leave"], body
    room = body["rooms"]["join"][LOBBY]
    timeline = room["timeline"]["events"]
    assert timeline[-1]["state_key"] == BOB and timeline[-1]["content"]["membership"] == "join"
    state = {(e["type"], e["state_key"]) for e in room["state"]["events"] + timeline if "state_key" in e}
    assert ("m.room.name", "") in state
    assert joined_rooms(bob) == [LOBBY]


def test_an_invite_carries_the_rooms_stripped_state(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.put(f"{V3}/rooms/{q(BACKSTAGE)}/state/m.room.topic", json={"topic": "secrets"})
    assert r.status_code == 200, r.text
    post(alice, BACKSTAGE, "invite", {"user_id": BOB})
    events = sync(bob)["rooms"]["invite"][BACKSTAGE]["invite_state"]["events"]
    for event in events:
        assert set(event) == {"type", "state_key", "sender", "content"}, event
    kinds = [(e["type"], e["state_key"]) for e in events]
    assert kinds[0] == ("m.room.create", "")
    assert {("m.room.join_rules", ""), ("m.room.name", ""), ("m.room.topic", ""), ("m.room.member", ALICE)} <= set(
        kinds
    )
    assert kinds[-1] == ("m.room.member", BOB)
