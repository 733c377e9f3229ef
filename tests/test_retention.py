"""Memory has a bound a user can see: over real sockets, a room past `limits.max_room_events` still answers
/messages, /sync, /context and /event for what it keeps and a clean 404 for what fell out, and every bounded store
counts what it let go in `GET /_mockmx/limits`."""

from __future__ import annotations

import json
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import mockmx.scenario.loader
from mockmx.limits import Limits
from mockmx.limits_cli import limits_from
from mockmx.problems import ScenarioError
from mockmx.push.deliveries import Deliveries
from mockmx.scenario.loader import load_scenario_text
from tests.conftest import ALICE_TOKEN, BOB_PHONE_TOKEN, LiveServer

DEFAULT_YAML = (Path(mockmx.scenario.loader.__file__).parent / "default.yaml").read_text()
LOBBY = "!lobby:localhost"
ROOM = f"/_matrix/client/v3/rooms/{quote(LOBBY)}"
KEPT = 20  # below 64, so the room lets go one event at a time: it keeps exactly this many


def _with_limits(limits: str) -> str:
    return DEFAULT_YAML + f"\nlimits: {limits}\n"


@pytest.fixture
def small(serve_yaml: Callable[[str], LiveServer]) -> LiveServer:
    return serve_yaml(_with_limits(f"{{max_room_events: {KEPT}}}"))


def _send(client: httpx.Client, count: int, prefix: str = "m") -> list[str]:
    ids = []
    for n in range(count):
        r = client.put(f"{ROOM}/send/m.room.message/{prefix}{n}", json={"msgtype": "m.text", "body": f"{prefix}{n}"})
        assert r.status_code == 200, r.text
        ids.append(r.json()["event_id"])
    return ids


def _memory(live: LiveServer) -> dict[str, Any]:
    r = httpx.get(live.url + "/_mockmx/limits", timeout=10)
    assert r.status_code == 200, r.text
    memory: dict[str, Any] = r.json()["memory"]
    return memory


def _all_messages(client: httpx.Client, page: int) -> tuple[list[dict[str, Any]], int]:
    """Every event /messages gives paging backwards `page` at a time until `end` is left out; and how many pages."""
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"dir": "b", "limit": page}
    pages = 0
    while True:
        r = client.get(f"{ROOM}/messages", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        events += body["chunk"]
        pages += 1
        if "end" not in body:
            return events, pages
        assert pages < 100, body
        params["from"] = body["end"]


def test_a_room_past_its_limit_pages_back_to_the_oldest_kept_event_and_ends_there(small: LiveServer) -> None:
    with small.client(ALICE_TOKEN) as alice, small.client(BOB_PHONE_TOKEN) as bob:
        before, _ = _all_messages(alice, 100)
        sent = _send(alice, 2 * KEPT)
        events, pages = _all_messages(bob, 7)
    assert [event["event_id"] for event in events] == sent[::-1][:KEPT]
    assert pages == 3  # 7 + 7 + 6, and the last page says there is nothing more
    room_events = _memory(small)["room_events"]
    assert room_events["limit"] == KEPT and room_events["per"] == "room", room_events
    assert room_events["dropped"] == len(before) + len(sent) - KEPT, room_events


def test_an_event_that_fell_out_is_a_clean_404_and_a_kept_one_answers(small: LiveServer) -> None:
    with small.client(ALICE_TOKEN) as alice, small.client(BOB_PHONE_TOKEN) as bob:
        sent = _send(alice, 2 * KEPT)
        gone, oldest_kept, newest = sent[0], sent[KEPT], sent[-1]
        for path in (f"{ROOM}/event/{gone}", f"{ROOM}/context/{gone}"):
            r = bob.get(path)
            assert r.status_code == 404, r.text
            assert r.json()["errcode"] == "M_NOT_FOUND", r.text
        r = bob.get(f"{ROOM}/event/{newest}")
        assert r.status_code == 200, r.text
        assert r.json()["content"]["body"] == f"m{2 * KEPT - 1}"

        r = bob.get(f"{ROOM}/context/{oldest_kept}", params={"limit": 4})
        assert r.status_code == 200, r.text
        context = r.json()
        assert context["events_before"] == [], context
        assert [event["event_id"] for event in context["events_after"]] == sent[KEPT + 1 : KEPT + 3]
        state_types = {event["type"] for event in context["state"]}
        assert {"m.room.create", "m.room.name", "m.room.member"} <= state_types, state_types
        # Backwards from the start of the context: the end of history, not an error.
        r = bob.get(f"{ROOM}/messages", params={"dir": "b", "from": context["start"], "limit": 10})
        assert r.status_code == 200, r.text
        assert r.json()["chunk"] == [] and "end" not in r.json(), r.text


def test_the_state_stays_when_the_events_that_set_it_fall_out(small: LiveServer) -> None:
    with small.client(ALICE_TOKEN) as alice, small.client(BOB_PHONE_TOKEN) as bob:
        _send(alice, 2 * KEPT)
        r = bob.get(f"{ROOM}/state")
        assert r.status_code == 200, r.text
        assert {"m.room.create", "m.room.power_levels", "m.room.name", "m.room.topic"} <= {e["type"] for e in r.json()}
        r = bob.get(f"{ROOM}/state/m.room.name/")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "Lobby"}
        r = bob.get(f"{ROOM}/joined_members")
        assert r.status_code == 200, r.text
        assert set(r.json()["joined"]) == {"@alice:localhost", "@bob:localhost"}


