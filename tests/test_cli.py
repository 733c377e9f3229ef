"""The `mockmx` command as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import json
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


def serve_process(*args: str, stderr: int = subprocess.STDOUT) -> subprocess.Popen[str]:
    """`python -m mockmx serve --port 0 ARGS` in a process of its own, its output unbuffered."""
    return subprocess.Popen(
        [sys.executable, "-m", "mockmx", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m mockmx serve --port 0` in a process of its own, and the URL its banner names."""
    process = serve_process()
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
        process.stdout.close()


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


def mockmx_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockmx", *args], capture_output=True, text=True, timeout=30, cwd=ROOT)


def test_the_banner_comes_first_and_alone() -> None:
    process = serve_process()
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # up to the banner's last line, then stop the server
        lines.append(line)
        if "Ctrl-C" in line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=10)
    output = "".join(lines) + rest
    assert lines[0].startswith("mockmx 0.1.0: homeserver 'localhost' from the default scenario"), output
    assert output.count("Ctrl-C") == 1, output  # uvicorn's own "Press CTRL+C to quit" line is not there
    assert "Uvicorn running" not in output and "Application startup" not in output and "Shutting down" not in output


def test_the_banner_names_the_default_scenario_in_words() -> None:
    from mockmx.cli import banner
    from mockmx.scenario.loader import default_scenario

    first = banner(default_scenario(), "http://127.0.0.1:8008").splitlines()[0]
    assert first == "mockmx 0.1.0: homeserver 'localhost' from the default scenario"


def test_a_port_in_use_is_one_line_suggesting_port_0(served: tuple[subprocess.Popen[str], str]) -> None:
    _, url = served
    port = url.rsplit(":", 1)[1]
    result = mockmx_command("serve", "--port", port)
    assert result.returncode == 2
    assert result.stderr == (
        f"mockmx serve: port {port} on 127.0.0.1 is in use; stop what uses it, or choose --port (--port 0 picks a "
        "free one)\n"
    )
    assert result.stdout == ""


def test_a_wrong_option_shows_the_command_s_own_usage() -> None:
    result = mockmx_command("serve", "--prot", "9000")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: mockmx serve ")
    assert "mockmx serve: error: unrecognized arguments: --prot 9000" in result.stderr


def test_check_counts_in_words() -> None:
    result = mockmx_command("check", str(ROOT / "scenarios" / "flaky-homeserver.yaml"))
    assert result.returncode == 0, result.stderr
    assert "(1 user, 1 room, 0 scripted events, 3 fault rules)" in result.stdout


def test_binding_beyond_loopback_warns_and_the_banner_says_so() -> None:
    process = serve_process("--host", "0.0.0.0", stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        warning = process.stderr.readline()
        url_line = next(line for line in process.stdout if "URL:" in line)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert warning.startswith("mockmx serve: warning: listening on 0.0.0.0, reachable from other machines")
    assert "fixed access tokens and passwords" in warning
    assert url_line.rstrip().endswith("(reachable from other machines)")


def test_the_log_says_when_a_fault_rule_acts_and_a_scripted_event_runs(tmp_path: Path) -> None:
    scenario = tmp_path / "busy.yaml"
    scenario.write_text(
        "server_name: localhost\n"
        "users: [{id: alice, devices: [{id: A, access_token: alice-token}]}]\n"
        "rooms: [{id: '!r:localhost', members: [alice]}]\n"
        "script: [{after: 0s, sender: alice, room: '!r:localhost', say: tick}]\n"
        "faults: [{path: /_matrix/client/v3/joined_rooms, times: 1, status: 502}]\n"
    )
    process = serve_process("--scenario", str(scenario))
    assert process.stdout is not None
    try:
        url = next(found[1] for line in process.stdout if (found := re.search(r"URL: (http://\S+)", line)))
        headers = {"Authorization": "Bearer alice-token"}
        assert httpx.get(f"{url}/_matrix/client/v3/joined_rooms", headers=headers).status_code == 502
        # The scripted event is in the room by the time a sync shows it; its log line came before.
        body = httpx.get(f"{url}/_matrix/client/v3/sync", headers=headers).json()
        assert "tick" in json.dumps(body["rooms"]["join"]["!r:localhost"]["timeline"])
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert "fault rule (scenario rule at line 5) acts on GET /_matrix/client/v3/joined_rooms: 502 M_UNKNOWN" in output
    assert re.search(r"scripted event: @alice:localhost sent m\.room\.message \$\S+ in !r:localhost", output)
