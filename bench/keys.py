"""Encryption keys: `/keys/query` for 100 users of 5 devices each, and `/keys/claim` throughput against the limit.

`python -m bench.keys` serves the throughput scenario plus 100 users of 5 devices, each device with real device keys
(vodozemac), 50 one-time keys and a fallback key, put in through the homeserver itself; it prints `URL: ...` once
bound, as `mockmx serve` does.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import TYPE_CHECKING

from bench import load, scenarios
from bench.report import Row
from bench.servers import limit_command, running
from bench.stats import median
from mockmx.app import create_app
from mockmx.collection import freeze_survivors
from mockmx.crypto.olm_device import OlmDevice
from mockmx.hosting import hosted_as
from mockmx.scenario.loader import load_scenario_text
from mockmx.server import MockServer, server_config
from mockmx.world import Mock

if TYPE_CHECKING:
    from bench.run import Settings

USERS = 100
DEVICES = 5
ONE_TIME_KEYS = 50
REQUESTS_PER_ROUND = 50
CONNECTIONS = 32
CLAIM_GOAL = 0.7  # as the other throughput rows


def user_id(index: int) -> str:
    return f"@k{index}:{scenarios.SERVER_NAME}"


QUERY = load.Workload(
    "keys/query",
    "POST",
    "/_matrix/client/v3/keys/query",
    json.dumps({"device_keys": {user_id(i): [] for i in range(USERS)}}),
    scenarios.SENDER_TOKEN,
)
# A client starting an encrypted chat claims a key of each of the other user's devices: five per request. The
# first requests take one-time keys, the rest the fallback keys; the work per request is the same.
CLAIM = load.Workload(
    "keys/claim",
    "POST",
    "/_matrix/client/v3/keys/claim",
    json.dumps({"one_time_keys": {user_id(0): {f"D{d}": "signed_curve25519" for d in range(DEVICES)}}}),
    scenarios.SENDER_TOKEN,
)


def keys_rows(settings: Settings) -> list[Row]:
    """The query latency row and the claim throughput row (against the limit, taking turns as throughput does)."""
    queries: list[load.LoadResult] = []
    claims: dict[str, list[load.LoadResult]] = {"mockmx": [], "limit": []}
    with running("keys", [sys.executable, "-m", "bench.keys"]) as mock, running("limit", limit_command()) as limit:
        mock.wait_idle()
        servers = {"mockmx": mock, "limit": limit}
        for round_index in range(settings.rounds):
            queries.append(load.run_counted(mock.url, QUERY, connections=1, requests=REQUESTS_PER_ROUND))
            for name in servers if round_index % 2 == 0 else list(servers)[::-1]:
                result = load.run(
                    settings.generator, servers[name].url, CLAIM, connections=CONNECTIONS, seconds=settings.seconds
                )
                claims[name].append(result)
    errors = sum(r.errors for r in queries)
    rows = [
        Row(
            f"/keys/query: latency p50 / p99, {USERS} users x {DEVICES} devices",
            f"{median([r.p50_ms for r in queries]):.2f} / {median([r.p99_ms for r in queries]):.2f} ms",
            met=f"no ({errors} failed requests)" if errors else "",
        )
    ]
    mine, limits = claims["mockmx"], claims["limit"]
    ratio = median([m.throughput / lim.throughput for m, lim in zip(mine, limits, strict=True) if lim.throughput])
    failed = sum(r.errors for r in mine + limits)
    met = f"no ({failed} failed requests)" if failed else ("yes" if ratio >= CLAIM_GOAL else "no")
    rows.append(
        Row(
            f"/keys/claim ({DEVICES} devices a request): req/s at {CONNECTIONS} connections",
            f"{median([r.throughput for r in mine]):,.0f}",
            f"{median([r.throughput for r in limits]):,.0f}",
            f"{ratio:.2f}",
            f">= {CLAIM_GOAL}",
            met,
        )
    )
    return rows


def serve() -> None:
    """Serve the throughput scenario plus the key-holding users, as `mockmx serve --quiet` would."""
    extra = [{"id": f"k{i}", "devices": [{"id": f"D{d}"} for d in range(DEVICES)]} for i in range(USERS)]
    users = "".join(f"  - {json.dumps(user)}\n" for user in extra)
    text = scenarios.throughput_yaml().replace("users:\n", "users:\n" + users, 1)
    app = create_app(scenario=load_scenario_text(text, "<bench.keys>"))
    hs = hosted_as(app, Mock).world.homeserver
    for i in range(USERS):
        for d in range(DEVICES):
            device = OlmDevice(user_id(i), f"D{d}")
            hs.keys.upload(
                user_id(i),
                f"D{d}",
                device_keys=device.device_keys(),
                one_time_keys=device.new_one_time_keys(ONE_TIME_KEYS),
                fallback_keys=device.new_fallback_key(),
            )
    freeze_survivors()
    config = server_config(app, host="127.0.0.1", port=0, quiet=True)
    server = MockServer(config, on_started=lambda url: print(f"URL: {url}", flush=True))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


if __name__ == "__main__":
    serve()
