"""`mockmx replay` as a user runs it: a real process, real HTTP, Ctrl-C, and the exit status strict mode gives."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mockmx.cli import main
from mockmx.record import load_recording, load_recording_text
from mockmx.replay.command import banner
from mockmx.replay.state import ReplayState
from tests.conftest import LiveServer
from tests.test_replay_app import ALICE_LOGIN, CS, EXAMPLE, ROOT

Replaying = tuple[subprocess.Popen[str], str, str]


@pytest.fixture
def replaying() -> Iterator[Callable[..., Replaying]]:
    """Start `python -m mockmx replay <example> --port 0 ARGS...`; the process, the URL its banner names, and the
    banner."""
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Replaying:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockmx", "replay", str(EXAMPLE), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        processes.append(process)
        assert process.stdout is not None
        banner = ""
        # Read the whole banner: communicate(timeout=...) reads the pipe itself, past what this loop buffered.
        for line in process.stdout:
            banner += line
            if line.startswith("Press Ctrl-C"):
                found = re.search(r"URL: (http://127\.0\.0\.1:\d+)", banner)
                assert found, banner
                return process, found[1], banner
        raise AssertionError(f"no whole banner: {banner}")

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_replay_answers_over_http_and_ctrl_c_in_strict_mode_exits_1_naming_the_miss(
    replaying: Callable[..., Replaying],
) -> None:
    process, url, _ = replaying("--strict")
    r = httpx.post(f"{url}{CS}/login", json={**ALICE_LOGIN, "password": "anything"})
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "RYNLRDBLDD"
    r = httpx.get(f"{url}{CS}/joined_rooms", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert r.status_code == 404, r.text
    assert r.json()["errcode"] == "M_UNRECOGNIZED"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 1, output
    assert "answered 1 of 10 recorded requests; 1 unmatched" in output
    assert f"GET {CS}/joined_rooms matched no recorded request" in output


def test_without_strict_misses_are_reported_and_the_exit_is_clean(replaying: Callable[..., Replaying]) -> None:
    process, url, banner = replaying()
    assert "notifications: not re-sent (no --push-to)" in banner
    r = httpx.get(f"{url}{CS}/account/whoami")
    assert r.status_code == 404, r.text
    status = httpx.get(f"{url}/_mockmx/replay").json()
    assert [miss["request"] for miss in status["misses"]] == [f"GET {CS}/account/whoami"]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert "answered 0 of 10 recorded requests; 1 unmatched" in output


def test_record_new_writes_what_passed_through_to_a_copy_of_the_recording(
    replaying: Callable[..., Replaying], mock: LiveServer, tmp_path: Path
) -> None:
    out = tmp_path / "more.yaml"
    process, url, banner = replaying("--unmatched", "passthrough", "--upstream", mock.url, "--record-new", str(out))
    assert f"new flows: appended to a copy of the recording, {out}" in banner
    r = httpx.get(f"{url}{CS}/joined_rooms", headers={"Authorization": "Bearer alice-token"})
    assert r.status_code == 200, r.text
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert f"1 new flows passed through, written to {out}" in output
    recorded = load_recording(EXAMPLE)
    extended = load_recording(out)
    assert out.read_text().startswith(EXAMPLE.read_text())
    [added] = extended.flows[len(recorded.flows) :]
    assert (added.id, added.request.path) == (len(recorded.flows) + 1, f"{CS}/joined_rooms")
    assert added.request.header("authorization") == "Bearer <token:3>"  # the example has <token:1> and <token:2>
    assert "alice-token" not in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unmatched", "ignore"], "invalid choice: 'ignore' (choose from '404', 'error', 'passthrough')"),
        (["--unmatched", "passthrough"], "needs an upstream homeserver URL"),
        (["--push-to", "gateway:8090"], "push_to must be an http:// or https:// URL"),
        (["--token", "bob"], "expected USER=TOKEN, such as @bob:localhost=bob-token; got 'bob'"),
        (["--token", "@nobody:localhost=t"], "the recording has no session of @nobody:localhost"),
    ],
)
def test_bad_options_exit_2_and_say_why(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(["replay", str(EXAMPLE), *args])
    except SystemExit as exit:  # argparse's own verdict on a choice
        status = exit.code  # type: ignore[assignment]
    assert status == 2
    assert message in capsys.readouterr().err


def test_a_recording_that_does_not_load_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("mockmx_recording: 2\n")
    assert main(["replay", str(broken)]) == 2
    assert "broken.yaml:1:" in capsys.readouterr().err


def test_push_to_re_sends_the_notifications_that_followed_a_replayed_request(
    replaying: Callable[..., Replaying], mock: LiveServer
) -> None:
    process, url, banner = replaying("--push-to", mock.url)
    assert f"notifications: re-sent to {mock.url}" in banner
    r = httpx.post(f"{url}{CS}/login", json={**ALICE_LOGIN, "password": "anything"})
    assert r.status_code == 200, r.text
    create = {"visibility": "private", "creation_content": {"m.federate": True}, "is_direct": False}
    create |= {"name": "Recorded", "invite": ["@recbob:localhost"]}
    r = httpx.post(
        f"{url}{CS}/createRoom", json=create, headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while not (journal := httpx.get(f"{mock.url}/_mockmx/notifications").json()["notifications"]):
        assert time.monotonic() < deadline, "the invite's notification never reached the gateway"
        time.sleep(0.05)
    assert [entry["notification"]["membership"] for entry in journal] == ["invite"]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert f"re-sent 1 notification to {mock.url}; 0 answered otherwise" in output


def test_the_banner_says_when_a_torn_last_flow_was_left_out() -> None:
    whole = EXAMPLE.read_text()
    torn = load_recording_text(whole + "- id: 99\n  leg: client\n  at: 9.0\n  request:\n    meth", "torn.yaml")
    line = whole.count("\n") + 1
    text = banner(torn, "http://127.0.0.1:8008", ReplayState(torn))
    assert f"left out: the flow from line {line} on, cut short by a kill while it was written" in text
    assert "left out" not in banner(load_recording(EXAMPLE), "http://127.0.0.1:8008", ReplayState(torn))
