"""The `mockmx` command as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m mockmx serve --port 0` in a process of its own, and the URL its banner names."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockmx", "serve", "--port", "0"],
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
    assert url, "no URL in the banner"
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_prints_users_and_tokens_answers_and_logs_each_request(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served
    r = httpx.get(f"{url}/_matrix/client/v3/account/whoami", headers={"Authorization": "Bearer alice-token"})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": "@alice:localhost", "device_id": "ALICEDEV", "is_guest": False}
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert "GET /_matrix/client/v3/account/whoami HTTP/1.1" in output


def test_banner_names_the_default_users_passwords_and_tokens() -> None:
    from mockmx.cli import banner
    from mockmx.scenario.loader import default_scenario

    text = banner(default_scenario(), "http://127.0.0.1:8008")
    for expected in ("@alice:localhost", "alice-pass", "alice-token", "@bob:localhost", "bob-pass", "#lobby:localhost"):
        assert expected in text


def test_ctrl_c_answers_pending_long_polls_and_exits_promptly(served: tuple[subprocess.Popen[str], str]) -> None:
    process, url = served
    answers: list[httpx.Response] = []
    headers = {"Authorization": "Bearer bob-phone-token"}

    def poll() -> None:
        answers.append(
            httpx.get(f"{url}/_matrix/client/v3/events", params={"timeout": 60000}, headers=headers, timeout=70)
        )

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)  # let the poll reach the server and start waiting
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=15)
    poller.join(timeout=15)
    assert process.returncode == 0  # within communicate's 15 s, though the poll asked for 60
    assert [r.status_code for r in answers] == [200]
    assert answers[0].json()["chunk"] == []


def test_serve_refuses_a_bad_scenario_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("server_name: localhost\nrooms:\n  - id: '!r:localhost'\n    members: [nobody]\n")
    result = subprocess.run(
        [sys.executable, "-m", "mockmx", "serve", "--scenario", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert f"{bad}:4:" in result.stderr
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_every_problem_and_passes_good_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "server_name: localhost\nusers:\n  - id: alice\n    pasword: x\nrooms:\n  - id: '!r:localhost'\n"
        "    members: [alice]\n    join_rule: open\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mockmx", "check", str(bad), str(ROOT / "scenarios" / "default.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert f"{bad}:4:" in result.stderr and "pasword" in result.stderr
    assert f"{bad}:8:" in result.stderr and "open" in result.stderr
    assert "default.yaml: ok" in result.stdout
