"""Scripted events: they appear on the streams like any other event, at their time."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.conftest import LiveServer

SCENARIO = """
server_name: localhost
users:
  - id: alice
    devices: [{id: ALICEDEV, access_token: alice-token}]
  - id: bob
    devices: [{id: BOBDEV, access_token: bob-token}]
rooms:
  - id: "!lobby:localhost"
    alias: lobby
    members: [alice, bob]
script:
  - after: 0.4s
    sender: bob
    room: lobby
    say: hi from the script
  - after: 0.2s
    every: 0.2s
    count: 3
    sender: bob
    to_device: {alice: {ALICEDEV: {n: 1}}}
    type: org.example.tick
"""


def test_one_off_event_arrives_in_a_long_poll_at_its_time(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        first = alice.get("/_matrix/client/v3/events", params={"timeout": 0})
        # The script's event wakes the poll; were it not sent, the poll would answer empty at its timeout.
        r = alice.get("/_matrix/client/v3/events", params={"from": first.json()["end"], "timeout": 5000})
    assert r.status_code == 200, r.text
    chunk = r.json()["chunk"]
    assert [(e["sender"], e["content"]) for e in chunk] == [
        ("@bob:localhost", {"msgtype": "m.text", "body": "hi from the script"})
    ]


def test_repeating_to_device_message_fires_count_times(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        first = alice.get("/_matrix/client/v3/sync").json()
        since, ticks = first["next_batch"], first["to_device"]["events"]
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            body = alice.get("/_matrix/client/v3/sync", params={"since": since, "timeout": 300}).json()
            since = body["next_batch"]
            ticks += body["to_device"]["events"]
    assert ticks == [{"sender": "@bob:localhost", "type": "org.example.tick", "content": {"n": 1}}] * 3
