"""A first `/sync` in a big world: 500 rooms and 5,000 users, the syncing user in every room, against an
incremental sync of the same user with nothing new.

`python -m bench.initial_sync ROOMS USERS` serves that world (built through the homeserver itself, as a scenario
file that size takes the loader seconds) and prints `URL: ...` once bound, as `mockmx serve` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from typing import TYPE_CHECKING

from bench.report import Row
from bench.servers import running, serve_app
from bench.stats import median
from mockmx.app import create_app
from mockmx.hosting import hosted_as
from mockmx.scenario.loader import load_scenario_text
from mockmx.world import Mock

if TYPE_CHECKING:
    from bench.run import Settings

ROOMS = 500
USERS = 5_000
MESSAGES_PER_ROOM = 5
SYNCER_TOKEN = "syncer-token"
_SCENARIO = f"""
server_name: localhost
users:
  - id: syncer
    devices: [{{id: SYNCER, access_token: {SYNCER_TOKEN}}}]
"""


def initial_sync_rows(settings: Settings) -> list[Row]:
    """The first sync's latency and size, against an incremental one with nothing new (median of rounds)."""
    rooms, users = (ROOMS, USERS) if settings.warmup else (20, 200)  # a smoke run does not warm up: a small world
    with running("initial sync", [sys.executable, "-m", "bench.initial_sync", str(rooms), str(users)]) as server:
        server.wait_idle()
        first, incremental, size = [], [], 0
        for _ in range(max(settings.replay_rounds, 1)):
            began = time.perf_counter()
            body = _get(server.url + "/_matrix/client/v3/sync")
            first.append((time.perf_counter() - began) * 1000)
            size = len(body)
            since = json.loads(body)["next_batch"]
            began = time.perf_counter()
            _get(server.url + f"/_matrix/client/v3/sync?since={since}&timeout=0")
            incremental.append((time.perf_counter() - began) * 1000)
    first_ms, incremental_ms = median(first), median(incremental)
    return [
        Row(
            f"/sync: first sync, {rooms} rooms and {users:,} users ({size / 1024:,.0f} KiB), vs an incremental one",
            f"{first_ms:.0f} ms",
            f"{incremental_ms:.1f} ms",
            f"{first_ms / incremental_ms:.0f}x" if incremental_ms else "",
        )
    ]


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {SYNCER_TOKEN}"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        body: bytes = answer.read()
        return body


def serve(rooms: int, users: int) -> None:
    """Serve `rooms` rooms of `users // rooms` members each (and the syncing user), a few messages in each."""
    app = create_app(scenario=load_scenario_text(_SCENARIO, "<bench.initial_sync>"))
    hs = hosted_as(app, Mock).world.homeserver
    syncer = "@syncer:localhost"
    per_room = max(users // rooms, 1)
    accounts = [hs.accounts.register(f"user{number}", "password") for number in range(users)]
    for index in range(rooms):
        room = hs.create_room(syncer, name=f"Room {index}", preset="public_chat")
        members = accounts[index * per_room : (index + 1) * per_room] or [syncer]
        for member in members:
            hs.join(member, room.room_id)
        for n in range(MESSAGES_PER_ROOM):
            hs.send_event(room, members[n % len(members)], "m.room.message", {"msgtype": "m.text", "body": f"hi {n}"})
    serve_app(app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rooms", type=int)
    parser.add_argument("users", type=int)
    arguments = parser.parse_args()
    serve(arguments.rooms, arguments.users)
