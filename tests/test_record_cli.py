"""`mockmx record` as a user runs it: a real process, real listeners, the mock as homeserver and gateway, Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mockmx.cli import main
from mockmx.record import load_recording
from mockmx.testing.recorder import RecorderProcess, free_port, record_command, started_recorder
from tests.conftest import ALICE_TOKEN, BOB_PHONE_TOKEN, LOBBY, LiveServer

ROOT = Path(__file__).resolve().parents[1]
NOTIFY = "/_matrix/push/v1/notify"
CS = "/_matrix/client/v3"


@contextlib.contextmanager
def running_recorder(
    command: list[str],
    *,
    out: Path,
    port: int,
    gateway_port: int | None = None,
    home: Path,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[RecorderProcess]:
    """`command` (a recorder) started as the plugin starts one, with HOME at `home`: mitmproxy keeps its CA in
    ~/.mitmproxy, and the tests leave the user's own alone."""
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home)}
    with started_recorder(
        command, out=out, port=port, gateway_port=gateway_port, env=env, preexec_fn=preexec_fn
    ) as recorder:
        yield recorder


@pytest.fixture
def record_mock(mock: LiveServer, tmp_path: Path) -> Iterator[RecorderProcess]:
    """`mockmx record` in front of the default mock, both as homeserver and as push gateway."""
    out, port, gateway_port = tmp_path / "session.yaml", free_port(), free_port()
    command = record_command(mock.url, out, port, gateway=(mock.url, gateway_port))
    with running_recorder(command, out=out, port=port, gateway_port=gateway_port, home=tmp_path / "home") as recorder:
        yield recorder


def test_a_session_through_the_recorder_lands_in_one_file_both_legs_secrets_out(
    record_mock: RecorderProcess, mock: LiveServer
) -> None:
    recorder = record_mock
    with httpx.Client(base_url=recorder.url, timeout=10) as client:
        login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}}
        r = client.post(f"{CS}/login", json={**login, "password": "alice-pass"})
        assert r.status_code == 200, r.text
        fresh_token = r.json()["access_token"]
        assert fresh_token.startswith("syt_")  # the client gets the real answer; only the file has placeholders
        bob = {"Authorization": f"Bearer {BOB_PHONE_TOKEN}"}
        pusher = {
            "kind": "http",
            "app_id": "org.example.rec",
            "pushkey": "PUSHKEY_REC_CLI",
            "app_display_name": "Rec",
            "device_display_name": "BobPhone",
            "lang": "en",
            "data": {"url": f"{recorder.gateway_url}{NOTIFY}"},
        }
        r = client.post(f"{CS}/pushers/set", json=pusher, headers=bob)
        assert r.status_code == 200, r.text
        r = client.get(f"{CS}/sync", headers=bob)
        assert r.status_code == 200, r.text
        since = r.json()["next_batch"]

    # bob long-polls; alice's send goes through at once all the same, and wakes the poll.
    polled: dict[str, httpx.Response] = {}

    def poll() -> None:
        with httpx.Client(base_url=recorder.url, timeout=30) as poller:
            polled["sync"] = poller.get(f"{CS}/sync", params={"since": since, "timeout": 20000}, headers=bob)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    with httpx.Client(base_url=recorder.url, timeout=10) as client:
        r = client.put(
            f"{CS}/rooms/{LOBBY}/send/m.room.message/rec-cli-1",
            json={"msgtype": "m.text", "body": "through the recorder"},
            headers={"Authorization": f"Bearer {ALICE_TOKEN}"},
        )
        assert r.status_code == 200, r.text  # within the client's 10 s, though bob's poll waits 20 s upstream
        event_id = r.json()["event_id"]
    poller.join(timeout=30)
    assert polled["sync"].status_code == 200, polled["sync"].text
    assert event_id in polled["sync"].text

    deadline = time.monotonic() + 10
    while not mock.gateway.notifications(event_id=event_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.gateway.notifications(event_id=event_id), "the push did not arrive through the recorder"
    time.sleep(0.2)  # the push's answer is on its way back through the recorder

    assert recorder.stop() == 0, recorder.output()
    # The homeserver's pusher keeps its connection to the push leg open; Ctrl-C must not print a traceback for it.
    assert "Traceback" not in recorder.output(), recorder.output()
    text = recorder.out.read_text()
    for secret in ("alice-pass", ALICE_TOKEN, BOB_PHONE_TOKEN, fresh_token):
        assert secret not in text
    recording = load_recording(recorder.out)
    assert recording.upstreams == {"client": mock.url, "push": mock.url}
    paths = [(flow.leg, flow.request.method, flow.request.path) for flow in recording.flows]
    assert paths[:3] == [
        ("client", "POST", f"{CS}/login"),
        ("client", "POST", f"{CS}/pushers/set"),
        ("client", "GET", f"{CS}/sync"),
    ]
    send = next(flow for flow in recording.flows if flow.links.txn_id == "rec-cli-1")
    assert send.links.returned == {"event_id": event_id}
    push = next(flow for flow in recording.flows if flow.leg == "push")
    assert push.request.path == NOTIFY and event_id in push.links.events
    assert recording.returned_by(event_id) == send
    assert push.at >= send.at
    poll_flow = next(flow for flow in recording.flows if flow.request.query.get("since") == since)
    assert poll_flow.links.passed == {"since": 3}
    assert event_id in poll_flow.links.events
    placeholder = send.request.header("authorization")
    assert placeholder is not None and re.fullmatch(r"Bearer <token:\d+>", placeholder)


def test_ctrl_c_with_a_long_poll_pending_stops_at_once_and_keeps_the_request(
    record_mock: RecorderProcess, mock: LiveServer
) -> None:
    recorder = record_mock
    outcome: dict[str, object] = {}

    def poll() -> None:
        headers = {"Authorization": f"Bearer {BOB_PHONE_TOKEN}"}
        with httpx.Client(base_url=recorder.url, headers=headers, timeout=30) as client:
            since = client.get(f"{CS}/sync").json()["next_batch"]
            try:
                outcome["answer"] = client.get(f"{CS}/sync", params={"since": since, "timeout": 25_000})
            except httpx.TransportError as exc:
                outcome["answer"] = exc

    poller = threading.Thread(target=poll)
    poller.start()
    deadline = time.monotonic() + 10
    while len(load_recording(recorder.out).flows) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the second sync is waiting upstream now
    assert recorder.stop() == 0, recorder.output()
    poller.join(timeout=30)
    flows = load_recording(recorder.out).flows
    assert [flow.request.path for flow in flows] == [f"{CS}/sync", f"{CS}/sync"]
    assert flows[1].response is None and flows[1].error
    assert flows[1].links.passed == {"since": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "127.0.0.1:8008"], "--upstream must be an http:// or https:// URL"),
        (["--upstream", "http://x", "--gateway-upstream", "http://y", "--gateway-listen", "8080"], "must differ"),
    ],
)
def test_bad_arguments_are_refused(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", *args, "--out", str(tmp_path / "r.yaml")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.yaml").exists()


