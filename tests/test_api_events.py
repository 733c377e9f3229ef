"""The legacy event stream `GET /events` over the wire: its shape, long polls, guests peeking, many waiters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ALICE,
    ALICE_TOKEN,
    BACKSTAGE,
    LOBBY,
    LiveServer,
    assert_error,
    long_poll_waiters,
    polling,
    send_text,
)

EVENTS = "/_matrix/client/v3/events"


def poll(client: httpx.Client, path: str = EVENTS, /, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def guest(mock: LiveServer) -> Iterator[httpx.Client]:
    """A freshly registered guest's client."""
    r = httpx.post(mock.url + "/_matrix/client/v3/register", params={"kind": "guest"}, json={})
    assert r.status_code == 200, r.text
    with mock.client(r.json()["access_token"]) as client:
        yield client


@pytest.mark.parametrize("prefix", ["api/v1", "r0", "v3"])
def test_events_with_timeout_0_answers_chunk_start_end(alice: httpx.Client, prefix: str) -> None:
    body = poll(alice, f"/_matrix/client/{prefix}/events", timeout=0)
    assert body["chunk"] == []
    assert isinstance(body["start"], str)
    assert isinstance(body["end"], str)


def test_events_carry_the_client_event_fields(alice: httpx.Client) -> None:
    send_text(alice, "one", "t1")
    send_text(alice, "two", "t2", BACKSTAGE)
    chunk = poll(alice, **{"from": "s0_0", "timeout": 0, "limit": 1000})["chunk"]
    assert len(chunk) > 2
    for event in chunk:
        assert {"event_id", "room_id", "sender", "type", "content", "origin_server_ts", "unsigned"} <= event.keys()
        assert event["event_id"].startswith("$"), event
        assert isinstance(event["origin_server_ts"], int), event
        assert isinstance(event["unsigned"]["age"], int) and event["unsigned"]["age"] >= 0, event
        assert isinstance(event["content"], dict), event
    assert len({event["event_id"] for event in chunk}) == len(chunk)
    assert {event["room_id"] for event in chunk} == {LOBBY, BACKSTAGE}
    assert [(e["room_id"], e["content"]["body"]) for e in chunk[-2:]] == [(LOBBY, "one"), (BACKSTAGE, "two")]


def test_end_token_continues_the_stream_without_repeats(alice: httpx.Client) -> None:
    start = poll(alice, timeout=0)["end"]
    first_id = send_text(alice, "one", "t1")
    first = poll(alice, **{"from": start, "timeout": 0})
    second_id = send_text(alice, "two", "t2")
    second = poll(alice, **{"from": first["end"], "timeout": 0})
    assert [e["event_id"] for e in first["chunk"]] == [first_id]
    assert [e["event_id"] for e in second["chunk"]] == [second_id]
    assert first["start"] == start


def test_limit_pages_the_stream(alice: httpx.Client) -> None:
    start = poll(alice, timeout=0)["end"]
    sent = [send_text(alice, str(n), f"t{n}") for n in range(5)]
    page = poll(alice, **{"from": start, "timeout": 0, "limit": 3})
    rest = poll(alice, **{"from": page["end"], "timeout": 0, "limit": 3})
    assert [e["event_id"] for e in page["chunk"] + rest["chunk"]] == sent


@pytest.mark.parametrize("token", ["garbage", "s1", "s1_2_3", "sx_1", "t1_1"])
def test_garbage_from_token_is_400_unknown(shared_alice: httpx.Client, token: str) -> None:
    r = shared_alice.get(EVENTS, params={"from": token, "timeout": 0})
    assert_error(r, 400, "M_UNKNOWN")
    assert r.json()["error"] == "'from' parameter is invalid"


