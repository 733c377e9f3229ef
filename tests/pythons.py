"""The other supported Pythons for the smoke tests: a venv per Python (.venv-py3.12, .venv-py3.13) installed from
requirements/record.lock and pytest's pins in requirements/test.lock, with mockmx itself editable from this tree.

Each is built once and kept while the locks, pyproject.toml and the interpreter stay the same (a stamp in the venv,
as .venv-synapse has); pip's cache makes a rebuild cheap. The interpreters are found as `dev.py lock` finds them:
python3.X on the PATH, else pyenv's.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("record.lock", "test.lock")


@functools.cache
def _dev() -> ModuleType:
    """dev.py, whose LOCK_PYTHONS and find_python say which Pythons the locks serve and where they are."""
    spec = importlib.util.spec_from_file_location("mockmx_dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def other_pythons() -> list[str]:
    """The supported Pythons ("3.12", ...) other than the one running the tests."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return [version for version in _dev().LOCK_PYTHONS if version != running]


def find_python(version: str) -> str | None:
    found: str | None = _dev().find_python(version)
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for another venv's processes, without this interpreter's import path leaking into it."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def ensure_python_venv(version: str) -> Path | None:
    """The bin directory of `.venv-py<version>`, (re)built when a lock, pyproject.toml or the interpreter changed;
    None when this machine has no such Python."""
    python = find_python(version)
    if python is None:
        return None
    env = ROOT / f".venv-py{version}"
    interpreter = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True)
    sources = b"".join((ROOT / "requirements" / name).read_bytes() for name in LOCKS)
    digest = hashlib.sha256(sources + (ROOT / "pyproject.toml").read_bytes() + interpreter.stdout.encode()).hexdigest()
    stamp = env / ".installed"
    env.mkdir(exist_ok=True)
    fd = os.open(env, os.O_RDONLY)  # the directory itself: recreating the venv clears what is inside
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another pytest process may be installing: wait for it, then re-check
        if stamp.exists() and stamp.read_text() == digest:
            return env / "bin"
        subprocess.run([python, "-m", "venv", "--clear", str(env)], check=True, env=clean_env())
        pip = [str(env / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
        requirements = ROOT / "requirements"
        # What `pip install "mockmx[record]"` brings, and the plugin's pytest at the test lock's versions.
        install = ["-r", str(requirements / "record.lock"), "-c", str(requirements / "test.lock"), "pytest"]
        subprocess.run([*pip, *install], check=True, env=clean_env())
        subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True, env=clean_env())
        stamp.write_text(digest)
        return env / "bin"
    finally:
        os.close(fd)


@contextlib.contextmanager
def serving(command: list[str], *, home: Path, timeout: float = 60) -> Iterator[str]:
    """Run a `mockmx serve` or `mockmx replay` command (with --port 0) until the block ends; yields its URL from
    the banner. A RuntimeError with what it printed when it does not start."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(HOME=str(home)),
    )
    lines: list[str] = []
    url: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip().startswith("URL: ") and not url:
                url.append(line.strip().removeprefix("URL: "))
                started.set()
        started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not started.wait(timeout) or not url:
            raise RuntimeError(f"{' '.join(command)} did not start:\n{''.join(lines)}")
        yield url[0]
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()
