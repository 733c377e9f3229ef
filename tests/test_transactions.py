"""Idempotent txnIds: concurrent repeats over real HTTP, failures never cached, and `TransactionCache` itself."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import once_per_transaction
from mockmx.app import create_app
from mockmx.homeserver.accounts import Session
from mockmx.scenario.loader import load_scenario
from mockmx.transactions import TransactionCache
from tests.conftest import ALICE_TOKEN, BOB, LOBBY, LiveServer, events_since, stream_end

KEY = ("@alice:localhost", "ALICEDEV", "/_matrix/client/v3/rooms/!r:localhost/send/m.room.message/t1")


def send_path(room_id: str, txn_id: str) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn_id}"


def concurrently(url: str, count: int, method: str, path: str, body: dict[str, Any]) -> list[httpx.Response]:
    """`count` identical requests as alice, all in flight at once, each on its own connection."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
        headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:
            return await asyncio.gather(*(client.request(method, path, json=body) for _ in range(count)))

    return asyncio.run(run())


# -- over the wire ----------------------------------------------------------------------------------------------


def test_50_identical_room_sends_at_once_make_one_event(mock: LiveServer, alice: httpx.Client) -> None:
    since = stream_end(alice)
    responses = concurrently(mock.url, 50, "PUT", send_path(LOBBY, "burst"), {"msgtype": "m.text", "body": "once"})
    for r in responses:
        assert r.status_code == 200, r.text
    assert len({r.json()["event_id"] for r in responses}) == 1
    events = events_since(alice, since)
    assert [e["event_id"] for e in events] == [responses[0].json()["event_id"]]


def test_50_identical_to_device_sends_at_once_deliver_once(mock: LiveServer, bob: httpx.Client) -> None:
    r = bob.get("/_matrix/client/v3/sync")
    assert r.status_code == 200, r.text
    since = r.json()["next_batch"]
    path = "/_matrix/client/v3/sendToDevice/org.example.ping/burst"
    responses = concurrently(mock.url, 50, "PUT", path, {"messages": {BOB: {"BOBPHONE": {"n": 1}}}})
    for r in responses:
        assert r.status_code == 200, r.text
        assert r.content == b"{}"
    r = bob.get("/_matrix/client/v3/sync", params={"since": since, "timeout": 0})
    assert r.status_code == 200, r.text
    assert r.json()["to_device"]["events"] == [
        {"sender": "@alice:localhost", "type": "org.example.ping", "content": {"n": 1}}
    ]


def test_20_identical_redactions_at_once_make_one_redaction(mock: LiveServer, alice: httpx.Client) -> None:
    r = alice.put(send_path(LOBBY, "to-redact"), json={"msgtype": "m.text", "body": "oops"})
    assert r.status_code == 200, r.text
    target = r.json()["event_id"]
    since = stream_end(alice)
    path = f"/_matrix/client/v3/rooms/{quote(LOBBY, safe='')}/redact/{quote(target, safe='')}/burst"
    responses = concurrently(mock.url, 20, "PUT", path, {"reason": "typo"})
    for r in responses:
        assert r.status_code == 200, r.text
    assert len({r.json()["event_id"] for r in responses}) == 1
    events = events_since(alice, since)
    assert [(e["type"], e["event_id"]) for e in events] == [("m.room.redaction", responses[0].json()["event_id"])]