def test_long_poll_returns_when_a_message_arrives(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    end = poll(alice, timeout=0)["end"]
    # A poll that was not woken would answer empty after its timeout, and fail the assertion below.
    with polling(mock, lambda: poll(alice, **{"from": end, "timeout": 30_000})) as waiting:
        send_text(bob, "wake up", "late")
    body = waiting.result()
    assert [(e["sender"], e["content"]["body"]) for e in body["chunk"]] == [("@bob:localhost", "wake up")]


def test_long_poll_with_nothing_sent_returns_empty_at_its_timeout(mock: LiveServer, alice: httpx.Client) -> None:
    end = poll(alice, timeout=0)["end"]
    with polling(mock, lambda: poll(alice, **{"from": end, "timeout": 2000})) as waiting:
        pass  # it waited (the mock held it), and then answered by itself
    body = waiting.result()
    assert body["chunk"] == []
    assert body["end"] == end


def test_long_poll_ignores_rooms_the_caller_is_not_in(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    end = poll(bob, timeout=0)["end"]
    with polling(mock, lambda: poll(bob, **{"from": end, "timeout": 30_000})) as waiting:
        send_text(alice, "secret", "late", BACKSTAGE)
        send_text(alice, "for bob too", "after")  # the sentinel: bob's poll wakes on this one, not the secret
    assert [e["content"]["body"] for e in waiting.result()["chunk"]] == ["for bob too"]


def test_guest_without_room_id_is_400(guest: httpx.Client) -> None:
    r = guest.get(EVENTS, params={"timeout": 0})
    assert_error(r, 400, "M_UNKNOWN")
    assert r.json()["error"] == "Guest users must specify room_id param"


def test_guest_peeks_the_guest_access_room(guest: httpx.Client, alice: httpx.Client) -> None:
    end = poll(guest, room_id=LOBBY, timeout=0)["end"]
    sent = send_text(alice, "hello guest", "t1")
    chunk = poll(guest, **{"room_id": LOBBY, "from": end, "timeout": 0})["chunk"]
    assert [(e["event_id"], e["sender"], e["room_id"]) for e in chunk] == [(sent, ALICE, LOBBY)]


def test_guest_cannot_peek_a_room_without_guest_access(guest: httpx.Client) -> None:
    r = guest.get(EVENTS, params={"room_id": BACKSTAGE, "timeout": 0})
    assert_error(r, 403, "M_FORBIDDEN")


def test_guest_cannot_peek_an_unknown_room(guest: httpx.Client) -> None:
    r = guest.get(EVENTS, params={"room_id": "!nowhere:localhost", "timeout": 0})
    assert_error(r, 403, "M_FORBIDDEN")


def test_guest_long_poll_wakes_on_a_new_message(mock: LiveServer, guest: httpx.Client, alice: httpx.Client) -> None:
    end = poll(guest, room_id=LOBBY, timeout=0)["end"]
    with polling(mock, lambda: poll(guest, **{"room_id": LOBBY, "from": end, "timeout": 30_000})) as waiting:
        send_text(alice, "for the peeker", "late")
    assert [e["content"]["body"] for e in waiting.result()["chunk"]] == ["for the peeker"]


def test_200_concurrent_long_polls_all_wake_on_one_send(mock: LiveServer, alice: httpx.Client) -> None:
    waiters = 200
    end = poll(alice, timeout=0)["end"]

    async def wait_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=waiters + 10, max_keepalive_connections=waiters + 10)
        headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
        async with httpx.AsyncClient(base_url=mock.url, headers=headers, limits=limits, timeout=30) as client:
            polls = [
                asyncio.ensure_future(client.get(EVENTS, params={"from": end, "timeout": 25_000}))
                for _ in range(waiters)
            ]
            await asyncio.to_thread(_wait_for_waiters, mock, waiters)
            await asyncio.to_thread(send_text, alice, "everyone up", "wake")
            # A poll the send did not wake answers empty after its timeout, and fails the assertion below.
            return await asyncio.gather(*polls)

    responses = asyncio.run(wait_all())
    for r in responses:
        assert r.status_code == 200, r.text
        assert [e["content"]["body"] for e in r.json()["chunk"]] == ["everyone up"]


def _wait_for_waiters(mock: LiveServer, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if long_poll_waiters(mock) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"only {long_poll_waiters(mock)} of {count} long polls are waiting")


@pytest.mark.parametrize(
    ("params", "errcode"),
    [({"timeout": "soon"}, "M_INVALID_PARAM"), ({"limit": "many"}, "M_INVALID_PARAM")],
)
def test_bad_query_parameters_are_400(shared_alice: httpx.Client, params: dict[str, str], errcode: str) -> None:
    assert_error(shared_alice.get(EVENTS, params=params), 400, errcode)


@pytest.mark.parametrize(
    ("headers", "errcode"), [({}, "M_MISSING_TOKEN"), ({"Authorization": "Bearer x"}, "M_UNKNOWN_TOKEN")]
)
def test_events_needs_a_known_token(shared: LiveServer, headers: dict[str, str], errcode: str) -> None:
    assert_error(httpx.get(shared.url + EVENTS, params={"timeout": 0}, headers=headers), 401, errcode)
