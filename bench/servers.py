"""Server processes for the benchmarks: started on a free loopback port, measured through /proc, always stopped."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 60


@dataclass
class Server:
    """A running server process and the URL it answers on."""

    name: str
    url: str
    process: subprocess.Popen[str]
    started_ms: float  # from spawning the process until it first answered

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int | None:
        """The process's resident memory (Linux /proc; None elsewhere)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def cpu_ticks(self) -> int | None:
        """The CPU time the process has used, in clock ticks (Linux /proc; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[11]) + int(fields[12])  # utime + stime

    def cpu_ms(self) -> float | None:
        ticks = self.cpu_ticks()
        return ticks * 1000 / os.sysconf("SC_CLK_TCK") if ticks is not None else None

    def wait_idle(self, *, quiet_seconds: float = 0.3, timeout: float = 30.0) -> bool:
        """Wait until the process has used no CPU for `quiet_seconds`: it has dealt with everything sent to it."""
        deadline = time.monotonic() + timeout
        last, quiet_since = self.cpu_ticks(), time.monotonic()
        if last is None:
            time.sleep(quiet_seconds * 3)  # no /proc: settle for a pause
            return True
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.cpu_ticks()
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_seconds:
                return True
        return False


def child_env() -> dict[str, str]:
    """This interpreter's environment with the project on the import path, so an uninstalled checkout runs too."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def mock_command(scenario: Path | None) -> list[str]:
    command = [sys.executable, "-m", "mockmx", "serve", "--quiet", "--port", "0"]
    return command + (["--scenario", str(scenario)] if scenario is not None else [])


def limit_command() -> list[str]:
    return [sys.executable, "-m", "bench.limit", "--port", "0"]


def replay_command(recording: Path) -> list[str]:
    return [sys.executable, "-m", "mockmx", "replay", str(recording), "--quiet", "--port", "0"]


@contextlib.contextmanager
def running(name: str, command: list[str], url: str | None = None) -> Iterator[Server]:
    """Start `command`, a server that prints `URL: ...` once bound (or answers at `url`, when given), wait until it
    answers, stop it afterwards."""
    with tempfile.TemporaryFile("w+") as stderr:
        began = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True, env=child_env()
        )
        try:
            if url is None:
                url = _read_url(process)
            else:
                threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
            if url is None or process.poll() is not None:
                stderr.seek(0)
                raise RuntimeError(f"{name} did not start: {' '.join(command)}\n{stderr.read()[-4000:]}")
            _wait_answering(url, process)
            server = Server(name, url, process, (time.perf_counter() - began) * 1000)
            yield server
        finally:
            stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a user stops it; killed if it has not exited after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _read_url(process: subprocess.Popen[str]) -> str | None:
    """The URL the server prints once bound. Its output is read to the end, so a long banner can never block it."""
    found: list[str] = []
    bound = threading.Event()

    def scan() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not found and line.strip().startswith("URL: "):
                found.append(line.split("URL:", 1)[1].strip())
                bound.set()
        bound.set()

    threading.Thread(target=scan, daemon=True).start()
    bound.wait(START_TIMEOUT_SECONDS)
    return found[0] if found else None


def _wait_answering(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with status {process.returncode}")
        try:
            # Any HTTP answer will do (the limit has no /versions): the server is up and routing.
            with urllib.request.urlopen(url + "/_matrix/client/versions", timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def raise_fd_limit(wanted: int) -> None:
    """Let this process and its children (the mock and the fan-out client) hold `wanted` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            raise SystemExit(f"the fan-out needs `ulimit -n` of at least {wanted}; the hard limit here is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve_app(app: Any) -> None:
    """Serve a mockmx app built in this process as `mockmx serve --quiet` would, printing `URL: ...` once bound
    (what `running` waits for): for benchmark worlds built through the homeserver rather than a scenario file."""
    from mockmx.collection import freeze_survivors
    from mockmx.server import MockServer, server_config

    freeze_survivors()
    config = server_config(app, host="127.0.0.1", port=0, quiet=True)
    server = MockServer(config, on_started=lambda url: print(f"URL: {url}", flush=True))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
