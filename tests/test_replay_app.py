"""The replay app in-process (httpx's ASGI transport): matching through bindings, recorded order, misses and their
near-miss reports, unmatched-request policies, strict mode, long polls that wait for what woke them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from mockmx.record import Recording, load_recording, load_recording_text
from mockmx.replay import ReplayError, ReplayHost, ReplayState, UnmatchedPolicy, create_replay_app
from mockmx.testing.threaded import QuickMockServer, config_for, serving
from tests.conftest import LiveServer, assert_error

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "recordings" / "synapse-session.yaml"
CS = "/_matrix/client/v3"
ROOM = "!pjrRv3urtlTBl9LoTgDVOOtVwzFepNTn6Y5otOUFdPU"
SENT_EVENT = "$0_SxF35zPZtzaons7Q96dm-euNa9l2upcqXYwwO1mWw"
ALICE_LOGIN = {
    "type": "m.login.password",
    "identifier": {"type": "m.id.user", "user": "@recalice:localhost"},
    "initial_device_display_name": "recalice (nio)",
}
BOB_LOGIN = {
    "type": "m.login.password",
    "identifier": {"type": "m.id.user", "user": "@recbob:localhost"},
    "initial_device_display_name": "recbob (nio)",
}


@dataclass
class LiveReplay:
    """A replay app listening on a real socket."""

    url: str
    app: Starlette

    @property
    def state(self) -> ReplayState:
        state: ReplayState = ReplayHost.of(self.app).state
        return state


@contextlib.contextmanager
def serve_replay(recording: Recording, **options: Any) -> Iterator[LiveReplay]:
    """`create_replay_app(recording, **options)` served on a free port, as the pytest plugin serves a replay."""
    app = create_replay_app(recording, **options)
    with serving(QuickMockServer(config_for(app)), name="mockmx-test-replay") as url:
        yield LiveReplay(url, app)


def flows_yaml(*flows: dict[str, Any]) -> Recording:
    """A recording of `flows` (ids, legs and times filled in), loaded as a file would be."""
    header = {
        "mockmx_recording": 1,
        "started_at": "2025-06-01T09:30:00.000Z",
        "upstreams": {"client": "http://127.0.0.1:8008"},
    }
    entries = []
    for number, flow in enumerate(flows, start=1):
        entry = {"id": number, "leg": "client", "at": float(number), "took": 0.01, **flow}
        entry["request"] = {"headers": {}, **entry["request"]}
        if "response" in entry:
            entry["response"] = {"headers": {"content-type": "application/json"}, **entry["response"]}
        entries.append(entry)
    return load_recording_text(yaml.safe_dump({**header, "flows": entries}, sort_keys=False), "<test>")


def run(app: Starlette, steps: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    """Run `steps` with an HTTP client talking to `app` in-process."""

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replay", timeout=10) as client:
            return await steps(client)

    return asyncio.run(main())


def example() -> Recording:
    return load_recording(EXAMPLE)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, body: dict[str, Any], password: str = "any-Pa55") -> str:
    r = await client.post(f"{CS}/login", json={**body, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_a_login_with_any_password_gets_the_recorded_answer_and_a_stand_in_token_that_maps_back() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        r = await client.post(f"{CS}/login", json={**BOB_LOGIN, "password": "whatever-it-is-now"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["user_id"] == "@recbob:localhost" and body["device_id"] == "PDMVDCQYQD"
        assert not body["access_token"].startswith("<"), "a placeholder is no token to hand a client"
        pusher: dict[str, Any] = {"kind": "http", "app_id": "org.example.rec", "pushkey": "PUSHKEY_REC_BOB"}
        pusher |= {"app_display_name": "Rec", "device_display_name": "BobPhone", "lang": "en"}
        # The pusher's URL is this run's gateway, not the recording's: it does not take part in matching.
        pusher["data"] = {"url": "http://127.0.0.1:1/_matrix/push/v1/notify"}
        return await client.post(f"{CS}/pushers/set", json=pusher, headers=bearer(body["access_token"]))

    pusher_answer = run(app, steps)
    assert pusher_answer.status_code == 200, pusher_answer.text
    assert ReplayHost.of(app).state.answered == [2, 3]
    assert ReplayHost.of(app).state.misses == []


def test_fresh_transaction_ids_get_the_recorded_event_id_and_a_retry_gets_the_same_answer() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, ALICE_LOGIN)
        path = f"{CS}/rooms/{ROOM}/send/m.room.message/my-own-txn-1"
        message = {"body": "recorded", "msgtype": "m.text"}  # keys in another order: JSON compares as data
        return [
            await client.put(path, json=message, headers=bearer(token)),
            await client.put(path, json=message, headers=bearer(token)),
            await client.put(path.replace("txn-1", "txn-2"), json=message, headers=bearer(token)),
        ]

    first, retry, another = run(app, steps)
    assert first.status_code == 200, first.text
    assert first.json() == {"event_id": SENT_EVENT}
    assert retry.status_code == 200 and retry.json() == {"event_id": SENT_EVENT}, retry.text
    # A new transaction is a second message, and the recording has one only.
    body = assert_error(another, 404, "M_UNRECOGNIZED")
    assert "already" in body["error"], body
    assert [miss.request for miss in ReplayHost.of(app).state.misses] == [
        f"PUT {CS}/rooms/{ROOM}/send/m.room.message/my-own-txn-2"
    ]


def test_r0_and_v3_are_the_same_endpoints_and_timeout_does_not_take_part() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        token = await login(client, BOB_LOGIN)
        return await client.get(
            "/_matrix/client/r0/sync", params={"full_state": "true", "timeout": 0}, headers=bearer(token)
        )

    r = run(app, steps)
    assert r.status_code == 200, r.text
    assert r.json()["next_batch"] == "s10_2_0_1_1_1_1_5_0_1_1_1_1_1"


def test_a_client_that_never_logged_in_has_its_own_token_bound_to_the_recorded_session() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        first = await client.get(f"{CS}/sync", params={"full_state": "true"}, headers=bearer("bob-configured-token"))
        since = first.json()["next_batch"]
        # alice's session is bound to no token yet, but bob's is: bob's token cannot be alice's too.
        message = {"msgtype": "m.text", "body": "recorded"}
        send = f"{CS}/rooms/{ROOM}/send/m.room.message/t1"
        as_bob = await client.put(send, json=message, headers=bearer("bob-configured-token"))
        as_alice = await client.put(send, json=message, headers=bearer("alice-configured-token"))
        again = await client.get(f"{CS}/sync", params={"since": since}, headers=bearer("bob-configured-token"))
        return [first, as_bob, as_alice, again]

    first, as_bob, as_alice, again = run(app, steps)
    assert first.status_code == 200, first.text
    body = assert_error(as_bob, 404, "M_UNRECOGNIZED")
    assert "access token: recorded <token:1>, got <token:2>" in body["error"], body
    assert as_alice.status_code == 200 and as_alice.json() == {"event_id": SENT_EVENT}, as_alice.text
    assert again.status_code == 200, again.text
    assert again.json()["next_batch"] == "s11_3_0_1_1_1_1_5_0_1_1_1_1_1"


def test_identical_requests_are_answered_in_recorded_order() -> None:
    whoami = {"method": "GET", "path": f"{CS}/joined_rooms", "headers": {"authorization": "Bearer <token:1>"}}
    recording = flows_yaml(
        {"request": whoami, "response": {"status": 200, "body": {"joined_rooms": []}}},
        {"request": whoami, "response": {"status": 200, "body": {"joined_rooms": ["!a:hs"]}}},
        {"request": whoami, "response": {"status": 429, "body": {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 5}}},
    )
    app = create_replay_app(recording)

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.get(f"{CS}/joined_rooms", headers=bearer("mine")) for _ in range(4)]

    answers = run(app, steps)
    assert [(r.status_code, r.json()) for r in answers[:3]] == [
        (200, {"joined_rooms": []}),
        (200, {"joined_rooms": ["!a:hs"]}),
        (429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 5}),
    ]
    body = assert_error(answers[3], 404, "M_UNRECOGNIZED")
    assert "this replay answered it already" in body["error"], body


def test_a_sync_answer_names_the_clients_own_transaction_id() -> None:
    auth = {"authorization": "Bearer <token:1>"}
    event = {
        "type": "m.room.message",
        "event_id": "$e1",
        "content": {"body": "hi"},
        "unsigned": {"transaction_id": "m1.1"},
    }
    recording = flows_yaml(
        {
            "request": {
                "method": "PUT",
                "path": f"{CS}/rooms/!r:hs/send/m.room.message/m1.1",
                "headers": auth,
                "body": {"body": "hi"},
            },
            "response": {"status": 200, "body": {"event_id": "$e1"}},
        },
        {
            "request": {"method": "GET", "path": f"{CS}/sync", "headers": auth},
            "response": {
                "status": 200,
                "body": {"next_batch": "s2", "rooms": {"join": {"!r:hs": {"timeline": {"events": [event]}}}}},
            },
        },
    )
    app = create_replay_app(recording)

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        r = await client.put(f"{CS}/rooms/!r:hs/send/m.room.message/4f1c", json={"body": "hi"}, headers=bearer("t"))
        assert r.status_code == 200, r.text
        return await client.get(f"{CS}/sync", headers=bearer("t"))

    r = run(app, steps)
    assert r.status_code == 200, r.text
    [seen] = r.json()["rooms"]["join"]["!r:hs"]["timeline"]["events"]
    assert seen["event_id"] == "$e1" and seen["unsigned"]["transaction_id"] == "4f1c"


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "expected"),
    [
        (
            "PUT",
            f"{CS}/rooms/{ROOM}/send/m.room.message/t9",
            {},
            {"msgtype": "m.text", "body": "other"},
            "body field body: recorded 'recorded', got 'other'",
        ),
        (
            "PUT",
            f"{CS}/rooms/{ROOM}/send/m.room.message/t9",
            {},
            {"msgtype": "m.text", "body": "recorded", "x": 1},
            "body field x: recorded nothing, got 1",
        ),
        (
            "PUT",
            f"{CS}/rooms/!other:hs/send/m.room.message/t9",
            {},
            {"msgtype": "m.text", "body": "recorded"},
            f"path parameter roomId: recorded '{ROOM}', got '!other:hs'",
        ),
        (
            "PUT",
            f"{CS}/rooms/{ROOM}/send/m.room.notice/t9",
            {},
            {"msgtype": "m.text", "body": "recorded"},
            "path parameter eventType: recorded 'm.room.message', got 'm.room.notice'",
        ),
        (
            "GET",
            f"{CS}/sync",
            {"full_state": "false"},
            None,
            "query parameter full_state: recorded 'true', got 'false'",
        ),
        ("GET", f"{CS}/createRoom", {}, None, "method: recorded 'POST', got 'GET'"),
        ("GET", f"{CS}/sinc", {"full_state": "true"}, None, f"route: recorded '{CS}/sync', got '{CS}/sinc'"),
    ],
)
def test_a_miss_names_the_closest_recorded_request_and_what_differs(
    method: str, path: str, params: dict[str, str], body: Any, expected: str
) -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        alice, bob = await login(client, ALICE_LOGIN), await login(client, BOB_LOGIN)
        token = bob if "sync" in path or "sinc" in path else alice
        return await client.request(method, path, params=params, json=body, headers=bearer(token))

    r = run(app, steps)
    error = assert_error(r, 404, "M_UNRECOGNIZED")
    assert expected in error["error"], error
    closest = error["mockmx_near_misses"][0]
    assert expected in [difference["message"] for difference in closest["differences"]], closest
    [miss] = ReplayHost.of(app).state.misses
    assert expected in str(miss.near[0])


def test_a_miss_with_policy_error_is_a_500_and_strict_mode_makes_check_raise() -> None:
    app = create_replay_app(example(), unmatched="error", strict=True)
    r = run(app, lambda client: client.get(f"{CS}/account/whoami", headers=bearer("x")))
    error = assert_error(r, 500, "M_UNKNOWN")
    assert "no recorded request matches GET /_matrix/client/v3/account/whoami" in error["error"]
    state: ReplayState = ReplayHost.of(app).state
    assert state.strict and len(state.misses) == 1
    with pytest.raises(ReplayError, match="account/whoami matched no recorded request"):
        state.check()


def test_nothing_missed_means_check_passes_and_the_status_endpoint_says_what_was_played() -> None:
    app = create_replay_app(example(), strict=True)

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, ALICE_LOGIN)
        return await client.get("/_mockmx/replay")

    r = run(app, steps)
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["answered"] == [1] and status["misses"] == [] and status["unplayed"][0] == 2
    ReplayHost.of(app).state.check()


def test_the_policy_is_validated_early_and_names_the_valid_values() -> None:
    with pytest.raises(ValueError, match="expected one of '404', 'error', 'passthrough'"):
        create_replay_app(example(), unmatched="ignore")
    with pytest.raises(ValueError, match="needs an upstream"):
        create_replay_app(example(), unmatched=UnmatchedPolicy.PASSTHROUGH)
    with pytest.raises(ValueError, match="push_to must be an http"):
        create_replay_app(example(), push_to="localhost:8008")


def test_passthrough_forwards_a_miss_to_the_upstream_and_still_reports_it(mock: LiveServer) -> None:
    with serve_replay(example(), unmatched="passthrough", upstream=mock.url) as replay:
        r = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("alice-token"))
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == "@alice:localhost"
    [miss] = replay.state.misses
    assert miss.answer == "passthrough: 200"


def test_a_long_poll_waits_until_the_send_whose_event_it_carries_is_replayed() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> tuple[bool, httpx.Response]:
        alice, bob = await login(client, ALICE_LOGIN), await login(client, BOB_LOGIN)
        first = await client.get(f"{CS}/sync", params={"full_state": "true"}, headers=bearer(bob))
        since = first.json()["next_batch"]
        poll = asyncio.create_task(
            client.get(f"{CS}/sync", params={"since": since, "timeout": 10000}, headers=bearer(bob))
        )
        await asyncio.sleep(0.3)
        waited = not poll.done()
        message = {"msgtype": "m.text", "body": "recorded"}
        sent = await client.put(f"{CS}/rooms/{ROOM}/send/m.room.message/x", json=message, headers=bearer(alice))
        assert sent.status_code == 200, sent.text
        return waited, await asyncio.wait_for(poll, 5)

    waited, poll = run(app, steps)
    assert waited, "the sync answered with the message before anyone sent it"
    assert poll.status_code == 200, poll.text
    [event] = poll.json()["rooms"]["join"][ROOM]["timeline"]["events"]
    assert event["event_id"] == SENT_EVENT


def test_a_long_poll_gives_up_waiting_at_its_timeout_and_answers_as_recorded() -> None:
    app = create_replay_app(example())

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        bob = await login(client, BOB_LOGIN)
        first = await client.get(f"{CS}/sync", params={"full_state": "true"}, headers=bearer(bob))
        since = first.json()["next_batch"]
        return await client.get(f"{CS}/sync", params={"since": since, "timeout": 200}, headers=bearer(bob))

    started = time.monotonic()
    r = run(app, steps)
    assert r.status_code == 200, r.text
    assert time.monotonic() - started > 0.15  # it waited (a lower bound: a wait never ends early)
    assert r.json()["next_batch"] == "s11_3_0_1_1_1_1_5_0_1_1_1_1_1"


def test_a_recorded_request_that_got_no_answer_is_a_502() -> None:
    recording = flows_yaml(
        {"request": {"method": "GET", "path": f"{CS}/joined_rooms"}, "error": "Connection refused"},
    )
    r = run(create_replay_app(recording), lambda client: client.get(f"{CS}/joined_rooms"))
    error = assert_error(r, 502, "M_UNKNOWN")
    assert "Connection refused" in error["error"]
