#!/usr/bin/env python3
"""Set up and run mockmx with nothing but Python 3.11+.

    python3 dev.py serve [ARGS]   install the pinned runtime into .venv, then `mockmx serve ARGS`
    python3 dev.py test [ARGS]    install the pinned runtime and test tools into .venv, and the JavaScript SDKs and
                                  Node.js 22 into tests/js/node_modules (npm ci), then `pytest ARGS`
    python3 dev.py lock           re-pin requirements/*.lock from pyproject.toml's ranges

Installs happen only when a lock file or pyproject.toml (or tests/js/package*.json) changed since the last one, so
the second run is instant.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCKS = {"runtime": ROOT / "requirements" / "runtime.lock", "test": ROOT / "requirements" / "test.lock"}
PARALLEL = ["-n", "2", "--dist", "loadgroup"]
BUILD_TOOLS = ["setuptools==80.9.0", "wheel==0.45.1"]  # pinned too: the editable install builds with them
JS = ROOT / "tests" / "js"  # package.json and package-lock.json of the JavaScript SDK tests


def python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pip(env: Path, *args: str) -> None:
    subprocess.run([str(python_in(env)), "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


def ensure(kind: str) -> Path:
    """The .venv python, with `kind`'s lock installed (and mockmx itself, editable)."""
    lock = LOCKS[kind]
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{kind}"
    if stamp.exists() and stamp.read_text() == digest:
        return python_in(VENV)
    if not python_in(VENV).exists():
        print(f"dev.py: creating {VENV}", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print(f"dev.py: installing {lock.relative_to(ROOT)}", file=sys.stderr)
    pip(VENV, "install", "-r", str(lock))
    pip(VENV, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT))
    stamp.write_text(digest)
    return python_in(VENV)


def ensure_js() -> None:
    """tests/js/node_modules as package-lock.json pins it, Node.js 22 included (node_modules/.bin/node)."""
    digest = hashlib.sha256((JS / "package.json").read_bytes() + (JS / "package-lock.json").read_bytes()).hexdigest()
    stamp = JS / "node_modules" / ".installed"  # inside node_modules, so that `npm ci` removing it resets it too
    if stamp.exists() and stamp.read_text() == digest:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("dev.py: the tests need npm (any Node.js) to install tests/js/package-lock.json; it is not on PATH")
    print(f"dev.py: installing {(JS / 'package-lock.json').relative_to(ROOT)}", file=sys.stderr)
    # No install scripts: they would download binaries from outside the registry (matrix-bot-sdk's native crypto,
    # which package.json swaps for a stub anyway); Node.js 22 itself comes as a registry package.
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(command, cwd=JS, check=True)
    if not (JS / "node_modules" / ".bin" / ("node.cmd" if os.name == "nt" else "node")).exists():
        sys.exit(
            "dev.py: npm installed no Node.js 22 for this platform (tests/js/package.json lists node-<os>-<cpu> "
            "packages for linux x64 and arm64, macOS x64 and Windows x64)"
        )
    stamp.write_text(digest)


def lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        "runtime": project["dependencies"],
        "test": project["dependencies"] + project["optional-dependencies"]["test"],
    }
    for kind, requirements in wanted.items():
        with tempfile.TemporaryDirectory() as scratch:
            env = Path(scratch)
            venv.create(env, with_pip=True)
            pip(env, "install", *BUILD_TOOLS, *requirements)
            frozen = subprocess.run(
                [str(python_in(env)), "-m", "pip", "freeze", "--all", "--exclude", "pip"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        command = "serve" if kind == "runtime" else "test"
        header = f"# Exact versions for 'python3 dev.py {command}', from pyproject.toml by 'python3 dev.py lock'.\n"
        LOCKS[kind].write_text(header + frozen)
        print(f"dev.py: wrote {LOCKS[kind].relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command == "serve":
        python = ensure("runtime")
        return subprocess.call([str(python), "-m", "mockmx", "serve", *args])
    if command == "test":
        python = ensure("test")
        ensure_js()
        # Both cores (CI has two); the Synapse tests share one worker, so one Synapse serves the whole run.
        chosen = any(arg.startswith(("-n", "--numprocesses")) or arg == "no:xdist" for arg in args)
        parallel = [] if chosen else PARALLEL
        return subprocess.call([str(python), "-m", "pytest", *parallel, *args], cwd=ROOT)
    if command == "lock":
        lock()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
