"""Reading history: `/messages` of 50 events from a room of 100,000 events against one of 100, and what the mock
holds per stored event.

`python -m bench.history EVENTS` serves the throughput scenario with its room filled to EVENTS events (through the
homeserver itself: a scenario file that long takes the loader many seconds) and prints `URL: ...` once bound, as
`mockmx serve` does; bench/run.py starts one of each size and takes turns asking them for the newest 50 events.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING
from urllib.parse import quote

from bench import load, scenarios
from bench.report import Row
from bench.servers import running, serve_app
from bench.stats import median
from mockmx.app import create_app
from mockmx.hosting import hosted_as
from mockmx.scenario.loader import load_scenario_text
from mockmx.world import Mock

if TYPE_CHECKING:
    from bench.run import Settings

SMALL_ROOM_EVENTS = 100
LARGE_ROOM_EVENTS = 100_000
PAGE = 50
REQUESTS_PER_ROUND = 50
RATIO_GOAL = 1.25
MESSAGES = load.Workload(
    "messages",
    "GET",
    f"/_matrix/client/v3/rooms/{quote(scenarios.SMALL_ROOM, safe='')}/messages?dir=b&limit={PAGE}",
    "",
    scenarios.SENDER_TOKEN,
)


def history_rows(settings: Settings) -> list[Row]:
    """The latency row (large room against small, `settings.replay_rounds` rounds taking turns) and the memory row."""
    results: dict[int, list[load.LoadResult]] = {SMALL_ROOM_EVENTS: [], LARGE_ROOM_EVENTS: []}
    with (
        running("history (small)", _command(SMALL_ROOM_EVENTS)) as small,
        running("history (large)", _command(LARGE_ROOM_EVENTS)) as large,
    ):
        servers = {SMALL_ROOM_EVENTS: small, LARGE_ROOM_EVENTS: large}
        small.wait_idle()
        large.wait_idle()
        rss = {size: server.rss_kib() for size, server in servers.items()}
        for round_index in range(settings.replay_rounds):
            order = list(servers) if round_index % 2 == 0 else list(servers)[::-1]
            for size in order:
                result = load.run_counted(servers[size].url, MESSAGES, connections=1, requests=REQUESTS_PER_ROUND)
                results[size].append(result)
    small_ms, large_ms = _pooled(results[SMALL_ROOM_EVENTS]), _pooled(results[LARGE_ROOM_EVENTS])
    ratio = large_ms[0] / small_ms[0] if small_ms[0] else 0.0
    errors = sum(r.errors for rs in results.values() for r in rs)
    met = "yes" if ratio <= RATIO_GOAL else "no"
    if errors:
        met = f"no ({errors} failed requests)"
    rows = [
        Row(
            f"/messages: latency p50 / p99, {PAGE} events from a room of {LARGE_ROOM_EVENTS:,} vs {SMALL_ROOM_EVENTS}",
            f"{large_ms[0]:.2f} / {large_ms[1]:.2f} ms",
            f"{small_ms[0]:.2f} / {small_ms[1]:.2f} ms",
            f"{ratio:.2f}",
            f"ratio ~ 1 (<= {RATIO_GOAL})",
            met,
        )
    ]
    small_rss, large_rss = rss[SMALL_ROOM_EVENTS], rss[LARGE_ROOM_EVENTS]
    label = "/messages: memory per stored event (text message)"
    if small_rss is None or large_rss is None:
        rows.append(Row(label, "n/a (no /proc)"))
    else:
        per_event = (large_rss - small_rss) * 1024 / (LARGE_ROOM_EVENTS - SMALL_ROOM_EVENTS)
        rows.append(Row(label, f"{per_event:,.0f} bytes"))
    return rows


def _pooled(results: list[load.LoadResult]) -> tuple[float, float]:
    """p50 and p99 over the rounds: the medians of each round's figures."""
    return median([r.p50_ms for r in results]), median([r.p99_ms for r in results])


def _command(events: int) -> list[str]:
    return [sys.executable, "-m", "bench.history", str(events)]


def serve(events: int) -> None:
    """Serve the throughput scenario with its room filled to `events` events, as `mockmx serve --quiet` would."""
    scenario = load_scenario_text(scenarios.throughput_yaml(), "<bench.history>")
    # The room keeps all of them: this measures a large room, not the limit (bench/soak.py measures that).
    scenario = dataclasses.replace(scenario, limits=scenario.limits.override(max_room_events=events))
    app = create_app(scenario=scenario)
    hs = hosted_as(app, Mock).world.homeserver
    room = hs.rooms[scenarios.SMALL_ROOM]
    sender = next(iter(room.joined))
    for n in range(len(room.timeline), events):
        hs.send_event(room, sender, "m.room.message", {"msgtype": "m.text", "body": f"message {n}"})
    serve_app(app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", type=int, help="how many events the room holds")
    serve(parser.parse_args().events)
