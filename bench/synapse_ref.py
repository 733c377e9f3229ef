"""The reference rows: room send and send-to-device at the same connections against a real Synapse, where one is
installed (`.venv-synapse`, which the test suite sets up from requirements/synapse.lock), beside mockmx's figures.

Synapse runs as the test suite runs it (tests/synapse.py: SQLite, rate limits raised so they do not throttle the
load); alice sends in a room she shares with bob, and to bob's device.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

from bench import load
from bench.report import Row
from bench.servers import ROOT
from bench.stats import median
from tests.synapse import VENV_DIR, SynapseServer, ensure_synapse_venv

ROOM_SEND, TO_DEVICE = load.WORKLOADS[0], load.WORKLOADS[1]


def synapse_present() -> bool:
    """Whether the Synapse virtual environment is installed (this runner does not install it)."""
    return (ROOT / VENV_DIR / ".installed").exists()


def synapse_rows(
    generator: str, mockmx: dict[str, list[load.LoadResult]], *, scratch: Path, connections: int, seconds: float
) -> list[Row]:
    """Rows comparing mockmx's results (by workload name) with the same load on Synapse."""
    if not synapse_present():
        return [Row("reference, Synapse: not measured", f"no {VENV_DIR}: `python3 dev.py test` installs it")]
    python = ensure_synapse_venv(ROOT)
    version = _synapse_version(python)
    rows = []
    with SynapseServer(python=python, workdir=scratch / "synapse") as synapse:
        workloads = _workloads(synapse)
        for workload in workloads:
            load.run(generator, synapse.url, workload, connections=connections, seconds=1)  # warm-up
            result = load.run(generator, synapse.url, workload, connections=connections, seconds=seconds)
            print(f"  {workload.name}, Synapse: {result.throughput:,.0f} req/s", file=sys.stderr, flush=True)
            mine = mockmx[workload.name]
            mine_rps = median([r.throughput for r in mine])
            met = "" if not result.errors else f"({result.errors} failed requests on Synapse)"
            rows.append(
                Row(
                    f"reference, Synapse {version} in the limit column: {workload.name}: req/s",
                    f"{mine_rps:,.0f}",
                    f"{result.throughput:,.0f}",
                    f"{mine_rps / result.throughput:.0f}x" if result.throughput else "",
                    met=met,
                )
            )
            rows.append(
                Row(
                    f"reference, Synapse {version} in the limit column: {workload.name}: latency p50 / p99",
                    f"{median([r.p50_ms for r in mine]):.1f} / {median([r.p99_ms for r in mine]):.1f} ms",
                    f"{result.p50_ms:.1f} / {result.p99_ms:.1f} ms",
                )
            )
    return rows


def _workloads(synapse: SynapseServer) -> list[load.Workload]:
    """The benchmark's room send and send-to-device, with a room, users and tokens Synapse made."""
    alice = synapse.register_user("benchalice", "bench-alice-password")
    bob = synapse.register_user("benchbob", "bench-bob-password")
    with httpx.Client(base_url=synapse.url, timeout=30) as client:
        created = client.post(
            "/_matrix/client/v3/createRoom",
            json={"preset": "private_chat", "invite": [bob.user_id]},
            headers={"Authorization": f"Bearer {alice.access_token}"},
        )
        created.raise_for_status()
        room_id = created.json()["room_id"]
        joined = client.post(
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/join",
            json={},
            headers={"Authorization": f"Bearer {bob.access_token}"},
        )
        joined.raise_for_status()
    room_send = dataclasses.replace(
        ROOM_SEND,
        path=f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/bench-{{n}}",
        token=alice.access_token,
    )
    to_device = dataclasses.replace(
        TO_DEVICE,
        body=json.dumps({"messages": {bob.user_id: {bob.device_id: {"n": "{n}"}}}}),
        token=alice.access_token,
    )
    return [room_send, to_device]


def _synapse_version(python: Path) -> str:
    script = "from importlib.metadata import version; print(version('matrix-synapse'))"
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.strip()
