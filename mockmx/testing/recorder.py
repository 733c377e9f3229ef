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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mockmx.push.protocol import NOTIFY_PATH


@dataclass
class RecorderProcess:
    """A recorder in a process of its own: its client leg at `url`, its push leg (if any) at `gateway_url`, and
    what it printed so far."""

    process: subprocess.Popen[str]
    out: Path
    url: str
    gateway_url: str | None = None
    lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=2000))

    @property
    def push_url(self) -> str:
        """The push leg's notify URL, for a pusher's `data.url`."""
        assert self.gateway_url is not None, "this recorder has no push leg"
        return self.gateway_url + NOTIFY_PATH

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 15) -> int:
        """Ctrl-C, then wait for the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def record_command(upstream: str, out: Path, port: int, gateway: tuple[str, int] | None = None) -> list[str]:
    """`python -m mockmx record ...` for a client leg on `port` and, given `gateway` (URL, port), a push leg."""
    command = [sys.executable, "-m", "mockmx", "record", "--upstream", upstream, "--listen", str(port)]
    if gateway:
        command += ["--gateway-upstream", gateway[0], "--gateway-listen", str(gateway[1])]
    return [*command, "--out", str(out)]


@contextlib.contextmanager
def started_recorder(
    command: list[str],
    *,
    out: Path,
    port: int,
    gateway_port: int | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[RecorderProcess]:
    """Start `command` (a recorder), wait until it says it listens on every leg, and kill it, if it still runs,
    when the block ends; a RuntimeError with its output when it does not start."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        preexec_fn=preexec_fn,
    )
    gateway_url = f"http://127.0.0.1:{gateway_port}" if gateway_port else None
    recorder = RecorderProcess(process, out, f"http://127.0.0.1:{port}", gateway_url)
    ready = threading.Event()
    expected = [f"client leg: {recorder.url}"] + ([f"push leg: {gateway_url}"] if gateway_url else [])

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
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def running_recorder(upstream: str, gateway: str, out: Path, *, timeout: float = 60) -> Iterator[RecorderProcess]:
    """Record the traffic through the yielded recorder into `out` until the block ends, then stop it with Ctrl-C;
    a RuntimeError with the recorder's output when it does not start or does not stop cleanly."""
    port, gateway_port = free_port(), free_port()
    command = record_command(upstream, out, port, gateway=(gateway, gateway_port))
    with started_recorder(command, out=out, port=port, gateway_port=gateway_port, timeout=timeout) as recorder:
        yield recorder
        try:
            status = recorder.stop(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"mockmx record did not stop within {timeout} s:\n{recorder.output()}") from None
        if status != 0:
            raise RuntimeError(f"mockmx record exited with status {status}:\n{recorder.output()}")
