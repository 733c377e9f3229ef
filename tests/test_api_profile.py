"""`/profile/{userId}` over the wire: reading profiles, setting one's own, and the join events a change sends."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error, send_text, sync

V3 = "/_matrix/client/v3"
AVATAR = "mxc://localhost/AbCdEf123"


def profile_path(user_id: str, field: str | None = None) -> str:
    return f"{V3}/profile/{user_id}" + (f"/{field}" if field else "")


def get_ok(client: httpx.Client, path: str) -> Any:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def put_ok(client: httpx.Client, field: str, value: Any, user_id: str = ALICE) -> None:
    r = client.put(profile_path(user_id, field), json={field: value})
    assert r.status_code == 200, r.text
    assert r.json() == {}


def member_events(body: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    room = body["rooms"]["join"].get(room_id, {"timeline": {"events": []}})
    return [event for event in room["timeline"]["events"] if event["type"] == "m.room.member"]


def test_anyone_reads_a_profile_without_a_token(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        assert get_ok(anonymous, profile_path(ALICE)) == {"displayname": "Alice"}
        assert get_ok(anonymous, profile_path(BOB, "displayname")) == {"displayname": "Bob"}
        # An unset field is left out of the answer, as Synapse does.
        assert get_ok(anonymous, profile_path(ALICE, "avatar_url")) == {}


def test_a_user_without_a_display_name_in_the_scenario_has_the_localpart(serve_yaml: Any) -> None:
    live = serve_yaml("mockmx: 1\nserver_name: localhost\nusers:\n  - id: carol\n    password: p\n")
    with live.client() as anonymous:
        assert get_ok(anonymous, profile_path("@carol:localhost")) == {"displayname": "carol"}


@pytest.mark.parametrize("field", [None, "displayname", "avatar_url"])
def test_an_unknown_user_has_no_profile(shared: LiveServer, field: str | None) -> None:
    with shared.client() as anonymous:
        assert_error(anonymous.get(profile_path("@nobody:localhost", field)), 404, "M_NOT_FOUND")


@pytest.mark.parametrize("field", [None, "displayname"])
def test_a_malformed_user_id_is_400(shared: LiveServer, field: str | None) -> None:
    with shared.client() as anonymous:
        assert_error(anonymous.get(profile_path("alice", field)), 400, "M_INVALID_PARAM")


def test_setting_the_display_name_shows_in_the_profile(alice: httpx.Client) -> None:
    put_ok(alice, "displayname", "  Alice W  ")
    assert get_ok(alice, profile_path(ALICE, "displayname")) == {"displayname": "Alice W"}  # trimmed, as Synapse
    put_ok(alice, "avatar_url", AVATAR)
    assert get_ok(alice, profile_path(ALICE)) == {"displayname": "Alice W", "avatar_url": AVATAR}


def test_a_change_sends_a_join_event_into_each_joined_room(alice: httpx.Client, bob: httpx.Client) -> None:
    alice_since = sync(alice)["next_batch"]
    bob_since = sync(bob)["next_batch"]
    put_ok(alice, "displayname", "Alice W")
    put_ok(alice, "avatar_url", AVATAR)
    seen_by_bob = member_events(sync(bob, since=bob_since, timeout=0), LOBBY)
    assert [(e["sender"], e["state_key"], e["content"]) for e in seen_by_bob] == [
        (ALICE, ALICE, {"membership": "join", "displayname": "Alice W"}),
        (ALICE, ALICE, {"membership": "join", "displayname": "Alice W", "avatar_url": AVATAR}),
    ]
    seen_by_alice = sync(alice, since=alice_since, timeout=0)
    assert len(member_events(seen_by_alice, BACKSTAGE)) == 2  # bob is not in backstage; alice sees it there too
    state = get_ok(alice, f"{V3}/rooms/{LOBBY}/state/m.room.member/{ALICE}")
    assert state == {"membership": "join", "displayname": "Alice W", "avatar_url": AVATAR}


def test_a_long_polling_member_wakes_on_a_profile_change(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    # A poll far longer than the client waits: only the change can end it in time.
    timer = threading.Timer(0.2, put_ok, (alice, "displayname", "Wakey"))
    timer.start()
    try:
        body = sync(bob, since=since, timeout=60_000)
    finally:
        timer.join()
    assert [e["content"]["displayname"] for e in member_events(body, LOBBY)] == ["Wakey"]


def test_setting_the_same_profile_again_sends_nothing(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    put_ok(alice, "displayname", "Alice")  # what the scenario gave her already
    sentinel = send_text(alice, "after the repeat", "sentinel")
    timeline = sync(bob, since=since, timeout=0)["rooms"]["join"][LOBBY]["timeline"]["events"]
    assert [e["event_id"] for e in timeline] == [sentinel]


def test_clearing_fields_leaves_them_out(alice: httpx.Client, bob: httpx.Client) -> None:
    put_ok(alice, "avatar_url", AVATAR)
    since = sync(bob)["next_batch"]
    put_ok(alice, "displayname", "")
    assert get_ok(alice, profile_path(ALICE, "displayname")) == {}
    assert get_ok(alice, profile_path(ALICE)) == {"avatar_url": AVATAR}
    put_ok(alice, "avatar_url", "")
    # Nothing left: as Synapse, the profile itself is then not found.
    assert_error(alice.get(profile_path(ALICE)), 404, "M_NOT_FOUND")
    contents = [e["content"] for e in member_events(sync(bob, since=since, timeout=0), LOBBY)]
    assert contents == [{"membership": "join", "avatar_url": AVATAR}, {"membership": "join"}]


@pytest.mark.parametrize("target", [BOB, "@nobody:localhost"])
@pytest.mark.parametrize("field", ["displayname", "avatar_url"])
def test_setting_another_users_profile_is_403(shared_alice: httpx.Client, target: str, field: str) -> None:
    value = AVATAR if field == "avatar_url" else "Not Bob"
    assert_error(shared_alice.put(profile_path(target, field), json={field: value}), 403, "M_FORBIDDEN")


@pytest.mark.parametrize(
    ("field", "body", "errcode"),
    [
        ("displayname", {}, "M_MISSING_PARAM"),
        ("displayname", {"avatar_url": AVATAR}, "M_MISSING_PARAM"),
        ("displayname", {"displayname": 3}, "M_INVALID_PARAM"),
        ("displayname", {"displayname": None}, "M_INVALID_PARAM"),
        ("displayname", {"displayname": "x" * 257}, "M_INVALID_PARAM"),
        ("avatar_url", {"avatar_url": "https://example.org/me.png"}, "M_INVALID_PARAM"),
        ("avatar_url", {"avatar_url": "mxc://localhost"}, "M_INVALID_PARAM"),
        ("avatar_url", {"avatar_url": ["mxc://localhost/a"]}, "M_INVALID_PARAM"),
        ("avatar_url", {"avatar_url": "mxc://localhost/" + "a" * 1000}, "M_INVALID_PARAM"),
    ],
)
def test_bad_profile_values_are_400(shared_alice: httpx.Client, field: str, body: Any, errcode: str) -> None:
    assert_error(shared_alice.put(profile_path(ALICE, field), json=body), 400, errcode)


@pytest.mark.parametrize(("content", "errcode"), [(b"not json", "M_NOT_JSON"), (b"[1]", "M_BAD_JSON")])
def test_a_body_that_is_no_json_object_is_400(shared_alice: httpx.Client, content: bytes, errcode: str) -> None:
    assert_error(shared_alice.put(profile_path(ALICE, "displayname"), content=content), 400, errcode)


def test_setting_a_profile_needs_a_token(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        r = anonymous.put(profile_path(ALICE, "displayname"), json={"displayname": "Mallory"})
    assert_error(r, 401, "M_MISSING_TOKEN")


def test_custom_profile_fields_are_not_served(shared_alice: httpx.Client) -> None:
    # They came with spec v1.16; the mock serves v1.11.
    assert_error(shared_alice.get(profile_path(ALICE, "m.tz")), 404, "M_UNRECOGNIZED")
    assert_error(shared_alice.put(profile_path(ALICE, "m.tz"), json={"m.tz": "Europe/London"}), 404, "M_UNRECOGNIZED")


def test_a_guest_may_set_a_display_name_but_no_avatar(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        r = anonymous.post(f"{V3}/register", params={"kind": "guest"}, json={})
        assert r.status_code == 200, r.text
        guest_id, token = r.json()["user_id"], r.json()["access_token"]
    with shared.client(token) as guest:
        put_ok(guest, "displayname", "Visitor", user_id=guest_id)
        assert get_ok(guest, profile_path(guest_id)) == {"displayname": "Visitor"}
        r = guest.put(profile_path(guest_id, "avatar_url"), json={"avatar_url": AVATAR})
        assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")