def test_a_first_sync_is_limited_and_its_prev_batch_pages_to_the_end_of_what_is_kept(small: LiveServer) -> None:
    with small.client(ALICE_TOKEN) as alice, small.client(BOB_PHONE_TOKEN) as bob:
        sent = _send(alice, 2 * KEPT)
        r = bob.get("/_matrix/client/v3/sync", params={"filter": json.dumps({"room": {"timeline": {"limit": 5}}})})
        assert r.status_code == 200, r.text
        lobby = r.json()["rooms"]["join"][LOBBY]
        assert lobby["timeline"]["limited"] is True
        assert [event["event_id"] for event in lobby["timeline"]["events"]] == sent[-5:]
        assert {"m.room.create", "m.room.name"} <= {event["type"] for event in lobby["state"]["events"]}
        r = bob.get(f"{ROOM}/messages", params={"dir": "b", "from": lobby["timeline"]["prev_batch"], "limit": 100})
        assert r.status_code == 200, r.text
        assert [event["event_id"] for event in r.json()["chunk"]] == sent[::-1][5:KEPT]
        assert "end" not in r.json(), r.text


def test_an_incremental_sync_across_dropped_events_is_limited(small: LiveServer) -> None:
    with small.client(ALICE_TOKEN) as alice, small.client(BOB_PHONE_TOKEN) as bob:
        r = bob.get("/_matrix/client/v3/sync")
        assert r.status_code == 200, r.text
        since = r.json()["next_batch"]
        sent = _send(alice, KEPT + 5)
        wide = json.dumps({"room": {"timeline": {"limit": 100}}})
        r = bob.get("/_matrix/client/v3/sync", params={"since": since, "filter": wide})
        assert r.status_code == 200, r.text
        timeline = r.json()["rooms"]["join"][LOBBY]["timeline"]
        # All that is kept fits the filter's limit, but 5 of the new events fell out: a gap all the same.
        assert [event["event_id"] for event in timeline["events"]] == sent[5:]
        assert timeline["limited"] is True
        r = bob.get(f"{ROOM}/messages", params={"dir": "b", "from": timeline["prev_batch"]})
        assert r.status_code == 200, r.text
        assert r.json()["chunk"] == [] and "end" not in r.json(), r.text


