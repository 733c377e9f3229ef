"""Room sends over the wire: prefixes, auth, idempotent txnIds, the transaction id echo, and every error answer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import (
    ALICE_TOKEN,
    BACKSTAGE,
    BOB_PHONE_TOKEN,
    LOBBY,
    LiveServer,
    assert_error,
    events_since,
    send_text,
    stream_end,
)

MAX_EVENT_BYTES = 65536


def send_path(room_id: str = LOBBY, txn_id: str = "t1", prefix: str = "v3", event_type: str = "m.room.message") -> str:
    return f"/_matrix/client/{prefix}/rooms/{quote(room_id, safe='')}/send/{event_type}/{txn_id}"


def text(body: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body}


def sync_timeline(client: httpx.Client, since: str, room_id: str = LOBBY) -> list[dict[str, Any]]:
    r = client.get("/_matrix/client/v3/sync", params={"since": since, "timeout": 0})
    assert r.status_code == 200, r.text
    room = r.json()["rooms"]["join"].get(room_id)
    return [] if room is None else list(room["timeline"]["events"])


def next_batch(client: httpx.Client) -> str:
    r = client.get("/_matrix/client/v3/sync")
    assert r.status_code == 200, r.text
    token: str = r.json()["next_batch"]
    return token


@pytest.fixture
def raw(shared: LiveServer) -> Iterator[httpx.Client]:
    """A client sending no credentials."""
    with shared.client() as client:
        yield client


@pytest.mark.parametrize("prefix", ["v3", "r0", "api/v1"])
def test_send_on_each_prefix_returns_an_event_id_others_see(
    prefix: str, alice: httpx.Client, bob: httpx.Client
) -> None:
    since = stream_end(bob)
    r = alice.put(send_path(prefix=prefix), json=text(f"via {prefix}"))
    assert r.status_code == 200, r.text
    event_id = r.json()["event_id"]
    assert list(r.json()) == ["event_id"]
    assert event_id.startswith("$")
    [event] = events_since(bob, since)
    assert (event["event_id"], event["sender"], event["content"]) == (
        event_id,
        "@alice:localhost",
        text(f"via {prefix}"),
    )


def test_access_token_query_parameter_authenticates(mock: LiveServer, bob: httpx.Client) -> None:
    since = stream_end(bob)
    r = httpx.put(mock.url + send_path(), params={"access_token": ALICE_TOKEN}, json=text("by query"))
    assert r.status_code == 200, r.text
    assert [e["sender"] for e in events_since(bob, since)] == ["@alice:localhost"]


def test_same_txn_id_with_another_body_gives_the_same_event_and_no_second(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    since = stream_end(bob)
    first = alice.put(send_path(txn_id="dup"), json=text("first"))
    again = alice.put(send_path(txn_id="dup"), json=text("second"))
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    events = events_since(bob, since)
    assert [(e["event_id"], e["content"]) for e in events] == [(first.json()["event_id"], text("first"))]


def test_same_txn_id_is_idempotent_across_auth_styles(mock: LiveServer, alice: httpx.Client) -> None:
    since = stream_end(alice)
    by_header = alice.put(send_path(txn_id="mixed"), json=text("once"))
    by_query = httpx.put(mock.url + send_path(txn_id="mixed"), params={"access_token": ALICE_TOKEN}, json=text("once"))
    assert by_header.status_code == 200, by_header.text
    assert by_query.status_code == 200, by_query.text
    assert by_query.json() == by_header.json()
    assert len(events_since(alice, since)) == 1


def test_different_txn_ids_make_different_events(alice: httpx.Client, bob: httpx.Client) -> None:
    since = next_batch(bob)
    one = alice.put(send_path(txn_id="a"), json=text("same"))
    two = alice.put(send_path(txn_id="b"), json=text("same"))
    assert one.status_code == 200, one.text
    assert two.status_code == 200, two.text
    assert one.json()["event_id"] != two.json()["event_id"]
    timeline = sync_timeline(bob, since)
    assert [e["event_id"] for e in timeline] == [one.json()["event_id"], two.json()["event_id"]]


def test_same_txn_id_from_another_user_is_another_transaction(alice: httpx.Client, bob: httpx.Client) -> None:
    mine = alice.put(send_path(txn_id="shared"), json=text("alice"))
    theirs = bob.put(send_path(txn_id="shared"), json=text("bob"))
    assert mine.status_code == 200, mine.text
    assert theirs.status_code == 200, theirs.text
    assert mine.json()["event_id"] != theirs.json()["event_id"]


def test_transaction_id_is_echoed_to_the_sending_device_only(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    login = alice.post(
        "/_matrix/client/v3/login",
        json={
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": "alice-pass",
            "device_id": "ALICEOTHER",
        },
    )
    assert login.status_code == 200, login.text
    with mock.client(login.json()["access_token"]) as alice_other:
        sinces = {name: next_batch(c) for name, c in [("sender", alice), ("other", alice_other), ("bob", bob)]}
        r = alice.put(send_path(txn_id="echo-me"), json=text("echo"))
        assert r.status_code == 200, r.text
        seen = {
            name: [e for e in sync_timeline(c, sinces[name]) if e["event_id"] == r.json()["event_id"]]
            for name, c in [("sender", alice), ("other", alice_other), ("bob", bob)]
        }
    assert seen["sender"][0]["unsigned"]["transaction_id"] == "echo-me"
    assert "transaction_id" not in seen["other"][0]["unsigned"]
    assert "transaction_id" not in seen["bob"][0]["unsigned"]


def test_transaction_id_is_echoed_on_the_event_stream_to_the_sender_only(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    since = stream_end(alice)
    r = alice.put(send_path(txn_id="stream-echo"), json=text("echo"))
    assert r.status_code == 200, r.text
    [mine] = events_since(alice, since)
    [theirs] = events_since(bob, since)
    assert mine["unsigned"]["transaction_id"] == "stream-echo"
    assert "transaction_id" not in theirs["unsigned"]


SAME_DEVICE_ID = """
server_name: localhost
users:
  - id: alice
    devices: [{id: SHAREDDEV, access_token: alice-token}]
  - id: bob
    devices: [{id: SHAREDDEV, access_token: bob-token}]
