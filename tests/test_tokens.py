"""Stream tokens from the future over the wire: what Synapse does with one (`bound_future_token`), the mock does.

A client can hold a token the mock never gave out at its current position: a mock restarted under a long-running
client, or a token made by hand. /sync and /events treat its positions past the present as the present, so the
events and to-device messages that come next reach the client; /messages reads it as Synapse does, as a position.
"""

from __future__ import annotations

from typing import Any

import httpx

from mockmx.homeserver.tokens import StreamToken
from tests.conftest import BOB, LOBBY, LiveServer, polling, send_text

V3 = "/_matrix/client/v3"
FAR = 10**15  # a position no stream of the test reaches


def get(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"{V3}{path}", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def now(mock: LiveServer) -> StreamToken:
    return mock.homeserver.current_token()


def bodies(events: list[dict[str, Any]]) -> list[str]:
    return [event["content"]["body"] for event in events if event["type"] == "m.room.message"]


def test_bounded_by_clamps_each_position_on_its_own() -> None:
    current = StreamToken(10, 3)
    assert StreamToken(FAR, 1).bounded_by(current) == StreamToken(10, 1)
    assert StreamToken(4, FAR).bounded_by(current) == StreamToken(4, 3)
    assert StreamToken(4, 1).bounded_by(current) == StreamToken(4, 1)


def test_sync_from_the_future_answers_at_the_present(mock: LiveServer, bob: httpx.Client) -> None:
    future = StreamToken(FAR, FAR)
    body = get(bob, "/sync", since=str(future), timeout=0)
    assert body["next_batch"] == str(now(mock)), body
    assert body["rooms"]["join"] == {}, body


def test_sync_from_the_future_wakes_on_the_next_message(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    future = StreamToken(FAR, now(mock).to_device_pos)
    # Read as given, the token would wait for position FAR: this poll would run out its timeout empty.
    with polling(mock, lambda: get(bob, "/sync", since=str(future), timeout=30_000)) as waiting:
        send_text(alice, "still there?", "after-restart")
    body = waiting.result()
    assert bodies(body["rooms"]["join"][LOBBY]["timeline"]["events"]) == ["still there?"], body


def test_sync_from_the_future_keeps_to_device_messages_sent_during_its_poll(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    future = StreamToken(now(mock).room_pos, FAR)
    message = {"messages": {BOB: {"BOBPHONE": {"n": 1}}}}
    # Read as given, the token would acknowledge every message up to FAR, this one too, before bob saw it.
    with polling(mock, lambda: get(bob, "/sync", since=str(future), timeout=30_000)) as waiting:
        r = alice.put(f"{V3}/sendToDevice/org.example.ping/ping-1", json=message)
        assert r.status_code == 200, r.text
    body = waiting.result()
    assert [event["content"] for event in body["to_device"]["events"]] == [{"n": 1}], body
    again = get(bob, "/sync", since=body["next_batch"], timeout=0)
    assert again["to_device"]["events"] == [], again  # and acknowledged by the next sync, as any other


def test_events_from_the_future_ends_at_the_present(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    body = get(alice, "/events", **{"from": str(StreamToken(FAR, 0)), "timeout": 0})
    assert body["chunk"] == [], body
    assert body["end"] == str(StreamToken(now(mock).room_pos, 0)), body  # Synapse's end: its current position
    send_text(bob, "next", "next-1")
    after = get(alice, "/events", **{"from": body["end"], "timeout": 0})
    assert bodies(after["chunk"]) == ["next"], after


def test_events_from_the_future_wakes_on_the_next_message(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    with polling(mock, lambda: get(alice, "/events", **{"from": str(StreamToken(FAR, 0)), "timeout": 30_000})) as w:
        send_text(bob, "wake up", "late")
    assert bodies(w.result()["chunk"]) == ["wake up"]


def test_messages_backwards_from_the_future_is_the_newest_history(alice: httpx.Client) -> None:
    send_text(alice, "newest", "n-1")
    future = str(StreamToken(FAR, 0))
    body = get(alice, f"/rooms/{LOBBY}/messages", **{"dir": "b", "from": future, "limit": 1})
    # As Synapse: a position like any other, after every event there is, and `start` is the token given.
    assert bodies(body["chunk"]) == ["newest"], body
    assert body["start"] == future, body
    forwards = get(alice, f"/rooms/{LOBBY}/messages", **{"dir": "f", "from": future})
    assert forwards["chunk"] == [] and "end" not in forwards, forwards
