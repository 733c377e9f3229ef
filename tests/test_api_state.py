"""Room state over the wire: `GET /rooms/{roomId}/state`, one state event read and set, and power levels."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, assert_error, send_text

V3 = "/_matrix/client/v3"


def q(value: str) -> str:
    return quote(value, safe="")


def state_path(room_id: str, event_type: str, state_key: str | None = "") -> str:
    path = f"{V3}/rooms/{q(room_id)}/state/{q(event_type)}"
    return path if state_key is None else f"{path}/{q(state_key)}"


def put_state(client: httpx.Client, room_id: str, event_type: str, content: Any, state_key: str = "") -> str:
    r = client.put(state_path(room_id, event_type, state_key), json=content)
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["event_id"], r.text
    event_id: str = r.json()["event_id"]
    return event_id


def get_state(client: httpx.Client, room_id: str, event_type: str, state_key: str = "") -> Any:
    r = client.get(state_path(room_id, event_type, state_key))
    assert r.status_code == 200, r.text
    return r.json()


def power_levels(client: httpx.Client, room_id: str = LOBBY) -> dict[str, Any]:
    content: dict[str, Any] = get_state(client, room_id, "m.room.power_levels")
    return content


def test_room_state_is_the_current_state_events(shared_alice: httpx.Client) -> None:
    r = shared_alice.get(f"{V3}/rooms/{q(LOBBY)}/state")
    assert r.status_code == 200, r.text
    events = r.json()
    by_key = {(e["type"], e["state_key"]): e for e in events}
    assert by_key[("m.room.name", "")]["content"] == {"name": "Lobby"}
    assert by_key[("m.room.member", BOB)]["content"]["membership"] == "join"
    assert by_key[("m.room.create", "")]["sender"] == ALICE
    assert len(by_key) == len(events)  # one event per (type, state key)
    for event in events:
        assert event["room_id"] == LOBBY and event["event_id"].startswith("$"), event
        assert {"sender", "origin_server_ts", "content", "unsigned"} <= set(event), event


@pytest.mark.parametrize("path", [state_path(LOBBY, "m.room.name"), state_path(LOBBY, "m.room.name", None)])
def test_a_state_event_is_its_content_with_or_without_the_empty_state_key(shared_bob: httpx.Client, path: str) -> None:
    r = shared_bob.get(path)
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "Lobby"}


def test_format_event_gives_the_whole_event(shared_bob: httpx.Client) -> None:
    r = shared_bob.get(state_path(LOBBY, "m.room.member", BOB), params={"format": "event"})
    assert r.status_code == 200, r.text
    event = r.json()
    assert (event["type"], event["state_key"], event["room_id"]) == ("m.room.member", BOB, LOBBY)
    assert event["content"]["membership"] == "join"


def test_the_r0_prefix_serves_state_too(shared_bob: httpx.Client) -> None:
    r = shared_bob.get(f"/_matrix/client/r0/rooms/{q(LOBBY)}/state/m.room.topic")
    assert r.status_code == 200, r.text
    assert r.json() == {"topic": "Say hello"}


@pytest.mark.parametrize(
    ("token_of", "path", "params", "status", "errcode"),
    [
        ("alice", state_path(LOBBY, "m.room.avatar"), {}, 404, "M_NOT_FOUND"),
        ("alice", state_path(LOBBY, "m.room.name", "not-empty"), {}, 404, "M_NOT_FOUND"),
        ("bob", state_path(BACKSTAGE, "m.room.name"), {}, 403, "M_FORBIDDEN"),
        ("bob", f"{V3}/rooms/{q(BACKSTAGE)}/state", {}, 403, "M_FORBIDDEN"),
        ("bob", f"{V3}/rooms/{q('!nowhere:localhost')}/state", {}, 403, "M_FORBIDDEN"),
        ("bob", state_path(LOBBY, "m.room.name"), {"format": "xml"}, 400, "M_INVALID_PARAM"),
    ],
)
def test_state_read_errors(
    shared_alice: httpx.Client,
    shared_bob: httpx.Client,
    token_of: str,
    path: str,
    params: dict[str, str],
    status: int,
    errcode: str,
) -> None:
    client = shared_alice if token_of == "alice" else shared_bob
    body = assert_error(client.get(path, params=params), status, errcode)
    if status == 404:
        assert body["error"] == "Event not found.", body


def test_put_state_sets_it_and_a_repeat_sends_nothing(alice: httpx.Client, bob: httpx.Client) -> None:
    first = put_state(alice, LOBBY, "m.room.topic", {"topic": "plans"})
    assert get_state(bob, LOBBY, "m.room.topic") == {"topic": "plans"}
    end = bob.get(f"{V3}/sync").json()["next_batch"]
    # Synapse answers the same content from the same sender with the event it already has, and sends none.
    assert put_state(alice, LOBBY, "m.room.topic", {"topic": "plans"}) == first
    assert put_state(alice, LOBBY, "m.room.topic", {"topic": "other"}) != first
    r = bob.get(f"{V3}/sync", params={"since": end, "timeout": 0})
    topics = [e["content"] for e in r.json()["rooms"]["join"][LOBBY]["timeline"]["events"]]
    assert topics == [{"topic": "other"}], r.text


def test_put_state_with_a_state_key_and_the_trailing_slash(alice: httpx.Client) -> None:
    put_state(alice, LOBBY, "org.example.settings", {"a": 1}, state_key="some/key")
    assert get_state(alice, LOBBY, "org.example.settings", "some/key") == {"a": 1}
    r = alice.put(f"{state_path(LOBBY, 'org.example.settings', None)}/", json={"b": 2})
    assert r.status_code == 200, r.text
    assert get_state(alice, LOBBY, "org.example.settings") == {"b": 2}
    assert get_state(alice, LOBBY, "org.example.settings", "some/key") == {"a": 1}


@pytest.mark.parametrize(
    ("token_of", "room_id", "event_type", "state_key", "body", "status", "errcode"),
    [
        ("alice", LOBBY, "m.room.topic", "", b"[1]", 400, "M_BAD_JSON"),
        ("alice", LOBBY, "m.room.topic", "", b"not json", 400, "M_NOT_JSON"),
        ("alice", LOBBY, "m.room.topic", "", b'{"topic": "' + b"x" * 70000 + b'"}', 413, "M_TOO_LARGE"),
        ("bob", LOBBY, "m.room.name", "", b'{"name": "mine"}', 403, "M_FORBIDDEN"),  # needs 50
        ("bob", LOBBY, "org.example.custom", "", b"{}", 403, "M_FORBIDDEN"),  # state_default 50
        ("bob", BACKSTAGE, "m.room.topic", "", b'{"topic": "x"}', 403, "M_FORBIDDEN"),  # not in the room
        ("alice", "!nowhere:localhost", "m.room.topic", "", b'{"topic": "x"}', 403, "M_FORBIDDEN"),
        ("alice", LOBBY, "org.example.custom", BOB, b"{}", 403, "M_FORBIDDEN"),  # another user's state key
        ("alice", LOBBY, "m.room.create", "", b'{"creator": "@bob:localhost"}', 403, "M_FORBIDDEN"),
        ("alice", LOBBY, "m.room.power_levels", "", b'{"ban": "50"}', 400, "M_BAD_JSON"),
        ("alice", LOBBY, "m.room.power_levels", "", b'{"users": {"bob": 5}}', 400, "M_BAD_JSON"),
        ("alice", LOBBY, "m.room.power_levels", "", b'{"events": []}', 400, "M_BAD_JSON"),
        ("alice", LOBBY, "m.room.member", BOB, b'{"membership": 5}', 400, "M_UNKNOWN"),
        ("alice", LOBBY, "m.room.member", BOB, b'{"membership": "dance"}', 400, "M_UNKNOWN"),
        ("alice", LOBBY, "m.room.member", BOB, b'{"membership": "join"}', 403, "M_FORBIDDEN"),
    ],
)
def test_put_state_errors(
    shared_alice: httpx.Client,
    shared_bob: httpx.Client,
    token_of: str,
    room_id: str,
    event_type: str,
    state_key: str,
    body: bytes,
    status: int,
    errcode: str,
) -> None:
    client = shared_alice if token_of == "alice" else shared_bob
    assert_error(client.put(state_path(room_id, event_type, state_key), content=body), status, errcode)


def test_own_state_key_is_allowed(alice: httpx.Client) -> None:
    put_state(alice, LOBBY, "org.example.custom", {"mine": True}, state_key=ALICE)
    assert get_state(alice, LOBBY, "org.example.custom", ALICE) == {"mine": True}


def test_member_state_goes_through_the_membership_rules(alice: httpx.Client, bob: httpx.Client) -> None:
    put_state(bob, LOBBY, "m.room.member", {"membership": "join", "displayname": "Bobby"}, state_key=BOB)
    assert get_state(alice, LOBBY, "m.room.member", BOB) == {"membership": "join", "displayname": "Bobby"}
    put_state(alice, LOBBY, "m.room.member", {"membership": "leave", "reason": "out"}, state_key=BOB)  # a kick
    assert get_state(alice, LOBBY, "m.room.member", BOB) == {"membership": "leave", "reason": "out"}
    r = bob.get(f"{V3}/joined_rooms")
    assert r.json() == {"joined_rooms": []}, r.text


def test_power_levels_gate_state_events(alice: httpx.Client, bob: httpx.Client) -> None:
    assert_error(bob.put(state_path(LOBBY, "m.room.name"), json={"name": "bob's"}), 403, "M_FORBIDDEN")
    levels = power_levels(alice)
    levels["users"][BOB] = 50
    put_state(alice, LOBBY, "m.room.power_levels", levels)
    put_state(bob, LOBBY, "m.room.name", {"name": "bob's"})
    # m.room.power_levels itself needs 100.
    assert_error(bob.put(state_path(LOBBY, "m.room.power_levels"), json=levels), 403, "M_FORBIDDEN")


def test_events_default_gates_messages(alice: httpx.Client, bob: httpx.Client) -> None:
    levels = power_levels(alice)
    levels["events_default"] = 10
    put_state(alice, LOBBY, "m.room.power_levels", levels)
    r = bob.put(f"{V3}/rooms/{q(LOBBY)}/send/m.room.message/t1", json={"msgtype": "m.text", "body": "hi"})
    body = assert_error(r, 403, "M_FORBIDDEN")
    assert body["error"].endswith("user_level (0) < send_level (10)"), body
    send_text(alice, "still fine", "t2")


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        (lambda levels: levels["users"].update({BOB: 60}), False),  # above the sender's own 50
        (lambda levels: levels["users"].update({"@carol:localhost": 50}), True),  # up to the sender's own level
        (lambda levels: levels["users"].update({"@carol:localhost": 51}), False),
        (lambda levels: levels["users"].update({"@dave:localhost": 0}), False),  # dave is at 50, bob's equal
        (lambda levels: levels["users"].update({BOB: 10}), True),  # anyone may lower themselves
        (lambda levels: levels["users"].update({ALICE: 0}), False),  # alice is above bob
        (lambda levels: levels.update({"kick": 40}), True),
        (lambda levels: levels.update({"ban": 60}), False),
        (lambda levels: levels["events"].update({"m.room.tombstone": 40}), False),  # its current 100 is above bob
        (lambda levels: levels["events"].update({"org.example": 50}), True),
    ],
)
def test_power_level_changes_follow_the_spec(
    alice: httpx.Client, bob: httpx.Client, change: Any, allowed: bool
) -> None:
    levels = power_levels(alice)
    levels["users"].update({BOB: 50, "@dave:localhost": 50})
    levels["events"]["m.room.power_levels"] = 50
    put_state(alice, LOBBY, "m.room.power_levels", levels)
    change(levels)
    r = bob.put(state_path(LOBBY, "m.room.power_levels"), json=levels)
    if allowed:
        assert r.status_code == 200, r.text
    else:
        assert_error(r, 403, "M_FORBIDDEN")


def private_room_with_bob(alice: httpx.Client, bob: httpx.Client) -> str:
    r = alice.post(f"{V3}/createRoom", json={"preset": "private_chat", "topic": "Say hello", "invite": [BOB]})
    assert r.status_code == 200, r.text
    room_id: str = r.json()["room_id"]
    r = bob.post(f"{V3}/rooms/{q(room_id)}/join", json={})
    assert r.status_code == 200, r.text
    return room_id


def test_a_departed_member_reads_the_state_as_it_was_when_they_left(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = private_room_with_bob(alice, bob)
    r = bob.post(f"{V3}/rooms/{q(room_id)}/leave", json={})
    assert r.status_code == 200, r.text
    put_state(alice, room_id, "m.room.topic", {"topic": "after bob"})
    assert get_state(bob, room_id, "m.room.topic") == {"topic": "Say hello"}
    assert get_state(alice, room_id, "m.room.topic") == {"topic": "after bob"}
    r = bob.get(f"{V3}/rooms/{q(room_id)}/state")
    assert r.status_code == 200, r.text
    state = {(e["type"], e["state_key"]): e["content"] for e in r.json()}
    assert state[("m.room.member", BOB)]["membership"] == "leave"
    assert state[("m.room.topic", "")] == {"topic": "Say hello"}
    r = bob.post(f"{V3}/rooms/{q(room_id)}/forget", json={})
    assert r.status_code == 200, r.text
    assert_error(bob.get(f"{V3}/rooms/{q(room_id)}/state"), 403, "M_FORBIDDEN")
    assert_error(bob.get(state_path(room_id, "m.room.topic")), 403, "M_FORBIDDEN")


def test_a_world_readable_room_is_readable_by_anyone(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = private_room_with_bob(alice, bob)
    r = bob.post(f"{V3}/rooms/{q(room_id)}/leave", json={})
    assert r.status_code == 200, r.text
    r = bob.post(f"{V3}/rooms/{q(room_id)}/forget", json={})
    assert r.status_code == 200, r.text
    put_state(alice, room_id, "m.room.history_visibility", {"history_visibility": "world_readable"})
    assert get_state(bob, room_id, "m.room.topic") == {"topic": "Say hello"}
