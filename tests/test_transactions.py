"""Idempotent txnIds: concurrent repeats over real HTTP, failures never cached, and `TransactionCache` itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.responses import JSONResponse, Response

from mockmx.errors import Codes, MatrixError
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


# -- TransactionCache in process --------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(answers: list[Response | Exception]) -> tuple[Callable[[], Awaitable[Response]], list[int]]:
    """A handler giving `answers` in turn (raising the exceptions), and a one-item list counting its calls."""
    calls = [0]

    async def handler() -> Response:
        answer = answers[min(calls[0], len(answers) - 1)]
        calls[0] += 1
        await asyncio.sleep(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, calls


def test_cache_replays_the_first_answer_byte_for_byte() -> None:
    cache = TransactionCache()
    handler, calls = counting([JSONResponse({"event_id": "$first"}), JSONResponse({"event_id": "$second"})])

    async def run() -> tuple[Response, Response]:
        return await cache.run(KEY, handler), await cache.run(KEY, handler)

    first, second = asyncio.run(run())
    assert calls == [1]
    assert (second.status_code, bytes(second.body)) == (first.status_code, bytes(first.body))
    assert second.headers["content-type"] == "application/json"
    assert len(cache) == 1


def test_cache_keys_are_separate() -> None:
    cache = TransactionCache()
    handler, calls = counting([JSONResponse({"n": 1}), JSONResponse({"n": 2})])

    async def run() -> list[bytes]:
        keys = [KEY, (KEY[0], "OTHERDEV", KEY[2]), ("@bob:localhost", KEY[1], KEY[2])]
        return [bytes((await cache.run(key, handler)).body) for key in keys]

    assert asyncio.run(run()) == [b'{"n":1}', b'{"n":2}', b'{"n":2}']
    assert calls == [3]


def test_cache_never_keeps_a_matrix_error() -> None:
    cache = TransactionCache()
    handler, calls = counting([MatrixError(403, "not in room", Codes.FORBIDDEN), JSONResponse({"ok": True})])

    async def run() -> Response:
        with pytest.raises(MatrixError) as raised:
            await cache.run(KEY, handler)
        assert raised.value.status == 403
        return await cache.run(KEY, handler)

    assert bytes(asyncio.run(run()).body) == b'{"ok":true}'
    assert calls == [2]


def test_cache_never_keeps_a_crash() -> None:
    cache = TransactionCache()
    handler, calls = counting([RuntimeError("bug"), JSONResponse({"ok": True})])

    async def run() -> Response:
        with pytest.raises(RuntimeError):
            await cache.run(KEY, handler)
        return await cache.run(KEY, handler)

    assert asyncio.run(run()).status_code == 200
    assert calls == [2]


def test_concurrent_repeats_wait_for_the_first_answer() -> None:
    cache = TransactionCache()
    calls = [0]

    async def run() -> list[bytes]:
        gate = asyncio.Event()

        async def slow() -> Response:
            calls[0] += 1
            await gate.wait()
            return JSONResponse({"event_id": f"$call{calls[0]}"})

        tasks = [asyncio.create_task(cache.run(KEY, slow)) for _ in range(10)]
        await asyncio.sleep(0.01)
        gate.set()
        return [bytes(r.body) for r in await asyncio.gather(*tasks)]

    assert asyncio.run(run()) == [b'{"event_id":"$call1"}'] * 10
    assert calls == [1]


def test_concurrent_repeats_share_a_failure_and_it_is_not_kept() -> None:
    cache = TransactionCache()
    calls = [0]

    async def run() -> tuple[list[BaseException | Response], Response]:
        gate = asyncio.Event()

        async def failing_once() -> Response:
            calls[0] += 1
            if calls[0] == 1:
                await gate.wait()
                raise MatrixError(403, "not in room", Codes.FORBIDDEN)
            return JSONResponse({"ok": True})

        tasks = [asyncio.create_task(cache.run(KEY, failing_once)) for _ in range(5)]
        await asyncio.sleep(0.01)
        gate.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        return outcomes, await cache.run(KEY, failing_once)

    outcomes, retried = asyncio.run(run())
    assert all(isinstance(o, MatrixError) and o.errcode == "M_FORBIDDEN" for o in outcomes), outcomes
    assert retried.status_code == 200
    assert calls == [2]


def test_concurrent_repeats_of_a_crash_get_a_500() -> None:
    cache = TransactionCache()

    async def run() -> list[BaseException | Response]:
        gate = asyncio.Event()

        async def crash() -> Response:
            await gate.wait()
            raise RuntimeError("bug")

        tasks = [asyncio.create_task(cache.run(KEY, crash)) for _ in range(3)]
        await asyncio.sleep(0.01)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    first, *rest = asyncio.run(run())
    assert isinstance(first, RuntimeError)
    assert all(isinstance(o, MatrixError) and o.status == 500 for o in rest), rest


def test_cache_replays_within_its_ttl() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    handler, calls = counting([JSONResponse({"n": 1}), JSONResponse({"n": 2})])

    async def run() -> bytes:
        await cache.run(KEY, handler)
        clock.now += 59
        return bytes((await cache.run(KEY, handler)).body)

    assert asyncio.run(run()) == b'{"n":1}'
    assert calls == [1]


def test_cache_forgets_an_answer_after_its_ttl() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    handler, calls = counting([JSONResponse({"n": 1}), JSONResponse({"n": 2})])

    async def run() -> bytes:
        await cache.run(KEY, handler)
        clock.now += 61
        return bytes((await cache.run(KEY, handler)).body)

    assert asyncio.run(run()) == b'{"n":2}'
    assert calls == [2]


def test_cache_drops_expired_answers_when_it_stores_new_ones() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    handler, _ = counting([JSONResponse({})])

    async def run() -> list[int]:
        sizes = []
        for n in range(3):
            await cache.run(("@alice:localhost", "ALICEDEV", f"/t{n}"), handler)
            clock.now += 25
            sizes.append(len(cache))
        clock.now += 60
        await cache.run(("@alice:localhost", "ALICEDEV", "/later"), handler)
        sizes.append(len(cache))
        return sizes

    assert asyncio.run(run()) == [1, 2, 3, 1]


def test_answered_gives_what_remember_kept_until_its_ttl() -> None:
    clock = FakeClock()
    cache = TransactionCache(ttl=60, clock=clock)
    assert cache.answered(KEY) is None
    cache.remember(KEY, JSONResponse({"event_id": "$first"}))
    clock.now += 59
    again = cache.answered(KEY)
    assert again is not None
    assert (again.status_code, bytes(again.body)) == (200, b'{"event_id":"$first"}')
    clock.now += 2
    assert cache.answered(KEY) is None
    assert len(cache) == 0  # the expired answer is let go as it is found


def test_remember_keeps_within_max_entries() -> None:
    cache = TransactionCache(max_entries=2)
    for n in range(3):
        cache.remember(("@alice:localhost", "ALICEDEV", f"/t{n}"), JSONResponse({"n": n}))
    assert len(cache) == 2
    assert cache.dropped == 1
    assert cache.answered(("@alice:localhost", "ALICEDEV", "/t0")) is None
    assert cache.answered(("@alice:localhost", "ALICEDEV", "/t2")) is not None
