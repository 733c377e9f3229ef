"""Rooms over the wire: `/createRoom`, joining by alias and by id, `/joined_rooms`, and who may join what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error

CREATE = "/_matrix/client/v3/createRoom"


def q(room: str) -> str:
    return quote(room, safe="")


def create(client: httpx.Client, **body: Any) -> str:
    r = client.post(CREATE, json=body)
    assert r.status_code == 200, r.text
    room_id: str = r.json()["room_id"]
    assert list(r.json()) == ["room_id"]
    return room_id


def joined_rooms(client: httpx.Client) -> list[str]:
    r = client.get("/_matrix/client/v3/joined_rooms")
    assert r.status_code == 200, r.text
    rooms: list[str] = r.json()["joined_rooms"]
    return rooms


def initial_room(client: httpx.Client, room_id: str) -> dict[str, Any]:
    r = client.get("/_matrix/client/v3/sync")
    assert r.status_code == 200, r.text
    room: dict[str, Any] = r.json()["rooms"]["join"][room_id]
    return room


def state_of(room: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    events = room["state"]["events"] + room["timeline"]["events"]
    return {(e["type"], e["state_key"]): e["content"] for e in events if "state_key" in e}


def send_text(client: httpx.Client, room_id: str, body: str, txn_id: str) -> httpx.Response:
    return client.put(
        f"/_matrix/client/v3/rooms/{q(room_id)}/send/m.room.message/{txn_id}", json={"msgtype": "m.text", "body": body}
    )


@pytest.fixture
def carol(serve_yaml: Any) -> Iterator[tuple[LiveServer, httpx.Client, httpx.Client]]:
    """A server where carol is in no room yet: (server, alice's client, carol's client)."""
    live: LiveServer = serve_yaml(
        """
server_name: localhost
users:
  - id: alice
    devices: [{id: ALICEDEV, access_token: alice-token}]
  - id: carol
    devices: [{id: CAROLDEV, access_token: carol-token}]
rooms:
  - id: "!lobby:localhost"
    alias: lobby
    members: [alice]
  - id: "!backstage:localhost"
    alias: backstage
    members: [alice]
    join_rule: invite
