"""A real headless browser for the inspector's tests: Debian's chromium, driven by Playwright for Python.

Playwright never downloads a browser here: it launches the system's chromium by its path. When chromium is missing,
a root user gets it from apt (as CI runs); anyone else is told what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    """The system chromium, installed with apt first when it is missing and we may (root, Debian)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True)
    if not CHROMIUM.exists():
        pytest.fail(f"the inspector's browser tests need chromium at {CHROMIUM}: `sudo apt-get install chromium`")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium (the system's, never a downloaded one) under Playwright, for a module's tests. Not longer:
    Playwright's sync API keeps an event loop running in the thread while it is open, and every later test that
    calls asyncio.run() in the same process would fail."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the inspector's browser tests need Playwright for Python: pip install playwright")
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
