"""Recording the real thing: matrix-nio against Synapse through the recorder, Synapse pushing to the mock gateway
through the recorder's second listener; and a recorder killed with SIGKILL mid-session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mockmx.record import Flow, Recording, load_recording
from mockmx.testing.recorder import RecorderProcess, free_port, record_command
from tests.conftest import LiveServer
from tests.nio_session import run_session
from tests.synapse import SynapseServer
from tests.test_record_cli import running_recorder

pytestmark = pytest.mark.synapse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "recordings" / "synapse-session.yaml"
NOTIFY = "/_matrix/push/v1/notify"
CS = "/_matrix/client/v3"
# Set to rewrite recordings/synapse-session.yaml from this test's recording.
WRITE_EXAMPLE = os.environ.get("MOCKMX_WRITE_RECORDINGS") == "1"


@pytest.fixture
def recorder(synapse: SynapseServer, mock: LiveServer, tmp_path: Path) -> Iterator[RecorderProcess]:
    """`mockmx record` between a client and Synapse, and between Synapse and the mock push gateway."""
    out, port, gateway_port = tmp_path / "synapse-session.yaml", free_port(), free_port()
    command = record_command(synapse.url, out, port, gateway=(mock.url, gateway_port))
    with running_recorder(command, out=out, port=port, gateway_port=gateway_port, home=tmp_path / "home") as running:
        yield running


def _wait_for_push(mock: LiveServer, event_id: str) -> None:
    deadline = time.monotonic() + 30
    while not mock.gateway.notifications(event_id=event_id):
        assert time.monotonic() < deadline, "Synapse's push never reached the mock gateway"
        time.sleep(0.05)


def _wait_for_flow(out: Path, matches: Callable[[Flow], bool], timeout: float = 10) -> Recording:
    deadline = time.monotonic() + timeout
    while True:
        recording = load_recording(out)
        if any(matches(flow) for flow in recording.flows):
            return recording
        assert time.monotonic() < deadline, "the flow never reached the recording"
        time.sleep(0.05)


def test_a_real_session_is_recorded_with_both_legs_in_order_and_no_secrets(
    synapse: SynapseServer, mock: LiveServer, recorder: RecorderProcess
) -> None:
    passwords = {"recalice": "recalice-Pa55-" + uuid.uuid4().hex[:8], "recbob": "recbob-Pa55-" + uuid.uuid4().hex[:8]}
    registered = [synapse.register_user(localpart, password) for localpart, password in passwords.items()]
    seen = asyncio.run(run_session(recorder.url, recorder.gateway_url, passwords, ping_txn="rec-ping-1"))
    assert seen["send_seconds"] < 5  # a pending long poll held nothing up
    assert seen["messages"] == [("@recalice:localhost", "recorded", seen["event_id"])]
    assert seen["to_device"] == [("@recalice:localhost", "org.example.rec.ping", {"n": 1})]
    _wait_for_push(mock, seen["event_id"])
    _wait_for_flow(recorder.out, lambda flow: flow.leg == "push" and seen["event_id"] in flow.links.events)
    assert recorder.stop() == 0, recorder.output()

    text = recorder.out.read_text()
    secrets = [*passwords.values(), seen["alice_token"], seen["bob_token"], *(user.access_token for user in registered)]
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, leaked
    recording = load_recording(recorder.out)  # checks it against the schema
    assert recording.upstreams == {"client": synapse.url, "push": mock.url}

    flows = recording.flows
    assert [flow.id for flow in flows] == list(range(1, len(flows) + 1))
    assert {flow.leg for flow in flows} == {"client", "push"}
    logins = [flow for flow in flows if flow.request.path == f"{CS}/login" and flow.request.method == "POST"]
    assert [flow.request.body["password"] for flow in logins] == ["<password:1>", "<password:2>"]
    alice_token = logins[0].response.body["access_token"]  # type: ignore[union-attr]
    assert re.fullmatch(r"<token:\d+>", alice_token)

    send = recording.returned_by(seen["event_id"])
    assert send is not None and send.links.txn_id and send.request.header("authorization") == f"Bearer {alice_token}"
    pushes = [flow for flow in flows if flow.leg == "push" and seen["event_id"] in flow.links.events]
    assert pushes and all(push.request.path == NOTIFY and push.at >= send.at for push in pushes)
    assert (pushes[0].request.header("user-agent") or "").startswith("Synapse/")
    assert pushes[0].request.body["notification"]["devices"][0]["pushkey"] == "PUSHKEY_REC_BOB"
    polls = [flow for flow in flows if seen["event_id"] in flow.links.events and flow.request.path == f"{CS}/sync"]
    assert polls and all(poll.links.passed["since"] is not None for poll in polls)
    to_device = next(flow for flow in flows if flow.links.txn_id == "rec-ping-1")
    assert to_device.request.path.startswith(f"{CS}/sendToDevice/org.example.rec.ping/")

    if WRITE_EXAMPLE:
        EXAMPLE.parent.mkdir(exist_ok=True)
        shutil.copyfile(recorder.out, EXAMPLE)


def test_a_recorder_killed_with_sigkill_keeps_every_completed_flow(
    synapse: SynapseServer, recorder: RecorderProcess
) -> None:
    synapse.register_user("reckill", "reckill-Pa55-word")
    with httpx.Client(base_url=recorder.url, timeout=10) as client:
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "reckill"}}
        r = client.post(f"{CS}/login", json={**body, "password": "reckill-Pa55-word"})
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.post(f"{CS}/createRoom", json={"name": "kill"}, headers=auth)
        assert r.status_code == 200, r.text
        room_id = r.json()["room_id"]
        r = client.get(f"{CS}/sync", headers=auth)
        assert r.status_code == 200, r.text
        since = r.json()["next_batch"]

    completed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send(worker: int) -> None:
        with httpx.Client(base_url=recorder.url, headers=auth, timeout=10) as sender:
            for n in range(1000):
                if stop.is_set():
                    return
                txn_id = f"rec-kill-{worker}-{n}"
                try:
                    r = sender.put(
                        f"{CS}/rooms/{room_id}/send/m.room.message/{txn_id}", json={"msgtype": "m.text", "body": txn_id}
                    )
                except httpx.TransportError:
                    return
                assert r.status_code == 200, r.text
                with lock:
                    completed.append(txn_id)

    def long_poll() -> None:
        with contextlib.suppress(httpx.TransportError), httpx.Client(base_url=recorder.url, timeout=30) as poller:
            poller.get(f"{CS}/sync", params={"since": since, "timeout": 30_000}, headers=auth)

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(4)]
    threads.append(threading.Thread(target=long_poll))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(completed) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    recorder.process.send_signal(signal.SIGKILL)  # halfway through: sends in flight, a long poll pending
    recorder.process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    with lock:
        answered = set(completed)
    assert len(answered) >= 40
    recording = load_recording(recorder.out)
    recorded = {flow.links.txn_id for flow in recording.flows if flow.response and flow.response.status == 200}
    missing = answered - recorded
    assert not missing, f"{len(missing)} answered sends are not in the recording: {sorted(missing)[:5]}"
    assert recording.flows[0].request.path == f"{CS}/login"