def test_every_bound_counts_what_it_lets_go(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(
        _with_limits(
            "{max_transactions: 2, max_to_device_per_device: 3, max_gateway_notifications: 2,"
            " max_notifications_per_user: 2}"
        )
    )
    with live.client(ALICE_TOKEN) as alice, live.client(BOB_PHONE_TOKEN) as bob:
        sent = _send(alice, 3)
        # bob's pusher aims at the mock's own gateway, one push at a time: once the last is there, all three came.
        r = alice.get("/_mockmx/notifications", params={"event_id": sent[-1], "wait": 10_000, "count": 1})
        assert r.status_code == 200, r.text
        for n in range(5):
            body = {"messages": {"@bob:localhost": {"BOBLAPTOP": {"n": n}}}}
            r = alice.put(f"/_matrix/client/v3/sendToDevice/org.example.ping/t{n}", json=body)
            assert r.status_code == 200, r.text

        r = bob.get("/_matrix/client/v3/notifications")
        assert r.status_code == 200, r.text
        assert [entry["event"]["event_id"] for entry in r.json()["notifications"]] == sent[:0:-1]
        r = alice.get("/_mockmx/notifications")
        assert r.status_code == 200, r.text
        assert [entry["notification"]["event_id"] for entry in r.json()["notifications"]] == sent[1:]
    with live.client("bob-laptop-token") as laptop:
        r = laptop.get("/_matrix/client/v3/sync")
        assert r.status_code == 200, r.text
        assert [message["content"]["n"] for message in r.json()["to_device"]["events"]] == [2, 3, 4]

    memory = _memory(live)
    counted = {name: (entry["limit"], entry["dropped"]) for name, entry in memory.items()}
    assert counted["transactions"] == (2, 6), memory  # 3 room sends and 5 to-device sends
    assert counted["to_device"] == (3, 2), memory
    assert counted["gateway_notifications"] == (2, 1), memory
    assert counted["notifications"] == (2, 1), memory
    assert memory["transactions"]["kept"] == 2 and memory["to_device"]["kept"] == 3, (
        memory
    )  # handed out, not yet acknowledged
    assert {"failed_pushes", "media_bytes", "request_journal", "to_device_journal", "decrypted"} <= memory.keys()


def test_a_reset_starts_the_counts_over(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(_with_limits("{max_room_events: 5}"))
    fresh = _memory(live)["room_events"]  # building the scenario's rooms already let some go
    with live.client(ALICE_TOKEN) as alice:
        _send(alice, 10)
        assert _memory(live)["room_events"]["dropped"] == fresh["dropped"] + 10
        r = alice.post("/_mockmx/reset")
        assert r.status_code == 200, r.text
    assert _memory(live)["room_events"] == fresh


def test_a_failed_push_record_past_the_bound_is_counted() -> None:
    deliveries = Deliveries(max_failed=2)
    for n in range(3):
        deliveries.gave_up(("@bob:localhost", "app", "key"), {"notification": {"event_id": f"${n}"}}, 3, "503", n)
    assert [push.event_id for push in deliveries.failed] == ["$1", "$2"]
    assert deliveries.failed_let_go == 1
    assert deliveries.to_json({})["totals"]["failed"] == 3


def test_the_scenario_sets_the_memory_limits_and_the_command_line_overrides_them() -> None:
    scenario = load_scenario_text(_with_limits("{max_room_events: 7, max_failed_pushes: 3}"), "l.yaml")
    assert scenario.limits == Limits(max_room_events=7, max_failed_pushes=3)
    flags = Namespace(max_connections=None, max_room_events=50, max_gateway_notifications=None)
    assert limits_from(flags, scenario.limits) == Limits(max_room_events=50, max_failed_pushes=3)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("{max_room_events: 0}", "limits.max_room_events: expected an integer >= 1, got 0"),
        ("{max_transactions: lots}", "limits.max_transactions: expected an integer, got 'lots'"),
        ("{max_to_device_per_device: 1.5}", "limits.max_to_device_per_device: expected an integer"),
        ("{max_room_event: 5}", "max_room_event"),
    ],
)
def test_a_wrong_memory_limit_is_refused_with_its_line(limits: str, message: str) -> None:
    text = _with_limits(limits)
    line = text.count("\n")  # the `limits:` line, the file's last
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "l.yaml")
    assert f"l.yaml:{line}:" in str(caught.value) and message in str(caught.value), str(caught.value)