def test_a_failed_write_stops_the_recorder_loudly_and_loses_no_answered_flow(mock: LiveServer, tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")
    limit = 24_000  # bytes: mitmproxy's CA files fit, and a few dozen flows

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out, port = tmp_path / "session.yaml", free_port()
    with running_recorder(
        record_command(mock.url, out, port), out=out, port=port, home=tmp_path / "home", preexec_fn=small_files
    ) as recorder:
        answered = 0
        with httpx.Client(base_url=recorder.url, headers={"Authorization": f"Bearer {ALICE_TOKEN}"}) as client:
            for _ in range(500):
                try:
                    r = client.get(f"{CS}/account/whoami", timeout=5)
                except httpx.TransportError:
                    break
                if r.status_code != 200:
                    break
                answered += 1
        assert recorder.process.wait(timeout=10) == 1
        reader_done = time.monotonic() + 5
        while "cannot write" not in recorder.output() and time.monotonic() < reader_done:
            time.sleep(0.05)
    assert 10 < answered < 500
    assert "mockmx record: cannot write to" in recorder.output()
    assert "File too large" in recorder.output()
    assert len(load_recording(out).flows) == answered


@pytest.mark.parametrize("quiet", [False, True])
def test_quiet_leaves_out_the_line_per_flow_not_the_recording(mock: LiveServer, tmp_path: Path, quiet: bool) -> None:
    out, port = tmp_path / "session.yaml", free_port()
    command = record_command(mock.url, out, port) + (["--quiet"] if quiet else [])
    with running_recorder(command, out=out, port=port, home=tmp_path / "home") as recorder:
        r = httpx.get(f"{recorder.url}{CS}/account/whoami", headers={"Authorization": f"Bearer {ALICE_TOKEN}"})
        assert r.status_code == 200, r.text
        assert recorder.stop() == 0, recorder.output()
    assert (f"GET {mock.url}{CS}/account/whoami" in recorder.output()) is not quiet, recorder.output()
    assert f"client leg: {recorder.url}" in recorder.output()
    assert [flow.request.path for flow in load_recording(out).flows] == [f"{CS}/account/whoami"]


def test_the_addon_works_on_its_own_with_mitmdump(mock: LiveServer, tmp_path: Path) -> None:
    import mockmx.record.addon

    out, port = tmp_path / "session.yaml", free_port()
    mitmdump = Path(sys.executable).parent / "mitmdump"
    command = [
        str(mitmdump),
        "-s",
        mockmx.record.addon.__file__,
        "--mode",
        f"reverse:{mock.url}@127.0.0.1:{port}",
        "--set",
        f"mockmx_out={out}",
    ]
    with running_recorder(command, out=out, port=port, home=tmp_path / "home") as recorder:
        r = httpx.get(f"{recorder.url}{CS}/account/whoami", params={"access_token": ALICE_TOKEN}, timeout=10)
        assert r.status_code == 200, r.text
        assert recorder.stop() == 0, recorder.output()
    (flow,) = load_recording(out).flows
    assert flow.request.query == {"access_token": "<token:1>"}
    assert flow.response is not None and flow.response.body["user_id"] == "@alice:localhost"


def test_mitmdump_without_a_file_refuses_to_start(tmp_path: Path) -> None:
    import mockmx.record.addon

    mitmdump = Path(sys.executable).parent / "mitmdump"
    result = subprocess.run(
        [str(mitmdump), "-s", mockmx.record.addon.__file__, "--mode", f"reverse:http://127.0.0.1:1@{free_port()}"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 1, result
    assert "set mockmx_out" in result.stdout + result.stderr
