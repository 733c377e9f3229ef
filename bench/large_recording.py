"""Loading a large, realistic recording: 50,000 flows of a chat session, some 100 MB (bench/chat_recording.py).

Timed in a fresh interpreter, imports not counted: `load_recording` and `create_replay_app`, as `mockmx replay`
does before it answers; and the interpreter's peak RSS, which a large file's nodes once took to 3 GB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.chat_recording import write_chat
from bench.report import Row
from bench.servers import ROOT, child_env
from bench.stats import median

FLOWS = 50_000
LOAD_GOAL_S = 5.0
MEMORY_GOAL_MIB = 1024

_TIMER = """
import resource, sys, time
from mockmx.record import load_recording
from mockmx.replay import create_replay_app
began = time.perf_counter()
recording = load_recording(sys.argv[1])
loaded = time.perf_counter()
create_replay_app(recording)
print(loaded - began, time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def large_recording_rows(scratch: Path, *, flows: int = FLOWS, loads: int = 3) -> list[Row]:
    """One row: the median of `loads` loads of a `flows`-flow chat recording, and the largest peak RSS."""
    path = write_chat(scratch / "chat.yaml", flows)
    size_mb = path.stat().st_size / 1e6
    runs = [_load(path) for _ in range(loads)]
    file_s, total_s, peak_mib = median([r[0] for r in runs]), median([r[1] for r in runs]), max(r[2] for r in runs)
    print(
        f"  replay: load {flows:,} chat flows: {total_s:.2f} s ({file_s:.2f} s the file), {peak_mib:.0f} MiB",
        file=sys.stderr,
    )
    met = total_s < LOAD_GOAL_S and peak_mib < MEMORY_GOAL_MIB
    return [
        Row(
            f"replay: load a realistic {flows:,}-flow, {size_mb:.0f} MB recording (load_recording + create_replay_app)",
            f"{total_s:.2f} s ({file_s:.2f} s reading), {peak_mib:.0f} MiB peak RSS",
            goal=f"< {LOAD_GOAL_S:g} s, < {MEMORY_GOAL_MIB // 1024} GiB",
            met="yes" if met else "no (see the notes)",
        )
    ]


def _load(path: Path) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, str(path)],
        capture_output=True, text=True, timeout=300, env=child_env(), cwd=ROOT, check=True,
    )  # fmt: skip
    file_s, total_s, peak = out.stdout.strip().splitlines()[-1].split()
    return float(file_s), float(total_s), float(peak)
