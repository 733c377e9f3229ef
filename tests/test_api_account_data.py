"""Account data over the wire: global and per room, read back, refused for others, and delivered by `/sync`."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mockmx.homeserver import account_data
from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error, sync

V3 = "/_matrix/client/v3"


def global_path(event_type: str, user_id: str = ALICE) -> str:
    return f"{V3}/user/{user_id}/account_data/{event_type}"


def room_path(event_type: str, room_id: str = LOBBY, user_id: str = ALICE) -> str:
    return f"{V3}/user/{user_id}/rooms/{quote(room_id, safe='')}/account_data/{event_type}"


def put_ok(client: httpx.Client, path: str, content: dict[str, Any]) -> None:
    r = client.put(path, json=content)
    assert r.status_code == 200, r.text
    assert r.json() == {}


def get_ok(client: httpx.Client, path: str) -> Any:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def room_account_data(body: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    room = body["rooms"]["join"].get(room_id)
    return room["account_data"]["events"] if room is not None else []


def test_global_account_data_reads_back(alice: httpx.Client) -> None:
    put_ok(alice, global_path("org.example.settings"), {"theme": "dark"})
    assert get_ok(alice, global_path("org.example.settings")) == {"theme": "dark"}
    put_ok(alice, global_path("org.example.settings"), {"theme": "light"})
    assert get_ok(alice, global_path("org.example.settings")) == {"theme": "light"}


def test_room_account_data_reads_back_for_that_room_only(alice: httpx.Client) -> None:
    put_ok(alice, room_path("m.tag"), {"tags": {"m.favourite": {"order": 0.5}}})
    assert get_ok(alice, room_path("m.tag")) == {"tags": {"m.favourite": {"order": 0.5}}}
    assert_error(alice.get(room_path("m.tag", BACKSTAGE)), 404, "M_NOT_FOUND")
    assert_error(alice.get(global_path("m.tag")), 404, "M_NOT_FOUND")


def test_account_data_is_each_users_own(alice: httpx.Client, bob: httpx.Client) -> None:
    put_ok(alice, global_path("org.example.mine"), {"n": 1})
    put_ok(bob, global_path("org.example.mine", BOB), {"n": 2})
    assert get_ok(alice, global_path("org.example.mine")) == {"n": 1}
    assert get_ok(bob, global_path("org.example.mine", BOB)) == {"n": 2}


@pytest.mark.parametrize("room", [False, True])
def test_unset_account_data_is_404(shared_alice: httpx.Client, room: bool) -> None:
    path = room_path("org.example.never") if room else global_path("org.example.never")
    assert_error(shared_alice.get(path), 404, "M_NOT_FOUND")


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("room", [False, True])
def test_another_users_account_data_is_403(shared_alice: httpx.Client, method: str, room: bool) -> None:
    path = room_path("org.example.x", user_id=BOB) if room else global_path("org.example.x", BOB)
    r = shared_alice.request(method, path, json={"a": 1} if method == "PUT" else None)
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.mark.parametrize("event_type", ["m.fully_read", "m.push_rules"])
@pytest.mark.parametrize("room", [False, True])
def test_server_managed_types_cannot_be_set(shared_alice: httpx.Client, event_type: str, room: bool) -> None:
    path = room_path(event_type) if room else global_path(event_type)
    assert_error(shared_alice.put(path, json={"event_id": "$x"}), 405, "M_BAD_JSON")  # the spec's 405, as Synapse


def test_room_push_rules_read_as_empty(shared_alice: httpx.Client) -> None:
    assert get_ok(shared_alice, room_path("m.push_rules")) == {}  # Synapse: room-specific push rules are unsupported


@pytest.mark.parametrize(("content", "errcode"), [(b"not json", "M_NOT_JSON"), (b"[1, 2]", "M_BAD_JSON")])
@pytest.mark.parametrize("room", [False, True])
def test_content_must_be_a_json_object(shared_alice: httpx.Client, content: bytes, errcode: str, room: bool) -> None:
    path = room_path("org.example.x") if room else global_path("org.example.x")
    assert_error(shared_alice.put(path, content=content), 400, errcode)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_a_malformed_room_id_is_400(shared_alice: httpx.Client, method: str) -> None:
    r = shared_alice.request(method, room_path("org.example.x", "lobby"), json={} if method == "PUT" else None)
    assert_error(r, 400, "M_INVALID_PARAM")


def test_account_data_for_a_room_the_user_is_not_in_is_kept(shared_alice: httpx.Client) -> None:
    # As Synapse: any well-formed room id will do.
    put_ok(shared_alice, room_path("org.example.x", "!elsewhere:example.org"), {"k": "v"})
    assert get_ok(shared_alice, room_path("org.example.x", "!elsewhere:example.org")) == {"k": "v"}


@pytest.mark.parametrize("path", [global_path("org.example.x"), room_path("org.example.x")])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_account_data_needs_a_token(shared: LiveServer, path: str, method: str) -> None:
    with shared.client() as anonymous:
        assert_error(anonymous.request(method, path, json={}), 401, "M_MISSING_TOKEN")


def test_guests_have_no_account_data(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        r = anonymous.post(f"{V3}/register", params={"kind": "guest"}, json={})
        assert r.status_code == 200, r.text
        guest_id, token = r.json()["user_id"], r.json()["access_token"]
    with shared.client(token) as guest:
        r = guest.put(global_path("org.example.x", guest_id), json={})
        assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")


def test_a_first_sync_has_all_account_data(alice: httpx.Client) -> None:
    put_ok(alice, global_path("org.example.a"), {"a": 1})
    put_ok(alice, room_path("org.example.r"), {"r": 1})
    body = sync(alice)
    global_events = [e for e in body["account_data"]["events"] if e["type"] != "m.push_rules"]
    assert global_events == [{"type": "org.example.a", "content": {"a": 1}}]
    assert room_account_data(body, LOBBY) == [{"type": "org.example.r", "content": {"r": 1}}]
    assert room_account_data(body, BACKSTAGE) == []


def test_an_incremental_sync_has_what_changed_since_the_token(alice: httpx.Client) -> None:
    put_ok(alice, global_path("org.example.old"), {"v": 0})
    since = sync(alice)["next_batch"]
    put_ok(alice, global_path("org.example.new"), {"v": 1})
    put_ok(alice, room_path("org.example.room", BACKSTAGE), {"v": 2})
    body = sync(alice, since=since, timeout=0)
    assert body["account_data"]["events"] == [{"type": "org.example.new", "content": {"v": 1}}]
    assert room_account_data(body, BACKSTAGE) == [{"type": "org.example.room", "content": {"v": 2}}]
    assert LOBBY not in body["rooms"]["join"]  # nothing new there
    later = sync(alice, since=body["next_batch"], timeout=0)
    assert later["account_data"]["events"] == []
    assert later["rooms"]["join"] == {}


def test_another_user_does_not_see_it(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    put_ok(alice, global_path("org.example.private"), {"secret": True})
    put_ok(alice, room_path("org.example.private"), {"secret": True})
    body = sync(bob, since=since, timeout=0)
    assert body["account_data"]["events"] == []
    assert room_account_data(body, LOBBY) == []


def test_a_long_polling_sync_wakes_on_account_data(alice: httpx.Client, mock: LiveServer) -> None:
    since = sync(alice)["next_batch"]
    with mock.client("alice-token") as writer:
        # A poll far longer than the client waits: only the change can end it in time.
        timer = threading.Timer(0.2, put_ok, (writer, global_path("org.example.wake"), {"w": 1}))
        timer.start()
        try:
            body = sync(alice, since=since, timeout=60_000)
        finally:
            timer.join()
    assert body["account_data"]["events"] == [{"type": "org.example.wake", "content": {"w": 1}}]


def test_a_user_holds_a_bounded_number_of_entries(alice: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_data, "MAX_ENTRIES_PER_USER", 3)
    put_ok(alice, global_path("org.example.one"), {})
    put_ok(alice, room_path("org.example.two"), {})
    put_ok(alice, room_path("org.example.two", BACKSTAGE), {})
    assert_error(alice.put(global_path("org.example.four"), json={}), 413, "M_TOO_LARGE")
    put_ok(alice, global_path("org.example.one"), {"changed": True})  # replacing an entry takes no room