"""
    )
    with live.client("alice-token") as alice, live.client("carol-token") as carol:
        yield live, alice, carol


def test_joined_rooms_lists_the_users_rooms(alice: httpx.Client, bob: httpx.Client) -> None:
    assert sorted(joined_rooms(alice)) == sorted([LOBBY, BACKSTAGE])
    assert joined_rooms(bob) == [LOBBY]


def test_create_room_with_name_alias_and_invite(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = create(alice, name="Plans", topic="what next", room_alias_name="plans", invite=[BOB])
    assert room_id.startswith("!") and room_id.endswith(":localhost")
    assert room_id in joined_rooms(alice)
    state = state_of(initial_room(alice, room_id))
    assert state[("m.room.create", "")]["creator"] == ALICE
    assert state[("m.room.name", "")] == {"name": "Plans"}
    assert state[("m.room.topic", "")] == {"topic": "what next"}
    assert state[("m.room.canonical_alias", "")] == {"alias": "#plans:localhost"}
    assert state[("m.room.member", ALICE)]["membership"] == "join"
    assert state[("m.room.member", BOB)]["membership"] == "invite"
    r = bob.get("/_matrix/client/v3/sync")
    assert room_id in r.json()["rooms"]["invite"], r.text
    assert room_id not in joined_rooms(bob)


@pytest.mark.parametrize(
    ("preset", "join_rule"),
    [("public_chat", "public"), ("private_chat", "invite"), ("trusted_private_chat", "invite")],
)
def test_create_room_preset_sets_the_join_rule(alice: httpx.Client, preset: str, join_rule: str) -> None:
    room_id = create(alice, preset=preset)
    assert state_of(initial_room(alice, room_id))[("m.room.join_rules", "")] == {"join_rule": join_rule}


def test_public_visibility_makes_a_public_room(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = create(alice, visibility="public")
    r = bob.post(f"/_matrix/client/v3/join/{q(room_id)}", json={})
    assert r.status_code == 200, r.text


def test_private_room_needs_an_invite(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = create(alice, preset="private_chat")
    assert_error(bob.post(f"/_matrix/client/v3/rooms/{q(room_id)}/join", json={}), 403, "M_FORBIDDEN")


def test_an_invitee_can_join(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = create(alice, preset="private_chat", invite=[BOB])
    r = bob.post(f"/_matrix/client/v3/rooms/{q(room_id)}/join", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"room_id": room_id}
    assert room_id in joined_rooms(bob)


def test_taken_alias_is_refused(alice: httpx.Client) -> None:
    create(alice, room_alias_name="taken")
    assert_error(alice.post(CREATE, json={"room_alias_name": "taken"}), 400, "M_ROOM_IN_USE")
    assert_error(alice.post(CREATE, json={"room_alias_name": "lobby"}), 400, "M_ROOM_IN_USE")


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"preset": "party"}, "M_BAD_JSON"),
        ({"visibility": "secret"}, "M_BAD_JSON"),
        ({"invite": "@bob:localhost"}, "M_BAD_JSON"),
        ({"name": 5}, "M_BAD_JSON"),
        ({"room_alias_name": "has:colon"}, "M_INVALID_PARAM"),
        ({"room_alias_name": "has space"}, "M_INVALID_PARAM"),
    ],
)
def test_create_room_errors(shared_alice: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_alice.post(CREATE, json=body), 400, errcode)


def test_a_guest_cannot_create_rooms(mock: LiveServer) -> None:
    guest = httpx.post(mock.url + "/_matrix/client/v3/register", params={"kind": "guest"}, json={})
    assert guest.status_code == 200, guest.text
    with mock.client(guest.json()["access_token"]) as client:
        assert_error(client.post(CREATE, json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/_matrix/client/v3/join/" + q("#lobby:localhost"), id="join-by-alias"),
        pytest.param("/_matrix/client/v3/join/" + q(LOBBY), id="join-by-id"),
        pytest.param(f"/_matrix/client/v3/rooms/{q(LOBBY)}/join", id="rooms-join-by-id"),
        pytest.param(f"/_matrix/client/r0/rooms/{q(LOBBY)}/join", id="r0-rooms-join"),
    ],
)
def test_join_a_public_room(carol: tuple[LiveServer, httpx.Client, httpx.Client], path: str) -> None:
    _, _, client = carol
    r = client.post(path, json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"room_id": LOBBY}
    assert joined_rooms(client) == [LOBBY]


def test_join_with_no_body_at_all(carol: tuple[LiveServer, httpx.Client, httpx.Client]) -> None:
    _, _, client = carol
    r = client.post(f"/_matrix/client/v3/join/{q('#lobby:localhost')}")
    assert r.status_code == 200, r.text


def test_joining_twice_is_fine(alice: httpx.Client) -> None:
    r = alice.post(f"/_matrix/client/v3/join/{q(LOBBY)}", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"room_id": LOBBY}


def test_the_joined_user_can_send_and_others_see_it(carol: tuple[LiveServer, httpx.Client, httpx.Client]) -> None:
    _, alice, client = carol
    since = alice.get("/_matrix/client/v3/sync").json()["next_batch"]
    assert_error(send_text(client, LOBBY, "too early", "t0"), 403, "M_FORBIDDEN")
    r = client.post(f"/_matrix/client/v3/join/{q('#lobby:localhost')}", json={})
    assert r.status_code == 200, r.text
    sent = send_text(client, LOBBY, "hello all", "t1")
    assert sent.status_code == 200, sent.text
    r = alice.get("/_matrix/client/v3/sync", params={"since": since, "timeout": 0})
    assert r.status_code == 200, r.text
    timeline = r.json()["rooms"]["join"][LOBBY]["timeline"]["events"]
    assert [(e["type"], e.get("state_key"), e["content"].get("membership")) for e in timeline[:1]] == [
        ("m.room.member", "@carol:localhost", "join")
    ]
    assert (timeline[-1]["event_id"], timeline[-1]["sender"]) == (sent.json()["event_id"], "@carol:localhost")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/_matrix/client/v3/join/" + q("#backstage:localhost"), id="by-alias"),
        pytest.param(f"/_matrix/client/v3/rooms/{q(BACKSTAGE)}/join", id="by-id"),
    ],
)
def test_joining_an_invite_only_room_uninvited_is_403(
    carol: tuple[LiveServer, httpx.Client, httpx.Client], path: str
) -> None:
    _, _, client = carol
    assert_error(client.post(path, json={}), 403, "M_FORBIDDEN")
    assert joined_rooms(client) == []


@pytest.mark.parametrize(
    "room",
    [
        pytest.param("#nowhere:localhost", id="unknown-alias"),
        pytest.param("!nowhere:localhost", id="unknown-id"),
    ],
)
def test_joining_an_unknown_room_is_404(shared_alice: httpx.Client, room: str) -> None:
    assert_error(shared_alice.post(f"/_matrix/client/v3/join/{q(room)}", json={}), 404, "M_NOT_FOUND")


def test_join_body_must_be_json_when_given(bob: httpx.Client) -> None:
    assert_error(bob.post(f"/_matrix/client/v3/join/{q(LOBBY)}", content=b"not json"), 400, "M_NOT_JSON")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", CREATE),
        ("POST", f"/_matrix/client/v3/join/{q(LOBBY)}"),
        ("POST", f"/_matrix/client/v3/rooms/{q(LOBBY)}/join"),
        ("GET", "/_matrix/client/v3/joined_rooms"),
    ],
)
def test_room_endpoints_need_a_token(shared: LiveServer, method: str, path: str) -> None:
    assert_error(httpx.request(method, shared.url + path, json={}), 401, "M_MISSING_TOKEN")
