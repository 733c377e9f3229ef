"""`GET /rooms/{roomId}/messages`, `/context/{eventId}` and `/event/{eventId}` over real sockets: paging both ways,
tokens shared with `/sync`, filters, history visibility, and every error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import (
    ALICE,
    ALICE_TOKEN,
    BACKSTAGE,
    BOB,
    LOBBY,
    LiveServer,
    assert_error,
    send_text,
    sync,
)

V3 = "/_matrix/client/v3"


def room_path(room_id: str, *rest: str) -> str:
    return "/".join([f"{V3}/rooms/{quote(room_id, safe='')}", *(quote(part, safe="") for part in rest)])


def messages(client: httpx.Client, room_id: str = LOBBY, **params: Any) -> dict[str, Any]:
    r = client.get(room_path(room_id, "messages"), params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def page_all(client: httpx.Client, room_id: str = LOBBY, **params: Any) -> list[dict[str, Any]]:
    """Every event `/messages` gives, page after page until it omits `end`."""
    events: list[dict[str, Any]] = []
    for _ in range(1000):
        body = messages(client, room_id, **params)
        events += body["chunk"]
        if "end" not in body:
            return events
        params["from"] = body["end"]
    raise AssertionError("pagination never ended")


def bodies(events: list[dict[str, Any]]) -> list[str]:
    return [event["content"]["body"] for event in events if event["type"] == "m.room.message"]


def timeline_filter(limit: int) -> str:
    return json.dumps({"room": {"timeline": {"limit": limit}}})


# -- paging ----------------------------------------------------------------------------------------------------------


def test_backwards_from_the_end_pages_through_the_whole_room(alice: httpx.Client) -> None:
    sent = [send_text(alice, f"m{i}", f"t{i}") for i in range(12)]
    first = messages(alice, dir="b", limit=5)
    assert [event["event_id"] for event in first["chunk"]] == sent[::-1][:5]
    assert isinstance(first["start"], str) and isinstance(first["end"], str), first
    assert all(event["room_id"] == LOBBY for event in first["chunk"]), first

    everything = page_all(alice, dir="b", limit=5)
    assert bodies(everything) == [f"m{i}" for i in range(11, -1, -1)] + ["Welcome to the lobby!"]
    assert everything[-1]["type"] == "m.room.create", everything[-1]
    ids = [event["event_id"] for event in everything]
    assert len(ids) == len(set(ids)), "an event came twice"


def test_forwards_from_the_start_is_the_same_history_in_order(alice: httpx.Client) -> None:
    for i in range(7):
        send_text(alice, f"m{i}", f"t{i}")
    backwards = page_all(alice, dir="b", limit=4)
    forwards = page_all(alice, dir="f", limit=3)
    assert [e["event_id"] for e in forwards] == [e["event_id"] for e in backwards[::-1]]


def test_start_is_the_from_token_and_end_continues_without_overlap(alice: httpx.Client) -> None:
    for i in range(6):
        send_text(alice, f"m{i}", f"t{i}")
    first = messages(alice, dir="b", limit=3)
    second = messages(alice, **{"dir": "b", "limit": 3, "from": first["end"]})
    assert second["start"] == first["end"], second
    assert bodies(first["chunk"]) == ["m5", "m4", "m3"]
    assert bodies(second["chunk"]) == ["m2", "m1", "m0"]
    # Turning round at `end` walks back over the same events.
    back = messages(alice, **{"dir": "f", "limit": 3, "from": second["end"]})
    assert bodies(back["chunk"]) == ["m0", "m1", "m2"]


def test_to_stops_the_page(alice: httpx.Client) -> None:
    for i in range(3):
        send_text(alice, f"early{i}", f"e{i}")
    since = sync(alice)["next_batch"]
    for i in range(4):
        send_text(alice, f"late{i}", f"l{i}")
    body = messages(alice, **{"dir": "b", "limit": 50, "to": since})
    assert bodies(body["chunk"]) == ["late3", "late2", "late1", "late0"]
    assert "end" not in body, body
    forwards = messages(alice, **{"dir": "f", "limit": 50, "from": since})
    assert bodies(forwards["chunk"]) == ["late0", "late1", "late2", "late3"]


def test_the_end_of_the_room_has_no_end_token(alice: httpx.Client) -> None:
    last = messages(alice, dir="f", limit=1000)
    assert "end" not in last, last
    assert messages(alice, **{"dir": "b", "from": "s0_0"}) == {"chunk": [], "start": "s0_0"}


def test_limit_defaults_to_ten_and_is_capped(alice: httpx.Client) -> None:
    for i in range(12):
        send_text(alice, f"m{i}", f"t{i}")
    assert len(messages(alice, dir="b")["chunk"]) == 10
    assert len(messages(alice, dir="b", limit=10**9)["chunk"]) > 12


def test_r0_serves_messages_too(mock: LiveServer) -> None:
    with mock.client(ALICE_TOKEN) as client:
        r = client.get(f"/_matrix/client/r0/rooms/{quote(LOBBY)}/messages", params={"dir": "b"})
    assert r.status_code == 200, r.text


# -- continuity with /sync ------------------------------------------------------------------------------------------


def test_initial_sync_prev_batch_continues_exactly_before_the_timeline(alice: httpx.Client, bob: httpx.Client) -> None:
    for i in range(15):
        send_text(alice, f"m{i}", f"t{i}")
    room = sync(bob, filter=timeline_filter(5))["rooms"]["join"][LOBBY]
    timeline = room["timeline"]
    assert timeline["limited"] is True, timeline
    assert bodies(timeline["events"]) == [f"m{i}" for i in range(10, 15)]
    before = page_all(bob, **{"dir": "b", "limit": 4, "from": timeline["prev_batch"]})
    history = [e["event_id"] for e in before[::-1]] + [e["event_id"] for e in timeline["events"]]
    everything = [e["event_id"] for e in page_all(bob, dir="f", limit=100)]
    assert history == everything


def test_incremental_sync_gap_is_filled_by_messages_from_prev_batch_to_since(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    since = sync(bob)["next_batch"]
    for i in range(12):
        send_text(alice, f"gap{i}", f"g{i}")
    timeline = sync(bob, since=since, filter=timeline_filter(5))["rooms"]["join"][LOBBY]["timeline"]
    assert timeline["limited"] is True, timeline
    assert bodies(timeline["events"]) == [f"gap{i}" for i in range(7, 12)]
    gap = page_all(bob, **{"dir": "b", "limit": 3, "from": timeline["prev_batch"], "to": since})
    assert bodies(gap) == [f"gap{i}" for i in range(6, -1, -1)]


def test_a_limited_incremental_sync_carries_the_state_changed_in_the_gap(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    since = sync(bob)["next_batch"]
    r = alice.put(room_path(LOBBY, "state", "m.room.topic", ""), json={"topic": "changed in the gap"})
    assert r.status_code == 200, r.text
    for i in range(8):
        send_text(alice, f"after{i}", f"a{i}")
    room = sync(bob, since=since, filter=timeline_filter(5))["rooms"]["join"][LOBBY]
    assert room["timeline"]["limited"] is True, room["timeline"]
    assert [(e["type"], e["content"]) for e in room["state"]["events"]] == [
        ("m.room.topic", {"topic": "changed in the gap"})
    ]


def test_an_unlimited_sync_is_not_limited_and_its_prev_batch_still_pages_back(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    since = sync(bob)["next_batch"]
    send_text(alice, "only one", "one")
    timeline = sync(bob, since=since)["rooms"]["join"][LOBBY]["timeline"]
    assert timeline["limited"] is False, timeline
    before = messages(bob, **{"dir": "b", "limit": 1, "from": timeline["prev_batch"]})
    assert bodies(before["chunk"]) == ["Welcome to the lobby!"]


def test_a_zero_limit_sync_prev_batch_pages_back_from_the_newest_event(alice: httpx.Client, bob: httpx.Client) -> None:
    send_text(alice, "newest", "n")
    timeline = sync(bob, filter=timeline_filter(0))["rooms"]["join"][LOBBY]["timeline"]
    assert timeline["events"] == [] and timeline["limited"] is True, timeline
    before = messages(bob, **{"dir": "b", "limit": 1, "from": timeline["prev_batch"]})
    assert bodies(before["chunk"]) == ["newest"]


# -- filters ---------------------------------------------------------------------------------------------------------


def test_filter_by_type_with_a_wildcard_and_by_sender(alice: httpx.Client, bob: httpx.Client) -> None:
    send_text(alice, "from alice", "a1")
    send_text(bob, "from bob", "b1")
    r = alice.put(room_path(LOBBY, "send", "org.example.custom", "c1"), json={"url": "mxc://localhost/x"})
    assert r.status_code == 200, r.text

    def types(definition: dict[str, Any]) -> list[str]:
        return [e["type"] for e in page_all(alice, dir="f", filter=json.dumps(definition))]

    assert set(types({"types": ["m.room.*"]})) >= {"m.room.message", "m.room.create", "m.room.member"}
    assert "org.example.custom" not in types({"types": ["m.room.*"]})
    assert types({"types": ["org.example.*"]}) == ["org.example.custom"]
    assert "m.room.member" not in types({"not_types": ["m.room.member"]})
    assert types({"types": []}) == []
    assert types({"contains_url": True}) == ["org.example.custom"]
    assert "org.example.custom" not in types({"contains_url": False})
    by_bob = page_all(alice, dir="f", filter=json.dumps({"senders": [BOB], "types": ["m.room.message"]}))
    assert bodies(by_bob) == ["Welcome to the lobby!", "from bob"]
    not_alice = page_all(alice, dir="f", filter=json.dumps({"not_senders": [ALICE]}))
    assert {e["sender"] for e in not_alice} == {BOB}
    assert page_all(alice, dir="f", filter=json.dumps({"not_rooms": [LOBBY]})) == []


def test_a_filter_that_keeps_little_still_pages_without_gaps(alice: httpx.Client) -> None:
    for i in range(20):
        send_text(alice, f"m{i}", f"t{i}")
        alice.put(room_path(LOBBY, "send", "org.example.noise", f"n{i}"), json={})
    only_messages = json.dumps({"types": ["m.room.message"]})
    got = page_all(alice, dir="b", limit=3, filter=only_messages)
    assert bodies(got) == [f"m{i}" for i in range(19, -1, -1)] + ["Welcome to the lobby!"]


def test_lazy_loading_members_returns_the_senders_member_events(alice: httpx.Client, bob: httpx.Client) -> None:
    send_text(bob, "hi", "h")
    body = messages(alice, dir="b", limit=1, filter=json.dumps({"lazy_load_members": True}))
    assert [(e["type"], e["state_key"]) for e in body["state"]] == [("m.room.member", BOB)]
    assert "state" not in messages(alice, dir="b", limit=1)


# -- history visibility ------------------------------------------------------------------------------------------------

ROOM_YAML = """
mockmx: 1
server_name: localhost
users:
  - {{id: alice, devices: [{{id: A, access_token: alice-token}}]}}
  - {{id: bob, devices: [{{id: B, access_token: bob-token}}]}}
  - {{id: carol, devices: [{{id: C, access_token: carol-token}}]}}
