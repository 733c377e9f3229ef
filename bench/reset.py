"""`POST /_mockmx/reset` cost per room: a suite that resets before every test pays it each time.

Times `Mock.reset()` (what the endpoint runs: a new world from the scenario, the old one's script and pushes
stopped) for scenarios of 10, 100 and 1,000 rooms of 3 members and 3 timeline messages each, and reports the time
per room of the largest (the fixed cost of a world shows in the small ones). `python -m bench.reset` prints them.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import yaml

from bench.report import Row
from bench.stats import median
from mockmx.scenario.loader import load_scenario_text
from mockmx.world import Mock

if TYPE_CHECKING:
    from bench.run import Settings

SIZES = (10, 100, 1000)
GOAL_MS_PER_ROOM = 1.0


def scenario_yaml(rooms: int) -> str:
    users = [{"id": f"u{i}", "devices": [{"id": f"D{i}", "access_token": f"t{i}"}]} for i in range(30)]
    listed = [
        {
            "id": f"!r{n}:localhost",
            "members": [f"u{(n + k) % 30}" for k in range(3)],
            "timeline": [{"sender": f"u{n % 30}", "say": f"message {m}"} for m in range(3)],
        }
        for n in range(rooms)
    ]
    return yaml.safe_dump({"mockmx": 1, "server_name": "localhost", "users": users, "rooms": listed})


async def _time_resets(rooms: int, rounds: int) -> list[float]:
    mock = Mock(load_scenario_text(scenario_yaml(rooms), "<bench>"))
    mock.start()
    taken = []
    for _ in range(rounds):
        began = time.perf_counter()
        await mock.reset()
        taken.append(time.perf_counter() - began)
    await mock.stop()
    return taken


def reset_times(rounds: int) -> dict[int, float]:
    """Median seconds of a reset, by number of rooms."""
    return {rooms: median(asyncio.run(_time_resets(rooms, rounds))) for rooms in SIZES}


def reset_rows(settings: Settings) -> list[Row]:
    times = reset_times(max(settings.rounds, 3))
    rows = [
        Row(f"reset: POST /_mockmx/reset's work, {rooms} rooms", f"{seconds * 1000:.2f} ms")
        for rooms, seconds in times.items()
    ]
    per_room = times[SIZES[-1]] / SIZES[-1] * 1000
    rows.append(
        Row(
            f"reset: per room, {SIZES[-1]} rooms",
            f"{per_room * 1000:.0f} µs",
            goal=f"< {GOAL_MS_PER_ROOM:g} ms",
            met="yes" if per_room < GOAL_MS_PER_ROOM else "no",
        )
    )
    return rows


if __name__ == "__main__":
    for rooms, seconds in reset_times(5).items():
        print(f"{rooms:5d} rooms: {seconds * 1000:8.2f} ms per reset, {seconds / rooms * 1e6:7.1f} µs per room")
