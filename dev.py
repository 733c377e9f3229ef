#!/usr/bin/env python3
"""Set up and run mockmx with nothing but Python 3.11+.

    python3 dev.py serve [ARGS]   install the pinned runtime into .venv, then `mockmx serve ARGS`
    python3 dev.py test [ARGS]    install the pinned runtime and test tools into .venv, and the JavaScript SDKs and
                                  Node.js 22 into tests/js/node_modules (npm ci), then `pytest ARGS`
    python3 dev.py lock           re-pin requirements/*.lock from pyproject.toml's ranges, for each Python in
                                  LOCK_PYTHONS (on PATH as python3.X, or installed by pyenv)

Installs happen only when a lock file or pyproject.toml (or tests/js/package*.json) changed since the last one, so
the second run is instant.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCKS = {
    "runtime": ROOT / "requirements" / "runtime.lock",  # `pip install mockmx`: the mock, replay, the plugin
    "record": ROOT / "requirements" / "record.lock",  # `pip install "mockmx[record]"`: and the recorder
    "test": ROOT / "requirements" / "test.lock",  # everything
}
# Each lock serves all of these: a version that differs between them carries a python_version marker.
LOCK_PYTHONS = ("3.11", "3.12", "3.13")
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
    for other in VENV.glob(".installed-*"):  # the locks pin some packages apart (h11 on 3.11): theirs go stale
        other.unlink()
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


def find_python(version: str) -> str | None:
    """An interpreter for `version` ("3.12"): python3.12 on PATH, else pyenv's."""
    home = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(str(home / "versions" / f"{version}.*" / "bin" / f"python{version}"))),
    ]
    check = f"import sys; sys.exit(f'{{sys.version_info[0]}}.{{sys.version_info[1]}}' != '{version}')"
    for candidate in candidates:
        # A pyenv shim is on PATH for every version pyenv knows, but runs only the active ones.
        if candidate and subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    return None


def freeze(python: str, version: str, requirements: list[str], preferred: dict[str, str]) -> list[str]:
    """What pip installs for `requirements` on `python` (`version`), as name==version lines: the `preferred` pins
    wherever the requirements allow them, so that re-locking moves only what it must."""
    with tempfile.TemporaryDirectory() as scratch:
        env = Path(scratch)
        subprocess.run([python, "-m", "venv", str(env)], check=True)
        wanted = [*BUILD_TOOLS, *requirements]
        dry_run = ["install", "-q", "--dry-run", "--ignore-installed", "--report", "-"]
        report = subprocess.run(
            [str(python_in(env)), "-m", "pip", "--disable-pip-version-check", *dry_run, *wanted],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        names = {package_name(item["metadata"]["name"]) for item in json.loads(report)["install"]}
        # The preferred versions first, without their dependencies; then pip, which upgrades only what the
        # requirements need upgraded (its only-if-needed strategy).
        kept = [preferred[name] for name in sorted(names & preferred.keys())]
        try:
            pip(env, "install", "--no-deps", *kept)
        except subprocess.CalledProcessError:  # one of them does not install on this Python: the others do
            for pin in kept:
                subprocess.run([str(python_in(env)), "-m", "pip", "install", "-q", "--no-deps", pin], check=False)
        pip(env, "install", *wanted)
        frozen = subprocess.run(
            [str(python_in(env)), "-m", "pip", "freeze", "--all", "--exclude", "pip"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return frozen.splitlines()


def package_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins(version: str) -> dict[str, str]:
    """What the locks pin now for Python `version`, as name==version lines by package name."""
    pins: dict[str, str] = {}
    for lock_file in LOCKS.values():
        if not lock_file.exists():
            continue
        for line in lock_file.read_text().splitlines():
            requirement, _, marker = line.partition(";")
            if "==" in requirement and not requirement.startswith("#") and marker_holds(marker, version):
                pins.setdefault(package_name(requirement.split("==")[0]), requirement.strip())
    return pins


def marker_holds(marker: str, version: str) -> bool:
    """Whether a marker `python_marker` wrote (or none) holds for Python `version`."""
    if not marker.strip():
        return True
    here = tuple(int(part) for part in version.split("."))
    for clause in marker.split(" or "):
        operator, quoted = re.fullmatch(r'\s*python_version\s*(==|>=|<)\s*"([\d.]+)"\s*', clause).groups()  # type: ignore[union-attr]
        other = tuple(int(part) for part in quoted.split("."))
        if {"==": here == other, ">=": here >= other, "<": here < other}[operator]:
            return True
    return False


def python_marker(versions: list[str]) -> str:
    """The marker for the LOCK_PYTHONS in `versions`: a range when they are the first or the last ones."""
    if versions == list(LOCK_PYTHONS[-len(versions) :]):
        return f'python_version >= "{versions[0]}"'
    if versions == list(LOCK_PYTHONS[: len(versions)]):
        return f'python_version < "{LOCK_PYTHONS[len(versions)]}"'
    return " or ".join(f'python_version == "{version}"' for version in versions)


def lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def expand(requirements: list[str]) -> list[str]:  # "mockmx[record]" in an extra means that extra's list
        out = []
        for requirement in requirements:
            if requirement.startswith(f"{project['name']}["):
                out += [r for name in requirement.split("[")[1].rstrip("]").split(",") for r in extras[name.strip()]]
            else:
                out.append(requirement)
        return out

    wanted = {
        "runtime": project["dependencies"],
        "record": project["dependencies"] + extras["record"],
        "test": project["dependencies"] + expand(extras["test"]),
    }
    pythons = {version: find_python(version) for version in LOCK_PYTHONS}
    missing = [version for version, python in pythons.items() if python is None]
    if missing:
        sys.exit(f"dev.py: locking needs every Python in LOCK_PYTHONS; not found: {', '.join(missing)}")
    preferred = {version: locked_pins(version) for version in LOCK_PYTHONS}  # before any lock is rewritten
    for kind, requirements in wanted.items():
        pinned: dict[str, list[str]] = {}  # name==version: the Pythons that install it
        for version, python in pythons.items():
            assert python is not None
            for line in freeze(python, version, requirements, preferred[version]):
                pinned.setdefault(line, []).append(version)
        lines = [
            line if versions == list(LOCK_PYTHONS) else f"{line}; {python_marker(versions)}"
            for line, versions in sorted(pinned.items(), key=lambda item: package_name(item[0].split("==")[0]))
        ]
        command = {"runtime": "serve", "test": "test"}.get(kind)
        use = f"'python3 dev.py {command}'" if command else "'pip install \"mockmx[record]\"'"
        header = f"# Exact versions for {use} on Python {', '.join(LOCK_PYTHONS)}, by 'python3 dev.py lock'.\n"
        LOCKS[kind].write_text(header + "\n".join(lines) + "\n")
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