rooms:
  - id: "!room:localhost"
    members: [alice]
    invited: [carol]
    history_visibility: {visibility}
    timeline:
      - {{sender: alice, say: before bob}}
"""
ROOM = "!room:localhost"


@pytest.fixture
def room_with(serve_yaml: Callable[[str], LiveServer]) -> Callable[[str], LiveServer]:
    """A mock whose !room:localhost has alice in it, one message, and the history visibility given."""
    return lambda visibility: serve_yaml(ROOM_YAML.format(visibility=visibility))


def join(client: httpx.Client, room_id: str = ROOM) -> None:
    r = client.post(f"{V3}/join/{quote(room_id, safe='')}", json={})
    assert r.status_code == 200, r.text


def leave(client: httpx.Client, room_id: str = ROOM) -> None:
    r = client.post(room_path(room_id, "leave"), json={})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("visibility", "sees_before"),
    [("shared", True), ("world_readable", True), ("joined", False), ("invited", False)],
)
def test_a_new_member_sees_earlier_history_only_when_shared(
    room_with: Callable[[str], LiveServer], visibility: str, sees_before: bool
) -> None:
    live = room_with(visibility)
    with live.client("alice-token") as alice, live.client("bob-token") as bob:
        join(bob)
        send_text(alice, "after bob", "a", ROOM)
        seen = bodies(page_all(bob, ROOM, dir="b", limit=2))
        assert seen == (["after bob", "before bob"] if sees_before else ["after bob"])
        # A member's own join is always theirs to see. (Events from before the room had a history visibility
        # event, its creation, count as shared, as in Synapse.)
        kinds = [(e["type"], e.get("state_key")) for e in page_all(bob, ROOM, dir="b")]
        assert ("m.room.member", "@bob:localhost") in kinds, kinds


def test_a_departed_member_sees_nothing_after_leaving(room_with: Callable[[str], LiveServer]) -> None:
    live = room_with("shared")
    with live.client("alice-token") as alice, live.client("bob-token") as bob:
        join(bob)
        while_there = send_text(alice, "while bob was there", "w", ROOM)
        leave(bob)
        after = send_text(alice, "after bob left", "x", ROOM)
        seen = page_all(bob, ROOM, dir="b")
        assert bodies(seen) == ["while bob was there", "before bob"]
        assert seen[0]["type"] == "m.room.member" and seen[0]["content"]["membership"] == "leave", seen[0]
        assert bob.get(room_path(ROOM, "event", while_there)).status_code == 200
        assert_error(bob.get(room_path(ROOM, "event", after)), 404, "M_NOT_FOUND")
        # Forwards from the start stops at the leave too.
        assert bodies(page_all(bob, ROOM, dir="f")) == ["before bob", "while bob was there"]


def test_an_invitee_who_never_joined_reads_a_world_readable_room_but_not_a_shared_one(
    room_with: Callable[[str], LiveServer],
) -> None:
    for visibility, allowed in (("world_readable", True), ("shared", False)):
        live = room_with(visibility)
        with live.client("carol-token") as carol:
            r = carol.get(room_path(ROOM, "messages"), params={"dir": "b"})
            if allowed:
                assert r.status_code == 200, r.text
                assert bodies(r.json()["chunk"]) == ["before bob"]
            else:
                assert_error(r, 403, "M_FORBIDDEN")


# -- context and single events ---------------------------------------------------------------------------------------


def test_context_around_an_event_and_its_tokens(alice: httpx.Client) -> None:
    ids = [send_text(alice, f"m{i}", f"t{i}") for i in range(9)]
    r = alice.get(room_path(LOBBY, "context", ids[4]), params={"limit": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["event"]["event_id"] == ids[4]
    assert [e["event_id"] for e in body["events_before"]] == [ids[3], ids[2]]
    assert [e["event_id"] for e in body["events_after"]] == [ids[5], ids[6]]
    assert {(e["type"], e["state_key"]) for e in body["state"]} >= {("m.room.create", ""), ("m.room.member", ALICE)}
    before = messages(alice, **{"dir": "b", "limit": 1, "from": body["start"]})
    after = messages(alice, **{"dir": "f", "limit": 1, "from": body["end"]})
    assert before["chunk"][0]["event_id"] == ids[1] and after["chunk"][0]["event_id"] == ids[7]


def test_context_limit_zero_still_returns_the_event_and_the_filter_applies_around_it(alice: httpx.Client) -> None:
    ids = [send_text(alice, f"m{i}", f"t{i}") for i in range(3)]
    body = alice.get(room_path(LOBBY, "context", ids[1]), params={"limit": 0}).json()
    assert body["event"]["event_id"] == ids[1] and body["events_before"] == body["events_after"] == [], body
    only = json.dumps({"types": ["m.room.member"], "lazy_load_members": True})
    body = alice.get(room_path(LOBBY, "context", ids[1]), params={"filter": only}).json()
    assert body["event"]["type"] == "m.room.message", body
    assert all(e["type"] == "m.room.member" for e in body["events_before"] + body["events_after"] + body["state"])
    senders = {e["sender"] for e in [body["event"], *body["events_before"], *body["events_after"]]}
    assert {e["state_key"] for e in body["state"]} == senders, body["state"]


def test_get_event_returns_the_client_event(alice: httpx.Client, bob: httpx.Client) -> None:
    event_id = send_text(alice, "hello", "h")
    r = bob.get(room_path(LOBBY, "event", event_id))
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["event_id"] == event_id and event["room_id"] == LOBBY and event["content"]["body"] == "hello"
    assert event["sender"] == ALICE and isinstance(event["unsigned"]["age"], int), event
    own = alice.get(room_path(LOBBY, "event", event_id)).json()
    assert own["unsigned"]["transaction_id"] == "h", own


# -- errors ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "errcode"),
    [
        ({}, 400, "M_MISSING_PARAM"),
        ({"dir": "x"}, 400, "M_INVALID_PARAM"),
        ({"dir": "b", "from": "garbage"}, 400, "M_UNKNOWN"),
        ({"dir": "b", "to": "t1-2_3"}, 400, "M_UNKNOWN"),
        ({"dir": "b", "limit": "ten"}, 400, "M_INVALID_PARAM"),
        ({"dir": "b", "limit": "-1"}, 400, "M_INVALID_PARAM"),
        ({"dir": "b", "filter": "{not json"}, 400, "M_NOT_JSON"),
        ({"dir": "b", "filter": "[]"}, 400, "M_BAD_JSON"),
        ({"dir": "b", "filter": '{"types": "m.room.message"}'}, 400, "M_BAD_JSON"),
        ({"dir": "b", "filter": '{"senders": [1]}'}, 400, "M_BAD_JSON"),
        ({"dir": "b", "filter": '{"contains_url": "yes"}'}, 400, "M_BAD_JSON"),
    ],
)
def test_bad_messages_parameters(shared_alice: httpx.Client, params: dict[str, str], status: int, errcode: str) -> None:
    assert_error(shared_alice.get(room_path(LOBBY, "messages"), params=params), status, errcode)


@pytest.mark.parametrize("room_id", [BACKSTAGE, "!nowhere:localhost"])
def test_reading_a_room_never_joined_is_forbidden(shared_bob: httpx.Client, room_id: str) -> None:
    assert_error(shared_bob.get(room_path(room_id, "messages"), params={"dir": "b"}), 403, "M_FORBIDDEN")
    assert_error(shared_bob.get(room_path(room_id, "context", "$x")), 403, "M_FORBIDDEN")


def test_context_and_event_of_unknown_or_unseen_events_are_not_found(
    shared_alice: httpx.Client, shared_bob: httpx.Client
) -> None:
    assert_error(shared_alice.get(room_path(LOBBY, "context", "$nope")), 404, "M_NOT_FOUND")
    body = assert_error(shared_alice.get(room_path(LOBBY, "event", "$nope")), 404, "M_NOT_FOUND")
    assert body["error"] == "Event not found.", body
    secret = send_text(shared_alice, "backstage secret", "secret", BACKSTAGE)
    assert_error(shared_bob.get(room_path(BACKSTAGE, "event", secret)), 404, "M_NOT_FOUND")
    # An event asked for under another room is not found either.
    assert_error(shared_alice.get(room_path(LOBBY, "event", secret)), 404, "M_NOT_FOUND")
    assert_error(shared_alice.get(room_path("!nowhere:localhost", "event", secret)), 404, "M_NOT_FOUND")


@pytest.mark.parametrize("path", ["messages", "context/$x", "event/$x"])
@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("nope", "M_UNKNOWN_TOKEN")])
def test_reading_needs_a_valid_token(shared: LiveServer, path: str, token: str | None, errcode: str) -> None:
    with shared.client(token) as client:
        assert_error(client.get(f"{room_path(LOBBY)}/{path}", params={"dir": "b"}), 401, errcode)