rooms:
  - id: "!lobby:localhost"
    members: [alice, bob]
"""


def test_transaction_id_is_not_echoed_to_another_users_device_of_the_same_id(
    serve_yaml: Callable[[str], LiveServer],
) -> None:
    # Device ids are only unique per user: bob's SHAREDDEV is not the device alice sent from.
    live = serve_yaml(SAME_DEVICE_ID)
    with live.client("alice-token") as alice, live.client("bob-token") as bob:
        since = next_batch(bob)
        r = alice.put(send_path(txn_id="private-txn"), json=text("hi"))
        assert r.status_code == 200, r.text
        [event] = sync_timeline(bob, since)
    assert "transaction_id" not in event["unsigned"], event


ERRORS = [
    # (token, room id, body, status, errcode)
    pytest.param(None, LOBBY, b'{"body": "x"}', 401, "M_MISSING_TOKEN", id="no-token"),
    pytest.param("nobody-has-this", LOBBY, b'{"body": "x"}', 401, "M_UNKNOWN_TOKEN", id="unknown-token"),
    pytest.param(ALICE_TOKEN, LOBBY, b"not json", 400, "M_NOT_JSON", id="not-json"),
    pytest.param(ALICE_TOKEN, LOBBY, b"[1,2]", 400, "M_BAD_JSON", id="json-array"),
    pytest.param(ALICE_TOKEN, LOBBY, b'"a string"', 400, "M_BAD_JSON", id="json-string"),
    pytest.param(ALICE_TOKEN, LOBBY, b"", 400, "M_NOT_JSON", id="empty-body"),
    pytest.param(BOB_PHONE_TOKEN, BACKSTAGE, b'{"body": "x"}', 403, "M_FORBIDDEN", id="not-joined"),
    pytest.param(ALICE_TOKEN, "!nowhere:localhost", b'{"body": "x"}', 403, "M_FORBIDDEN", id="unknown-room"),
    pytest.param(ALICE_TOKEN, "lobby", b'{"body": "x"}', 403, "M_FORBIDDEN", id="malformed-room-id"),
    pytest.param(ALICE_TOKEN, "!no-server-part", b'{"body": "x"}', 403, "M_FORBIDDEN", id="room-id-without-server"),
]


@pytest.mark.parametrize(("token", "room_id", "body", "status", "errcode"), ERRORS)
def test_send_errors(
    raw: httpx.Client, token: str | None, room_id: str, body: bytes, status: int, errcode: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = raw.put(send_path(room_id), content=body, headers=headers)
    error = assert_error(r, status, errcode)
    if errcode == "M_UNKNOWN_TOKEN":
        assert error["soft_logout"] is False, r.text


def test_unknown_token_by_query_parameter_is_401(raw: httpx.Client) -> None:
    r = raw.put(send_path(), params={"access_token": "nobody-has-this"}, json=text("x"))
    assert assert_error(r, 401, "M_UNKNOWN_TOKEN")["soft_logout"] is False


def test_missing_token_error_says_so(raw: httpx.Client) -> None:
    r = raw.put(send_path(), json=text("x"))
    assert assert_error(r, 401, "M_MISSING_TOKEN")["error"] == "Missing access token"


def _padded(total_bytes: int) -> bytes:
    """A message content whose JSON encoding is exactly `total_bytes` long."""
    skeleton = json.dumps({"msgtype": "m.text", "body": ""}).encode()
    body = json.dumps({"msgtype": "m.text", "body": "x" * (total_bytes - len(skeleton))}).encode()
    assert len(body) == total_bytes
    return body


def test_event_over_64_kib_is_413(alice: httpx.Client) -> None:
    since = stream_end(alice)
    r = alice.put(send_path(txn_id="big"), content=_padded(MAX_EVENT_BYTES + 1))
    assert_error(r, 413, "M_TOO_LARGE")
    assert events_since(alice, since) == []


def test_event_just_under_the_limit_is_accepted(alice: httpx.Client, bob: httpx.Client) -> None:
    # A real server counts its own envelope (ids, hashes, signatures) too: leave it a kilobyte.
    content = _padded(MAX_EVENT_BYTES - 1024)
    since = stream_end(bob)
    r = alice.put(send_path(txn_id="nearly-big"), content=content)
    assert r.status_code == 200, r.text
    [event] = events_since(bob, since)
    assert event["content"] == json.loads(content)


def test_post_on_the_put_send_path_is_405(shared_alice: httpx.Client) -> None:
    r = shared_alice.post(send_path(), json=text("x"))
    assert_error(r, 405, "M_UNRECOGNIZED")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_matrix/client/v3/no_such_endpoint"),
        ("PUT", "/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message"),
        ("GET", "/_matrix/client/v4/sync"),
        ("GET", "/_matrix/client/api/v1/sync"),
        ("GET", "/not-matrix-at-all"),
    ],
)
def test_unknown_endpoint_is_404_unrecognized(shared_alice: httpx.Client, method: str, path: str) -> None:
    r = shared_alice.request(method, path)
    assert_error(r, 404, "M_UNRECOGNIZED")


def _nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


HOSTILE_BODIES = [
    pytest.param(b'{"body": "' + b"x" * (5 << 20) + b'"}', id="5MB"),
    pytest.param(_nested(30_000), id="nested-30000"),
    pytest.param(_nested(900), id="nested-900"),
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", send_path(txn_id="hostile")),
        ("PUT", "/_matrix/client/v3/sendToDevice/m.test/hostile"),
        ("POST", "/_matrix/client/v3/createRoom"),
        ("POST", "/_matrix/client/v3/login"),
    ],
)
def test_hostile_bodies_are_refused_with_4xx_and_the_server_carries_on(
    shared_alice: httpx.Client, method: str, path: str, body: bytes
) -> None:
    r = shared_alice.request(method, path, content=body)
    assert 400 <= r.status_code < 500, r.text[:500]
    assert r.headers["content-type"].startswith("application/json"), r.headers
    assert {"errcode", "error"} <= r.json().keys(), r.text[:500]
    after = shared_alice.put(send_path(txn_id="after-hostile"), json=text("still here"))
    assert after.status_code == 200, after.text


def test_huge_chunked_body_is_refused_with_4xx_and_the_server_carries_on(alice: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"body": "'
        for _ in range(80):
            yield b"x" * 65536
        yield b'"}'

    r = alice.put(send_path(txn_id="chunked"), content=chunks())
    assert 400 <= r.status_code < 500, r.text[:500]
    after = alice.put(send_path(txn_id="after-chunked"), json=text("still here"))
    assert after.status_code == 200, after.text


def test_a_room_alias_in_the_send_path_is_answered_as_synapse_answers_it(shared_alice: httpx.Client) -> None:
    # Synapse 1.163.2 takes the path's room as an id, even for an alias of a room the user is in:
    # 403 {"errcode":"M_FORBIDDEN","error":"User @aliasprobe:localhost not in room #probe:localhost"}.
    r = shared_alice.put("/_matrix/client/v3/rooms/%23lobby:localhost/send/m.room.message/alias-1", json={"body": "hi"})
    body = assert_error(r, 403, "M_FORBIDDEN")
    assert body["error"] == "User @alice:localhost not in room #lobby:localhost"


def test_event_ids_have_the_shape_of_room_version_4_ids(alice: httpx.Client) -> None:
    # `$` and the unpadded url-safe base64 of 32 bytes (a hash, in a real room): 43 characters, the last of which
    # carries 4 bits and so is one of 16. Made in batches from the OS's randomness, each one different.
    ids = [send_text(alice, f"id {n}", f"id-{n}") for n in range(300)]  # past one batch of 256
    assert len(set(ids)) == len(ids)
    for event_id in ids:
        assert re.fullmatch(r"\$[A-Za-z0-9_-]{43}", event_id), event_id
        assert URLSAFE.index(event_id[-1]) % 4 == 0, event_id


URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
