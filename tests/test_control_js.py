"""A JavaScript test suite (node's own test runner, matrix-js-sdk) drives `mockmx serve` through the control API:
tests/js/control_api.test.mjs resets before each test, injects with /_mockmx/script and asserts through the
journals. The example for projects that test in another language than Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT
from tests.test_sdk_js import JS, NODE

SUITE_TIMEOUT = 120  # seconds


@pytest.fixture
def served_url() -> Iterator[str]:
    """`python -m mockmx serve --port 0` in a process of its own, and the URL its banner names."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockmx", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = None
    for line in process.stdout:
        found = re.search(r"URL: (http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found[1]
            break
    try:
        assert url, "no URL in the banner"
        yield url
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


@pytest.mark.timeout(SUITE_TIMEOUT + 30)
def test_a_node_test_suite_resets_injects_and_asserts_through_the_control_api(served_url: str) -> None:
    if not NODE.exists():
        pytest.fail(f"no Node.js 22 at {NODE}: `python3 dev.py test` installs it (`npm ci --ignore-scripts` in {JS})")
    done = subprocess.run(
        [str(NODE), "--test", "--test-reporter=spec", "--test-concurrency=1", "control_api.test.mjs"],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        env={**os.environ, "MOCKMX_URL": served_url},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert re.search(r"\bpass 6\b", done.stdout), done.stdout[-3000:]  # every test ran, none skipped
