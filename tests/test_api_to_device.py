"""Send-to-device over the wire: the exact answer, delivery through /sync exactly once and in order, and errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, ALICE_TOKEN, BOB, LiveServer, assert_error, polling, sync

TYPE = "org.example.ping"


def to_device_path(txn_id: str, event_type: str = TYPE) -> str:
    return f"/_matrix/client/v3/sendToDevice/{event_type}/{txn_id}"


def send(client: httpx.Client, txn_id: str, messages: dict[str, Any], event_type: str = TYPE) -> None:
    r = client.put(to_device_path(txn_id, event_type), json={"messages": messages})
    assert r.status_code == 200, r.text
    assert r.content == b"{}"


def inbox(body: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = body["to_device"]["events"]
    return events


def test_answer_is_exactly_an_empty_object(alice: httpx.Client) -> None:
    r = alice.put(to_device_path("t1"), json={"messages": {BOB: {"BOBPHONE": {"n": 1}}}})
    assert r.status_code == 200, r.text
    assert r.content == b"{}"
    assert r.headers["content-type"].startswith("application/json")


def test_message_arrives_in_the_recipient_devices_next_sync(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    send(alice, "t1", {BOB: {"BOBPHONE": {"n": 1}}})
    assert inbox(sync(bob, since)) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


def test_message_reaches_only_the_named_device(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    with mock.client("bob-laptop-token") as laptop:
        since = sync(laptop)["next_batch"]
        send(alice, "t1", {BOB: {"BOBPHONE": {"n": 1}}})
        assert inbox(sync(laptop, since)) == []
    assert inbox(sync(bob)) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


def test_star_reaches_every_device_of_the_user(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    send(alice, "t1", {BOB: {"*": {"to": "all"}}})
    with mock.client("bob-laptop-token") as laptop:
        on_laptop = inbox(sync(laptop))
    expected = [{"sender": ALICE, "type": TYPE, "content": {"to": "all"}}]
    assert inbox(sync(bob)) == expected
    assert on_laptop == expected


def test_a_long_polling_sync_wakes_on_a_to_device_message(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    since = sync(bob)["next_batch"]
    # A poll that was not woken would answer empty after its timeout, and fail the assertion below.
    with polling(mock, lambda: sync(bob, since, timeout=30_000)) as waiting:
        send(alice, "late", {BOB: {"BOBPHONE": {"n": 1}}})
    assert inbox(waiting.result()) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


def test_delivered_exactly_once_and_again_only_to_a_retried_old_token(alice: httpx.Client, bob: httpx.Client) -> None:
    old = sync(bob)["next_batch"]
    send(alice, "t1", {BOB: {"BOBPHONE": {"n": 1}}})
    first = sync(bob, old)
    message = [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]
    assert inbox(first) == message
    # The client never saw that answer and retries its old token: the message is not acknowledged yet.
    assert inbox(sync(bob, old)) == message
    acknowledged = sync(bob, first["next_batch"])
    assert inbox(acknowledged) == []
    assert inbox(sync(bob, acknowledged["next_batch"])) == []
    assert inbox(sync(bob, old)) == []


def test_order_is_kept(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    for n in range(5):
        send(alice, f"t{n}", {BOB: {"BOBPHONE": {"n": n}}})
    assert [m["content"]["n"] for m in inbox(sync(bob, since))] == [0, 1, 2, 3, 4]


def test_150_messages_come_as_100_then_50(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    for n in range(150):
        send(alice, f"t{n}", {BOB: {"BOBPHONE": {"n": n}}})
    first = sync(bob, since)
    second = sync(bob, first["next_batch"])
    third = sync(bob, second["next_batch"])
    assert [m["content"]["n"] for m in inbox(first)] == list(range(100))
    assert [m["content"]["n"] for m in inbox(second)] == list(range(100, 150))
    assert inbox(third) == []


def test_the_second_page_comes_at_once_without_waiting_for_the_timeout(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    for n in range(101):
        send(alice, f"t{n}", {BOB: {"BOBPHONE": {"n": n}}})
    first = sync(bob, since)
    # Were it to wait, the client's own 10 s timeout would fail the test long before the poll's 10 minutes.
    second = sync(bob, first["next_batch"], timeout=600_000)
    assert [m["content"]["n"] for m in inbox(second)] == [100]


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param({"@nobody:localhost": {"DEV": {"n": 1}}}, id="unknown-user"),
        pytest.param({"@nobody:localhost": {"*": {"n": 1}}}, id="unknown-user-star"),
        pytest.param({BOB: {"NOSUCHDEVICE": {"n": 1}}}, id="unknown-device"),
        pytest.param({"@bob:elsewhere.example": {"*": {"n": 1}}}, id="remote-user"),
        pytest.param({}, id="nobody"),
    ],
)
def test_unknown_recipients_are_silently_dropped(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client, messages: dict[str, Any]
) -> None:
    send(alice, "t1", messages)
    with mock.client("bob-laptop-token") as laptop:
        assert inbox(sync(laptop)) == []
    assert inbox(sync(bob)) == []


def test_unknown_device_next_to_a_known_one_does_not_stop_delivery(alice: httpx.Client, bob: httpx.Client) -> None:
    send(alice, "t1", {"@nobody:localhost": {"X": {}}, BOB: {"NOSUCHDEVICE": {"n": 0}, "BOBPHONE": {"n": 1}}})
    assert inbox(sync(bob)) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


def test_same_txn_id_twice_is_delivered_once(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    send(alice, "dup", {BOB: {"BOBPHONE": {"n": 1}}})
    send(alice, "dup", {BOB: {"BOBPHONE": {"n": 2}}})
    assert inbox(sync(bob, since)) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


def test_same_txn_id_with_another_event_type_is_another_transaction(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    send(alice, "same", {BOB: {"BOBPHONE": {"n": 1}}}, event_type="org.example.a")
    send(alice, "same", {BOB: {"BOBPHONE": {"n": 2}}}, event_type="org.example.b")
    assert [m["type"] for m in inbox(sync(bob, since))] == ["org.example.a", "org.example.b"]


def test_a_logged_out_device_loses_its_messages(mock: LiveServer, alice: httpx.Client) -> None:
    with mock.client("bob-laptop-token") as laptop:
        send(alice, "t1", {BOB: {"BOBLAPTOP": {"n": 1}}})
        r = laptop.post("/_matrix/client/v3/logout", json={})
        assert r.status_code == 200, r.text
    send(alice, "t2", {BOB: {"*": {"n": 2}}})
    login = httpx.post(
        mock.url + "/_matrix/client/v3/login",
        json={"type": "m.login.password", "user": "bob", "password": "bob-pass", "device_id": "BOBLAPTOP"},
    )
    assert login.status_code == 200, login.text
    with mock.client(login.json()["access_token"]) as laptop_again:
        assert inbox(sync(laptop_again)) == []


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        pytest.param(b"{}", 400, "M_MISSING_PARAM", id="no-messages"),
        pytest.param(b'{"messages": "str"}', 400, "M_BAD_JSON", id="messages-string"),
        pytest.param(b'{"messages": [1]}', 400, "M_BAD_JSON", id="messages-list"),
        pytest.param(b'{"messages": {"@bob:localhost": "str"}}', 400, "M_BAD_JSON", id="device-map-string"),
        pytest.param(b'{"messages": {"@bob:localhost": ["BOBPHONE"]}}', 400, "M_BAD_JSON", id="device-map-list"),
        pytest.param(b'{"messages": {"@bob:localhost": {"BOBPHONE": 1}}}', 400, "M_BAD_JSON", id="content-number"),
        pytest.param(b"not json", 400, "M_NOT_JSON", id="not-json"),
        pytest.param(b"[]", 400, "M_BAD_JSON", id="array"),
    ],
)
def test_send_to_device_errors(shared: LiveServer, body: bytes, status: int, errcode: str) -> None:
    with shared.client(ALICE_TOKEN) as alice:
        r = alice.put(to_device_path("bad"), content=body)
    assert_error(r, status, errcode)


def test_a_refused_body_delivers_nothing_and_is_not_cached(alice: httpx.Client, bob: httpx.Client) -> None:
    since = sync(bob)["next_batch"]
    r = alice.put(to_device_path("retry"), json={"messages": {BOB: {"BOBPHONE": "oops"}}})
    assert_error(r, 400, "M_BAD_JSON")
    send(alice, "retry", {BOB: {"BOBPHONE": {"n": 1}}})
    assert inbox(sync(bob, since)) == [{"sender": ALICE, "type": TYPE, "content": {"n": 1}}]


@pytest.mark.parametrize(
    ("headers", "errcode"),
    [({}, "M_MISSING_TOKEN"), ({"Authorization": "Bearer nobody-has-this"}, "M_UNKNOWN_TOKEN")],
)
def test_send_to_device_needs_a_known_token(shared: LiveServer, headers: dict[str, str], errcode: str) -> None:
    r = httpx.put(shared.url + to_device_path("t"), json={"messages": {}}, headers=headers)
    assert_error(r, 401, errcode)
