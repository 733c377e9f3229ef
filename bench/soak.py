"""Memory under a long run: room sends with a pusher active against `mockmx serve --quiet` with small limits, the
server's RSS read from /proc at 25, 50, 75 and 100% of the run. Once the bounds are reached it should stay flat.

`python3 bench/soak.py` sends 1,000,000 messages (about ten minutes on two cores); `--sends N` fewer.
`python3 bench/run.py --soak` adds the full run to the table; without it the table has a short one, and `--smoke` a
tiny one. Every message notifies bob, whose pusher posts to the mock's own push gateway, so the room, the
transaction cache, the notification log, the pusher's backlog and the gateway's journal all fill up; the limits are
small so that they fill early in the run. Each quarter is bounded in count and in time, on loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

if __package__ in (None, ""):  # run as a script: make `bench` and `mockmx` importable from this checkout
    try:
        import aiohttp  # noqa: F401
    except ImportError:  # started by a Python without the test tools: go on under .venv's
        venv_python = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python"
        if not venv_python.exists() or Path(sys.executable) == venv_python:
            raise SystemExit(
                "bench/soak.py needs the test tools: `python3 dev.py test` sets up .venv with them"
            ) from None
        os.execv(venv_python, [str(venv_python), __file__, *sys.argv[1:]])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load
from bench.report import Row
from bench.servers import Server, mock_command, running

FULL_SENDS = 1_000_000
DEFAULT_SENDS = 40_000  # the row of a plain `bench/run.py`
SMOKE_SENDS = 2_000
CONNECTIONS = 8
QUARTER_SECONDS = 1_200.0  # a bound in time on each quarter of the run, on top of its count
KEPT = 1_000  # each limit of the soak's scenario
FLAT_GOAL = 0.10  # RSS growth from half-way to the end, once the bounds are reached
ROOM = "!soak:localhost"
TOKEN = "alice-token"
LIMITS = {
    "max_room_events": KEPT,
    "max_transactions": KEPT,
    "max_to_device_per_device": KEPT,
    "max_gateway_notifications": KEPT,
    "max_notifications_per_user": KEPT,
    "max_failed_pushes": 100,
}


def soak_yaml() -> str:
    """alice sends, bob is notified and has a pusher aimed at this mock's own gateway; every memory limit small."""
    pusher = {"app_id": "org.example.soak", "pushkey": "bob-pushkey", "url": "/_matrix/push/v1/notify"}
    users = [
        {"id": "alice", "devices": [{"id": "ALICEDEV", "access_token": TOKEN}]},
        {"id": "bob", "devices": [{"id": "BOBPHONE", "access_token": "bob-token"}], "pushers": [pusher]},
    ]
    lines = ["mockmx: 1", "server_name: localhost", f"journal_limit: {KEPT}", f"limits: {json.dumps(LIMITS)}"]
    lines += ["users:", *(f"  - {json.dumps(user)}" for user in users)]
    lines += ["rooms:", f"  - {json.dumps({'id': ROOM, 'members': ['alice', 'bob']})}"]
    return "\n".join(lines) + "\n"


def _workload(quarter: int) -> load.Workload:
    # A txnId prefix per quarter: each quarter's counter starts at 0, and a repeated txnId would send nothing.
    return load.Workload(
        "soak send",
        "PUT",
        f"/_matrix/client/v3/rooms/{quote(ROOM, safe='')}/send/m.room.message/soak{quarter}-{{n}}",
        json.dumps({"msgtype": "m.text", "body": "soak message {n}"}),
        TOKEN,
    )


def soak(sends: int, *, progress: bool = False) -> tuple[list[int | None], int, dict[str, object], float]:
    """Send `sends` messages in four quarters; RSS (KiB) at the start and after each quarter once the server is
    idle (its pushes drained), the requests that failed, the memory counts at the end, and the seconds taken."""
    with tempfile.TemporaryDirectory(prefix="mockmx-soak-") as scratch:
        scenario = Path(scratch) / "soak.yaml"
        scenario.write_text(soak_yaml(), encoding="utf-8")
        with running("mockmx (soak)", mock_command(scenario)) as server:
            began = time.perf_counter()
            server.wait_idle()
            samples = [server.rss_kib()]
            errors = 0
            for quarter in range(4):
                result = load.run_counted(
                    server.url,
                    _workload(quarter),
                    connections=CONNECTIONS,
                    requests=sends // 4,
                    seconds=QUARTER_SECONDS,
                )
                errors += result.errors + max(0, sends // 4 - result.requests)
                server.wait_idle(timeout=120)
                samples.append(server.rss_kib())
                if progress:
                    print(f"  {25 * (quarter + 1)}%: {_mib(samples[-1])} MiB", file=sys.stderr, flush=True)
            return samples, errors, _memory(server), time.perf_counter() - began


def soak_rows(sends: int) -> list[Row]:
    samples, errors, memory, _ = soak(sends)
    label = f"soak: RSS at 25 / 50 / 75 / 100% of {sends:,} sends with a pusher (limits {KEPT:,})"
    if any(sample is None for sample in samples):
        return [Row(label, "n/a (no /proc)")]
    rss = [sample or 0 for sample in samples]
    growth = (rss[4] - rss[2]) / rss[2]
    met = "yes" if growth <= FLAT_GOAL else f"no (+{growth:.0%})"
    if errors:
        met = f"no ({errors} failed requests)"
    dropped = memory.get("room_events", {})
    return [
        Row(
            label,
            " / ".join(f"{_mib(sample)}" for sample in rss[1:]) + " MiB",
            f"start {_mib(rss[0])} MiB",
            f"{rss[4] / rss[2]:.2f}",
            f"flat after half-way (<= +{FLAT_GOAL:.0%})",
            met,
        ),
        Row(
            "soak: events let go by the room's limit",
            f"{dropped.get('dropped', 0):,}" if isinstance(dropped, dict) else "n/a",
        ),
    ]


def _memory(server: Server) -> dict[str, object]:
    import httpx

    r = httpx.get(server.url + "/_mockmx/limits", timeout=10)
    r.raise_for_status()
    memory: dict[str, object] = r.json()["memory"]
    return memory


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=FULL_SENDS, help=f"messages to send (default {FULL_SENDS:,})")
    args = parser.parse_args()
    samples, errors, memory, seconds = soak(args.sends, progress=True)
    print(f"{args.sends:,} sends in {seconds:.0f} s, {errors} failed")
    print("RSS (MiB) at start, 25, 50, 75, 100%: " + ", ".join(_mib(sample) for sample in samples))
    for name, entry in memory.items():
        print(f"  {name}: {json.dumps(entry)}")


if __name__ == "__main__":
    main()
