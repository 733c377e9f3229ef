"""The legacy event stream `GET /events` over the wire: its shape, long polls, guests peeking, many waiters."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, ALICE_TOKEN, BACKSTAGE, LOBBY, LiveServer, assert_error, send_text

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


def later(delay: float, action: Any, *args: Any) -> threading.Timer:
    """Run `action(*args)` from another thread after `delay` seconds; join the returned timer when done."""
    timer = threading.Timer(delay, action, args)
    timer.start()
    return timer


@pytest.mark.parametrize("prefix", ["api/v1", "r0", "v3"])
def test_events_with_timeout_0_answers_chunk_start_end(alice: httpx.Client, prefix: str) -> None:
    started = time.monotonic()
    body = poll(alice, f"/_matrix/client/{prefix}/events", timeout=0)
    assert time.monotonic() - started < 1
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


def test_long_poll_returns_when_a_message_arrives(alice: httpx.Client, bob: httpx.Client) -> None:
    end = poll(alice, timeout=0)["end"]
    timer = later(1.0, send_text, bob, "wake up", "late")
    started = time.monotonic()
    try:
        body = poll(alice, **{"from": end, "timeout": 5000})
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert 0.8 < elapsed < 3.0
    assert [(e["sender"], e["content"]["body"]) for e in body["chunk"]] == [("@bob:localhost", "wake up")]


def test_long_poll_with_nothing_sent_returns_empty_at_its_timeout(alice: httpx.Client) -> None:
    end = poll(alice, timeout=0)["end"]
    started = time.monotonic()
    body = poll(alice, **{"from": end, "timeout": 500})
    elapsed = time.monotonic() - started
    assert 0.45 < elapsed < 2.5
    assert body["chunk"] == []
    assert body["end"] == end


def test_long_poll_ignores_rooms_the_caller_is_not_in(alice: httpx.Client, bob: httpx.Client) -> None:
    end = poll(bob, timeout=0)["end"]
    timer = later(0.2, send_text, alice, "secret", "late", BACKSTAGE)
    started = time.monotonic()
    try:
        body = poll(bob, **{"from": end, "timeout": 800})
    finally:
        timer.join()
    assert time.monotonic() - started > 0.7
    assert body["chunk"] == []


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


def test_guest_long_poll_wakes_on_a_new_message(guest: httpx.Client, alice: httpx.Client) -> None:
    end = poll(guest, room_id=LOBBY, timeout=0)["end"]
    timer = later(0.5, send_text, alice, "for the peeker", "late")
    started = time.monotonic()
    try:
        body = poll(guest, **{"room_id": LOBBY, "from": end, "timeout": 5000})
    finally:
        timer.join()
    assert time.monotonic() - started < 3.0
    assert [e["content"]["body"] for e in body["chunk"]] == ["for the peeker"]


def test_200_concurrent_long_polls_all_wake_on_one_send(mock: LiveServer, alice: httpx.Client) -> None:
    waiters = 200
    end = poll(alice, timeout=0)["end"]

    async def wait_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=waiters + 10, max_keepalive_connections=waiters + 10)
        headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
        async with httpx.AsyncClient(base_url=mock.url, headers=headers, limits=limits, timeout=30) as client:
            polls = [
                asyncio.ensure_future(client.get(EVENTS, params={"from": end, "timeout": 10_000}))
                for _ in range(waiters)
            ]
            await asyncio.to_thread(_wait_for_waiters, mock, waiters)
            started = time.monotonic()
            await asyncio.to_thread(send_text, alice, "everyone up", "wake")
            responses = await asyncio.gather(*polls)
            assert time.monotonic() - started < 5.0
            return responses

    responses = asyncio.run(wait_all())
    for r in responses:
        assert r.status_code == 200, r.text
        assert [e["content"]["body"] for e in r.json()["chunk"]] == ["everyone up"]


def _wait_for_waiters(mock: LiveServer, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if mock.homeserver.notifier.waiting() >= count:
                return
        except RuntimeError:  # the server's thread changed the waiters while we counted: look again
            pass
        time.sleep(0.01)
    raise AssertionError(f"only {mock.homeserver.notifier.waiting()} of {count} long polls are waiting")


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
