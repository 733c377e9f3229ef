"""`mockmx record` in a process of its own, for the length of one test."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NOTIFY_PATH = "/_matrix/push/v1/notify"


@dataclass
class RunningRecorder:
    """A recorder between the client and `upstream` (the client leg, on `url`) and between the homeserver and the
    push gateway (the push leg: a pusher's `data.url` is `push_url`)."""

    url: str
    push_url: str
    out: Path
    process: subprocess.Popen[str]
    lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))

    def output(self) -> str:
        return "".join(self.lines)


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_recorder(upstream: str, gateway: str, out: Path, *, timeout: float = 60) -> Iterator[RunningRecorder]:
    """Record the traffic through the yielded recorder into `out` until the block ends; a RuntimeError with the
    recorder's output when it does not start or does not stop cleanly."""
    port, gateway_port = free_port(), free_port()
    command = [sys.executable, "-m", "mockmx", "record", "--upstream", upstream, "--listen", str(port)]
    command += ["--gateway-upstream", gateway, "--gateway-listen", str(gateway_port), "--out", str(out)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    recorder = RunningRecorder(
        f"http://127.0.0.1:{port}", f"http://127.0.0.1:{gateway_port}{NOTIFY_PATH}", out, process
    )
    ready = threading.Event()
    expected = (f"client leg: {recorder.url}", f"push leg: http://127.0.0.1:{gateway_port}")

    def read() -> None:  # also keeps the pipe drained: a full pipe would block the recorder
        assert process.stdout is not None
        for line in process.stdout:
            recorder.lines.append(line)
            if all(text in recorder.output() for text in expected):
                ready.set()

    reader = threading.Thread(target=read, name="mockmx-recorder-output", daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not ready.wait(0.02):
            if process.poll() is not None:
                raise RuntimeError(f"mockmx record exited with status {process.returncode}:\n{recorder.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mockmx record did not start within {timeout} s:\n{recorder.output()}")
        yield recorder
        process.send_signal(signal.SIGINT)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"mockmx record did not stop within {timeout} s:\n{recorder.output()}") from None
        if status != 0:
            raise RuntimeError(f"mockmx record exited with status {status}:\n{recorder.output()}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