def test_a_refused_send_is_not_cached_and_succeeds_after_joining(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.post("/_matrix/client/v3/createRoom", json={"preset": "public_chat"})
    assert r.status_code == 200, r.text
    room_id = r.json()["room_id"]
    early = bob.put(send_path(room_id, "retry-me"), json={"msgtype": "m.text", "body": "hi"})
    assert early.status_code == 403, early.text
    assert early.json()["errcode"] == "M_FORBIDDEN"
    r = bob.post(f"/_matrix/client/v3/join/{quote(room_id, safe='')}", json={})
    assert r.status_code == 200, r.text
    since = stream_end(alice)
    retried = bob.put(send_path(room_id, "retry-me"), json={"msgtype": "m.text", "body": "hi"})
    assert retried.status_code == 200, retried.text
    assert [e["event_id"] for e in events_since(alice, since)] == [retried.json()["event_id"]]


@pytest.mark.parametrize(
    ("bad_body", "status"),
    [(b"not json", 400), (b"[1]", 400), (b'{"body": "' + b"x" * 70_000 + b'"}', 413)],
)
def test_a_refused_body_is_not_cached(alice: httpx.Client, bad_body: bytes, status: int) -> None:
    first = alice.put(send_path(LOBBY, "fix-me"), content=bad_body)
    assert first.status_code == status, first.text
    fixed = alice.put(send_path(LOBBY, "fix-me"), json={"msgtype": "m.text", "body": "fixed"})
    assert fixed.status_code == 200, fixed.text
    again = alice.put(send_path(LOBBY, "fix-me"), content=bad_body)
    assert again.status_code == 200, again.text
    assert again.json() == fixed.json()


def test_a_repeat_is_answered_only_once_its_body_is_within_the_limit(alice: httpx.Client) -> None:
    # As in Synapse, which refuses a body past its limit before any endpoint runs: a repeat is a request too.
    sent = alice.put(send_path(LOBBY, "big-repeat"), json={"msgtype": "m.text", "body": "first"})
    assert sent.status_code == 200, sent.text
    huge = alice.put(send_path(LOBBY, "big-repeat"), json={"msgtype": "m.text", "body": "x" * (1 << 21)})
    assert huge.status_code == 413, huge.text
    assert huge.json()["errcode"] == "M_TOO_LARGE"
    again = alice.put(send_path(LOBBY, "big-repeat"), json={"msgtype": "m.text", "body": "first"})
    assert again.json() == sent.json()


def test_a_crash_is_never_kept_and_the_retry_s_answer_is() -> None:
    app = create_app(scenario=load_scenario("scenarios/default.yaml"))
    session = Session("@alice:localhost", "ALICEDEV")
    bodies: list[bytes] = []

    def work(body: bytes) -> Response:
        bodies.append(body)
        if len(bodies) == 1:
            raise RuntimeError("bug")
        return JSONResponse({"n": len(bodies)})

    def request() -> Request:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        scope = {"type": "http", "app": app, "method": "PUT", "path": "/t1", "headers": [], "query_string": b""}
        return Request(scope, receive)

    async def run() -> tuple[Response, Response]:
        with pytest.raises(RuntimeError):
            await once_per_transaction(request(), session, work)
        return await once_per_transaction(request(), session, work), await once_per_transaction(
            request(), session, work
        )

    retried, repeated = asyncio.run(run())
    assert bytes(retried.body) == bytes(repeated.body) == b'{"n":2}'
    assert bodies == [b"{}", b"{}"]


# -- TransactionCache in process --------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_replays_the_first_answer_byte_for_byte() -> None:
    cache = TransactionCache()
    assert cache.answered(KEY) is None
    first = JSONResponse({"event_id": "$first"}, status_code=200)
    cache.remember(KEY, first)
    again = cache.answered(KEY)
    assert again is not None
    assert (again.status_code, bytes(again.body)) == (first.status_code, bytes(first.body))
    assert again.headers["content-type"] == "application/json"
    assert len(cache) == 1


def test_cache_keys_are_separate() -> None:
    cache = TransactionCache()
    cache.remember(KEY, JSONResponse({"n": 1}))
    for other in [(KEY[0], "OTHERDEV", KEY[2]), ("@bob:localhost", KEY[1], KEY[2]), (KEY[0], KEY[1], "/other")]:
        assert cache.answered(other) is None
    assert cache.answered(KEY) is not None


def test_cache_replays_within_its_ttl_and_forgets_after() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    cache.remember(KEY, JSONResponse({"n": 1}))
    clock.now += 59
    again = cache.answered(KEY)
    assert again is not None
    assert bytes(again.body) == b'{"n":1}'
    clock.now += 2
    assert cache.answered(KEY) is None
    assert len(cache) == 0  # the expired answer is let go as it is found


def test_cache_drops_expired_answers_when_it_stores_new_ones() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    sizes = []
    for n in range(3):
        cache.remember(("@alice:localhost", "ALICEDEV", f"/t{n}"), JSONResponse({}))
        clock.now += 25
        sizes.append(len(cache))
    clock.now += 60
    cache.remember(("@alice:localhost", "ALICEDEV", "/later"), JSONResponse({}))
    sizes.append(len(cache))
    assert sizes == [1, 2, 3, 1]


def test_cache_keeps_within_max_entries_the_newest() -> None:
    cache = TransactionCache(max_entries=2)
    for n in range(3):
        cache.remember(("@alice:localhost", "ALICEDEV", f"/t{n}"), JSONResponse({"n": n}))
    assert len(cache) == 2
    assert cache.dropped == 1
    assert cache.answered(("@alice:localhost", "ALICEDEV", "/t0")) is None
    assert cache.answered(("@alice:localhost", "ALICEDEV", "/t2")) is not None
