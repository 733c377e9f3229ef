"""A real Synapse for the tests: installed from requirements/synapse.lock into .venv-synapse, run on loopback.

Synapse pins its own dependencies, so it lives in a virtual environment of its own and runs as a subprocess;
the tests only talk to it over HTTP.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import yaml

from mockmx.testing.recorder import free_port

LOCK_FILE = Path("requirements") / "synapse.lock"
VENV_DIR = ".venv-synapse"
SERVER_NAME = "localhost"

# Synapse's defaults (0.2 messages/s, a few logins per hour) would turn a test run into a rate-limit test.
_GENEROUS = {"per_second": 10_000, "burst_count": 100_000}
TEST_CONFIG: Mapping[str, Any] = {
    "trusted_key_servers": [],
    "suppress_key_server_warning": True,
    # Outbound requests to private addresses are refused unless allowed: this lets it push to a loopback gateway.
    "ip_range_whitelist": ["127.0.0.1"],
    "allow_guest_access": True,
    "enable_registration": False,
    "report_stats": False,
    "bcrypt_rounds": 4,  # the default 12 costs about 0.25 s per registration and per login
    "rc_message": _GENEROUS,
    "rc_registration": _GENEROUS,
    "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
    "rc_joins": {"local": _GENEROUS, "remote": _GENEROUS},
    "rc_joins_per_room": _GENEROUS,
    "rc_invites": {"per_room": _GENEROUS, "per_user": _GENEROUS, "per_issuer": _GENEROUS},
    "rc_room_creation": _GENEROUS,
    "rc_presence": {"per_user": _GENEROUS},
    "rc_delayed_event_mgmt": _GENEROUS,
    "rc_key_requests": _GENEROUS,
    "rc_3pid_validation": _GENEROUS,
    "rc_media_create": _GENEROUS,
    "rc_profile": _GENEROUS,
    "rc_reports": _GENEROUS,
    "rc_user_directory": _GENEROUS,
}

# Everything to stderr, unbuffered: the generated log config holds INFO lines back for up to 5 s.
_LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["console"]},
}


def _python_in(env: Path) -> Path:
    return env / "bin" / "python"


def _clean_env() -> dict[str, str]:
    """The environment for Synapse's processes, without this interpreter's import path leaking into that venv."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}


def ensure_synapse_venv(root: Path) -> Path:
    """The python of `<root>/.venv-synapse`, (re)created from requirements/synapse.lock when the lock changed."""
    env = root / VENV_DIR
    lock = root / LOCK_FILE
    digest = hashlib.sha256(lock.read_bytes() + sys.version.encode()).hexdigest()
    stamp = env / ".installed"
    env.mkdir(exist_ok=True)
    # Lock the directory itself (not a file inside it): recreating the venv clears the directory's contents.
    fd = os.open(env, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another pytest process may be installing: wait for it, then re-check
        if stamp.exists() and stamp.read_text() == digest:
            return _python_in(env)
        # A fresh venv, so that packages dropped from the lock do not linger.
        venv.create(env, clear=True, with_pip=True)
        pip = [str(_python_in(env)), "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "install", "-r", str(lock)], check=True, env=_clean_env())
        stamp.write_text(digest)
        return _python_in(env)
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True)
class RegisteredUser:
    """A user created through the shared-secret admin API, already logged in on one device."""

    user_id: str
    access_token: str
    device_id: str


class SynapseServer:
    """A Synapse homeserver on a free loopback port, configured in `workdir`; stopped when the `with` block ends."""

    def __init__(
        self, *, python: Path, workdir: Path, config: Mapping[str, Any] | None = None, start_timeout: float = 60.0
    ) -> None:
        self.python = python
        self.workdir = workdir
        self.config_path = workdir / "homeserver.yaml"
        self.log_path = workdir / "homeserver.log"
        self.port = free_port()
        self.start_timeout = start_timeout
        self._extra_config = dict(config or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._shared_secret = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SynapseServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configuration, start Synapse and wait until it answers `/_matrix/client/versions`."""
        self._configure()
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.workdir,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL after 5 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines Synapse logged, for failure messages."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def register_user(self, localpart: str, password: str, *, admin: bool = False) -> RegisteredUser:
        """Create `@localpart:localhost` through the shared-secret admin API (registration itself stays closed)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with httpx.Client(timeout=10) as client:
            r = client.get(endpoint)
            r.raise_for_status()
            nonce = r.json()["nonce"]
            mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
            mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode()]))
            mac.update(b"\x00admin" if admin else b"\x00notadmin")
            body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
            r = client.post(endpoint, json=body)
            if r.status_code != 200:
                raise RuntimeError(f"registering {localpart!r} failed: {r.status_code} {r.text}")
            answer = r.json()
        return RegisteredUser(answer["user_id"], answer["access_token"], answer["device_id"])

    def _configure(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            subprocess.run(
                [str(self.python), "-m", "synapse.app.homeserver", f"--server-name={SERVER_NAME}",
                 f"--config-path={self.config_path}", "--generate-config", "--report-stats=no"],
                cwd=self.workdir,
                env=_clean_env(),
                check=True,
                capture_output=True,
            )  # fmt: skip
        config: dict[str, Any] = yaml.safe_load(self.config_path.read_text())
        log_config = self.workdir / "log.yaml"
        log_config.write_text(yaml.safe_dump(_LOG_CONFIG))
        # Only a client listener (the admin API rides on it): no federation, and nothing off loopback.
        listener = {
            "port": self.port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }
        config.update(TEST_CONFIG, listeners=[listener], log_config=str(log_config))
        config.update(self._extra_config)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self._shared_secret = config["registration_shared_secret"]

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout
        with httpx.Client(timeout=2) as client:
            while True:
                if (code := process.poll()) is not None:
                    raise RuntimeError(f"Synapse exited with {code} while starting; log:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/_matrix/client/versions").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Synapse did not answer within {self.start_timeout:g} s; log:\n{self.log_tail()}"
                    )
                time.sleep(0.1)


@contextlib.contextmanager
def running_synapse(root: Path, workdir: Path, **config: Any) -> Iterator[SynapseServer]:
    """Install Synapse if needed and run it in `workdir` until the block ends: the body of a `synapse` fixture."""
    with SynapseServer(python=ensure_synapse_venv(root), workdir=workdir, config=config) as server:
        yield server
