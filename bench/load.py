"""Throughput and latency at a fixed number of connections: wrk when it is installed, else bench/pyload.py.

Both load generators get the same request shape, with `{n}` in the path and body made unique per request,
and report the same figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import scenarios
from bench.servers import child_env

BENCH = Path(__file__).resolve().parent
MAX_REQUESTS = 1_000_000  # per run: a bound in count on top of the bound in time


@dataclass(frozen=True)
class Workload:
    """One benchmarked request: `{n}` in `path` and `body` is unique per request."""

    name: str
    method: str
    path: str
    body: str
    token: str = ""


def _notification() -> str:
    # Shaped as Synapse sends it, with a new event id each time (a repeated one is only counted as a retry).
    notification = {
        "notification": {
            "event_id": "$bench-{n}",
            "room_id": scenarios.SMALL_ROOM,
            "type": "m.room.message",
            "sender": "@alice:bench",
            "sender_display_name": "Alice",
            "room_name": "Bench",
            "content": {"msgtype": "m.text", "body": "hello"},
            "prio": "high",
            "counts": {"unread": 1},
            "devices": [
                {
                    "app_id": "org.example.bench",
                    "pushkey": "bench-pushkey",
                    "pushkey_ts": 1700000000,
                    "data": {},
                    "tweaks": {"sound": "default"},
                }
            ],
        }
    }
    return json.dumps(notification)


# The room id percent-encoded, as SDKs send it.
WORKLOADS = (
    Workload(
        "room send",
        "PUT",
        "/_matrix/client/v3/rooms/%21bench%3Abench/send/m.room.message/bench-{n}",
        json.dumps({"msgtype": "m.text", "body": "message {n}"}),
        scenarios.SENDER_TOKEN,
    ),
    Workload(
        "send-to-device",
        "PUT",
        "/_matrix/client/v3/sendToDevice/org.example.bench/bench-{n}",
        json.dumps({"messages": {scenarios.RECIPIENT: {scenarios.RECIPIENT_DEVICE: {"n": "{n}"}}}}),
        scenarios.SENDER_TOKEN,
    ),
    Workload("/notify", "POST", "/_matrix/push/v1/notify", _notification()),
)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).split(" [", 1)[0].strip()


def run(generator: str, url: str, workload: Workload, *, connections: int, seconds: float) -> LoadResult:
    """`workload` against `url` for `seconds` at `connections`, with the generator named ("wrk" or "python")."""
    if generator == "wrk":
        return _run_wrk(url, workload, connections=connections, seconds=seconds)
    return _run_python(url, workload, connections=connections, seconds=seconds)


def run_counted(url: str, workload: Workload, *, connections: int, requests: int, seconds: float = 60.0) -> LoadResult:
    """Exactly `requests` of `workload` (bench/pyload.py, which counts them exactly: a replay answers each recorded
    request once, so the load must not overrun the recording), or as many as `seconds` allow."""
    return _run_python(url, workload, connections=connections, seconds=seconds, max_requests=requests)


def _run_wrk(url: str, workload: Workload, *, connections: int, seconds: float) -> LoadResult:
    # One wrk thread outdoes a single-process Python server many times over, and leaves it the other core.
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(BENCH / "unique.lua"), url,
        "--", workload.method, workload.path, workload.body, str(MAX_REQUESTS), workload.token,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line.removeprefix("WRK_RESULT "))
    return LoadResult(
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["errors"],
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
    )


def _run_python(
    url: str, workload: Workload, *, connections: int, seconds: float, max_requests: int = MAX_REQUESTS
) -> LoadResult:
    command = [
        sys.executable, "-m", "bench.pyload", url,
        "--method", workload.method, "--path", workload.path, "--body", workload.body, "--token", workload.token,
        "--connections", str(connections), "--seconds", str(seconds), "--max-requests", str(max_requests),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True, env=child_env())
    return LoadResult(**json.loads(out.stdout.splitlines()[-1]))
