"""`PUT /rooms/{roomId}/typing/{userId}` over the wire, and the `m.typing` events /sync carries."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error, sync


def typing_path(user_id: str, room_id: str = LOBBY) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/typing/{quote(user_id, safe='')}"


def set_typing(client: httpx.Client, user_id: str, body: dict[str, Any], room_id: str = LOBBY) -> None:
    r = client.put(typing_path(user_id, room_id), json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {}


def typing_in(body: dict[str, Any], room_id: str = LOBBY) -> list[list[str]]:
    """The `user_ids` of each `m.typing` event the sync has for the room."""
    room = body["rooms"]["join"].get(room_id, {"ephemeral": {"events": []}})
    return [e["content"]["user_ids"] for e in room["ephemeral"]["events"] if e["type"] == "m.typing"]


def test_typing_shows_in_the_others_sync_and_the_typers_own(alice: httpx.Client, bob: httpx.Client) -> None:
    bob_since, alice_since = sync(bob)["next_batch"], sync(alice)["next_batch"]
    set_typing(alice, ALICE, {"typing": True, "timeout": 30000})
    body = sync(bob, since=bob_since, timeout=0)
    assert typing_in(body) == [[ALICE]]
    (event,) = body["rooms"]["join"][LOBBY]["ephemeral"]["events"]
    assert event == {"type": "m.typing", "content": {"user_ids": [ALICE]}}  # no room id: the key says it
    assert typing_in(sync(alice, since=alice_since, timeout=0)) == [[ALICE]]
    # Seen once: the next sync from the new token has nothing to say about it.
    assert sync(bob, since=body["next_batch"], timeout=0)["rooms"]["join"] == {}


def test_a_first_sync_shows_who_is_typing(alice: httpx.Client, bob: httpx.Client) -> None:
    assert typing_in(sync(bob)) == []
    set_typing(alice, ALICE, {"typing": True})
    assert typing_in(sync(bob)) == [[ALICE]]


def test_stopping_shows_an_empty_list(alice: httpx.Client, bob: httpx.Client) -> None:
    set_typing(alice, ALICE, {"typing": True, "timeout": 30000})
    since = sync(bob)["next_batch"]
    set_typing(alice, ALICE, {"typing": False})
    assert typing_in(sync(bob, since=since, timeout=0)) == [[]]


def test_two_typers_and_a_refresh_that_changes_nothing(alice: httpx.Client, bob: httpx.Client) -> None:
    set_typing(alice, ALICE, {"typing": True, "timeout": 30000})
    set_typing(bob, BOB, {"typing": True, "timeout": 30000})
    since = sync(bob)["next_batch"]
    assert typing_in(sync(bob)) == [[ALICE, BOB]]
    set_typing(alice, ALICE, {"typing": True, "timeout": 30000})  # still typing: nothing new for a client
    assert sync(bob, since=since, timeout=0)["rooms"]["join"] == {}


def test_a_long_poll_wakes_when_someone_starts_typing(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    set_typing(alice, ALICE, {"typing": True})
    assert typing_in(sync(bob, since=since, timeout=5000)) == [[ALICE]]


def test_typing_expires_after_its_timeout_and_wakes_the_long_poll(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    set_typing(alice, ALICE, {"typing": True, "timeout": 300})
    started = sync(bob, since=since, timeout=0)
    assert typing_in(started) == [[ALICE]]
    # The long poll has nothing to wait for but the expiry: it answers with the stop, well before its own timeout.
    stopped = sync(bob, since=started["next_batch"], timeout=5000)
    assert typing_in(stopped) == [[]]


def test_an_expired_typer_is_gone_from_a_first_sync(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    set_typing(alice, ALICE, {"typing": True, "timeout": 0})
    assert typing_in(sync(bob, since=since, timeout=5000)) == [[]]  # started and stopped since the token
    assert typing_in(sync(bob)) == []


def test_typing_is_served_under_r0_too(alice: httpx.Client) -> None:
    r = alice.put(typing_path(ALICE).replace("/v3/", "/r0/"), json={"typing": False})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({}, "M_MISSING_PARAM"),
        ({"typing": "yes"}, "M_BAD_JSON"),
        ({"typing": True, "timeout": "30s"}, "M_BAD_JSON"),
        ({"typing": True, "timeout": True}, "M_BAD_JSON"),
    ],
)
def test_a_bad_body_is_a_400(shared_alice: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_alice.put(typing_path(ALICE), json=body), 400, errcode)


def test_a_body_that_is_not_json_is_a_400(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.put(typing_path(ALICE), content=b"typing"), 400, "M_NOT_JSON")


def test_another_users_typing_is_forbidden(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.put(typing_path(BOB), json={"typing": True}), 403, "M_FORBIDDEN")


@pytest.mark.parametrize("room_id", [BACKSTAGE, "!nowhere:localhost", "not-a-room"])
def test_typing_in_a_room_the_user_is_not_in_is_forbidden(shared_bob: httpx.Client, room_id: str) -> None:
    assert_error(shared_bob.put(typing_path(BOB, room_id), json={"typing": True}), 403, "M_FORBIDDEN")


def test_typing_needs_a_token(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        assert_error(anonymous.put(typing_path(ALICE), json={"typing": True}), 401, "M_MISSING_TOKEN")
