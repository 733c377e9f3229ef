"""Read receipts and read markers over the wire: `POST .../receipt/...`, `POST .../read_markers`, and what /sync
shows of them (`m.receipt`, `m.fully_read`, `unread_notifications`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, assert_error, send_text, sync


def receipt_path(receipt_type: str, event_id: str, room_id: str = LOBBY) -> str:
    room, event = quote(room_id, safe=""), quote(event_id, safe="")
    return f"/_matrix/client/v3/rooms/{room}/receipt/{quote(receipt_type, safe='')}/{event}"


def markers_path(room_id: str = LOBBY) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/read_markers"


def send_receipt(client: httpx.Client, receipt_type: str, event_id: str, body: dict[str, Any] | None = None) -> None:
    r = client.post(receipt_path(receipt_type, event_id), json=body or {})
    assert r.status_code == 200, r.text
    assert r.json() == {}


def receipts_in(body: dict[str, Any], room_id: str = LOBBY) -> list[dict[str, Any]]:
    """The content of each `m.receipt` event the sync has for the room."""
    room = body["rooms"]["join"].get(room_id, {"ephemeral": {"events": []}})
    return [e["content"] for e in room["ephemeral"]["events"] if e["type"] == "m.receipt"]


def unread(body: dict[str, Any], room_id: str = LOBBY) -> dict[str, int]:
    counts: dict[str, int] = body["rooms"]["join"][room_id]["unread_notifications"]
    return counts


def test_a_read_receipt_shows_in_everyones_sync(alice: httpx.Client, bob: httpx.Client) -> None:
    event_id = send_text(alice, "read me", "t1")
    alice_since, bob_since = sync(alice)["next_batch"], sync(bob)["next_batch"]
    send_receipt(bob, "m.read", event_id)
    body = sync(alice, since=alice_since, timeout=0)
    (content,) = receipts_in(body)
    assert list(content) == [event_id]
    assert list(content[event_id]) == ["m.read"]
    receipt = content[event_id]["m.read"][BOB]
    assert isinstance(receipt["ts"], int) and "thread_id" not in receipt
    (event,) = body["rooms"]["join"][LOBBY]["ephemeral"]["events"]
    assert set(event) == {"type", "content"}  # no room id: the key says it
    assert receipts_in(sync(bob, since=bob_since, timeout=0)) == [content]
    assert sync(alice, since=body["next_batch"], timeout=0)["rooms"]["join"] == {}  # seen once


def test_a_first_sync_has_every_receipt(alice: httpx.Client, bob: httpx.Client) -> None:
    event_id = send_text(alice, "read me", "t1")
    send_receipt(bob, "m.read", event_id)
    send_receipt(alice, "m.read", event_id)
    (content,) = receipts_in(sync(bob))
    assert set(content[event_id]["m.read"]) == {ALICE, BOB}


def test_a_threaded_receipt_carries_its_thread_id(alice: httpx.Client, bob: httpx.Client) -> None:
    root = send_text(alice, "root", "t1")
    r = alice.put(
        f"/_matrix/client/v3/rooms/{quote(LOBBY, safe='')}/send/m.room.message/t2",
        json={"msgtype": "m.text", "body": "reply", "m.relates_to": {"rel_type": "m.thread", "event_id": root}},
    )
    assert r.status_code == 200, r.text
    reply = r.json()["event_id"]
    since = sync(alice)["next_batch"]
    send_receipt(bob, "m.read", root, {"thread_id": "main"})
    send_receipt(bob, "m.read", reply, {"thread_id": root})
    (content,) = receipts_in(sync(alice, since=since, timeout=0))
    assert content[root]["m.read"][BOB]["thread_id"] == "main"
    assert content[reply]["m.read"][BOB]["thread_id"] == root
    assert_error(bob.post(receipt_path("m.read", reply), json={"thread_id": "main"}), 400, "M_INVALID_PARAM")
    assert_error(bob.post(receipt_path("m.read", root), json={"thread_id": reply}), 400, "M_INVALID_PARAM")


def test_a_private_receipt_is_seen_by_its_owner_only(alice: httpx.Client, bob: httpx.Client) -> None:
    first, second = send_text(alice, "one", "t1"), send_text(alice, "two", "t2")
    alice_since, bob_since = sync(alice)["next_batch"], sync(bob)["next_batch"]
    send_receipt(bob, "m.read.private", first)
    assert receipts_in(sync(bob, since=bob_since, timeout=0)) == [
        {first: {"m.read.private": {BOB: receipts_in(sync(bob))[0][first]["m.read.private"][BOB]}}}
    ]
    send_receipt(bob, "m.read", second)  # the sentinel: alice's sync reaches past the private receipt
    (content,) = receipts_in(sync(alice, since=alice_since, timeout=0))
    assert list(content) == [second]
    assert all("m.read.private" not in receipt for receipt in receipts_in(sync(alice))[0].values())


def test_a_receipt_never_moves_back(alice: httpx.Client, bob: httpx.Client) -> None:
    first, second, third = (send_text(alice, body, f"t{body}") for body in ("1", "2", "3"))
    send_receipt(bob, "m.read", second)
    since = sync(alice)["next_batch"]
    send_receipt(bob, "m.read", first)  # older than the one bob has: ignored, as Synapse does
    send_receipt(bob, "m.read", second)  # the same again: nothing new either
    send_receipt(bob, "m.read", third)  # the sentinel
    assert receipts_in(sync(alice, since=since, timeout=0)) == [
        {third: {"m.read": {BOB: receipts_in(sync(alice))[0][third]["m.read"][BOB]}}}
    ]


def test_a_receipt_wakes_a_long_poll(alice: httpx.Client, bob: httpx.Client) -> None:
    event_id = send_text(alice, "read me", "t1")
    since = sync(alice)["next_batch"]
    send_receipt(bob, "m.read", event_id)
    assert list(receipts_in(sync(alice, since=since, timeout=5000))[0]) == [event_id]


def test_unread_counts_follow_messages_mentions_and_receipts(alice: httpx.Client, bob: httpx.Client) -> None:
    assert unread(sync(bob)) == {"notification_count": 0, "highlight_count": 0}
    first = send_text(alice, "hello there", "t1")
    send_text(alice, "bob, look at this", "t2")  # names bob: a highlight
    assert unread(sync(bob)) == {"notification_count": 2, "highlight_count": 1}
    # Her own messages do not count for her; bob's welcome in the scenario does.
    assert unread(sync(alice)) == {"notification_count": 1, "highlight_count": 0}
    since = sync(bob)["next_batch"]
    send_receipt(bob, "m.read", first)
    body = sync(bob, since=since, timeout=0)
    assert unread(body) == {"notification_count": 1, "highlight_count": 1}
    last = send_text(alice, "and this", "t3")
    assert unread(sync(bob)) == {"notification_count": 2, "highlight_count": 1}
    send_receipt(bob, "m.read.private", last)  # a private receipt resets the counts as well
    assert unread(sync(bob)) == {"notification_count": 0, "highlight_count": 0}


def test_read_markers_set_receipts(alice: httpx.Client, bob: httpx.Client) -> None:
    first, second = send_text(alice, "one", "t1"), send_text(alice, "two", "t2")
    since = sync(alice)["next_batch"]
    r = bob.post(markers_path(), json={"m.fully_read": second, "m.read": first, "m.read.private": second})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    (content,) = receipts_in(sync(alice, since=since, timeout=0))
    assert list(content) == [first]
    assert list(content[first]) == ["m.read"]
    own = receipts_in(sync(bob))[0]
    assert list(own[second]) == ["m.read.private"]


def test_the_read_marker_is_room_account_data_and_moves_forward(alice: httpx.Client, bob: httpx.Client) -> None:
    first, second = send_text(alice, "one", "t1"), send_text(alice, "two", "t2")
    send_receipt(bob, "m.fully_read", second)
    r = bob.post(markers_path(), json={"m.fully_read": first})  # behind the marker: ignored
    assert r.status_code == 200, r.text
    account_data = sync(bob)["rooms"]["join"][LOBBY]["account_data"]["events"]
    assert {"type": "m.fully_read", "content": {"event_id": second}} in account_data
    assert receipts_in(sync(alice)) == []  # a read marker is no receipt


@pytest.mark.parametrize(
    ("receipt_type", "body", "status", "errcode"),
    [
        ("m.unknown", {}, 400, "M_UNKNOWN"),
        ("m.read", {"thread_id": ""}, 400, "M_INVALID_PARAM"),
        ("m.read", {"thread_id": 3}, 400, "M_INVALID_PARAM"),
        ("m.fully_read", {"thread_id": "main"}, 400, "M_INVALID_PARAM"),
    ],
)
def test_a_bad_receipt_is_a_400(
    shared_bob: httpx.Client, receipt_type: str, body: dict[str, Any], status: int, errcode: str
) -> None:
    event_id = send_text(shared_bob, "x", f"bad-{receipt_type}-{body}")
    assert_error(shared_bob.post(receipt_path(receipt_type, event_id), json=body), status, errcode)


def test_a_receipt_body_must_be_json(shared_bob: httpx.Client) -> None:
    event_id = send_text(shared_bob, "x", "not-json")
    assert_error(shared_bob.post(receipt_path("m.read", event_id), content=b"{"), 400, "M_NOT_JSON")


def test_a_receipt_for_an_unknown_event_is_a_404(shared_bob: httpx.Client) -> None:
    assert_error(shared_bob.post(receipt_path("m.read", "$nope"), json={}), 404, "M_NOT_FOUND")
    assert_error(shared_bob.post(markers_path(), json={"m.read": "$nope"}), 404, "M_NOT_FOUND")


def test_a_receipt_outside_the_users_rooms_is_forbidden(shared_alice: httpx.Client, shared_bob: httpx.Client) -> None:
    event_id = send_text(shared_alice, "secret", "backstage", room_id=BACKSTAGE)
    assert_error(shared_bob.post(receipt_path("m.read", event_id, BACKSTAGE), json={}), 403, "M_FORBIDDEN")
    assert_error(shared_bob.post(markers_path(BACKSTAGE), json={"m.read": event_id}), 403, "M_FORBIDDEN")


def test_malformed_ids_are_a_400(shared_bob: httpx.Client) -> None:
    assert_error(shared_bob.post(receipt_path("m.read", "$x", "lobby"), json={}), 400, "M_UNKNOWN")
    assert_error(shared_bob.post(receipt_path("m.read", "not-an-event"), json={}), 400, "M_UNKNOWN")


def test_read_markers_refuse_a_value_that_is_not_a_string(shared_bob: httpx.Client) -> None:
    assert_error(shared_bob.post(markers_path(), json={"m.read": 7}), 400, "M_BAD_JSON")


def test_read_markers_ignore_unknown_types(shared_bob: httpx.Client) -> None:
    r = shared_bob.post(markers_path(), json={"org.example.marker": "$x"})
    assert r.status_code == 200, r.text
