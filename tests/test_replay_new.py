"""Record mode new over real sockets: replay answers what the recording holds, passes the rest on to a live mock
homeserver, and appends those exchanges to a copy of the recording, redacted and linked as `mockmx record` would."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockmx.record import Leg, load_recording
from mockmx.record.writer import RecordingWriter
from mockmx.replay import create_replay_app
from tests.conftest import LiveServer, long_poll_waiters
from tests.test_replay_app import CS, bearer, serve_replay

RECORDED_DEVICE = "RECORDEDDEV"
ALICE_LOGIN = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}}


def _flow(flow_id: int, request: dict[str, Any], status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": flow_id,
        "leg": "client",
        "at": float(flow_id),
        "took": 0.01,
        "request": {"headers": {}, **request},
        "response": {"status": status, "headers": {"content-type": "application/json"}, "body": body},
    }


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A recording as `mockmx record` writes it: alice logs in (a redacted token) and asks who she is."""
    path = tmp_path / "session.yaml"
    header = {
        "mockmx_recording": 1,
        "started_at": "2025-06-01T09:30:00.000Z",
        "recorder": "mockmx 0.1.0, mitmproxy 11.0.2",
        "upstreams": {"client": "http://127.0.0.1:8008"},
        "secrets": "redacted",
    }
    writer = RecordingWriter(path, header)
    login = {"method": "POST", "path": f"{CS}/login", "body": {**ALICE_LOGIN, "password": "<password:1>"}}
    alice = {"user_id": "@alice:localhost", "device_id": RECORDED_DEVICE, "home_server": "localhost"}
    writer.append(_flow(1, login, 200, {**alice, "access_token": "<token:1>"}))
    whoami = {"method": "GET", "path": f"{CS}/account/whoami", "headers": {"authorization": "Bearer <token:1>"}}
    writer.append(_flow(2, whoami, 200, {**alice, "is_guest": False}))
    writer.close()
    return path


def test_new_requests_go_to_the_homeserver_with_a_real_token_and_are_appended_redacted(
    recorded: Path, tmp_path: Path, mock: LiveServer
) -> None:
    original = recorded.read_text()
    out = tmp_path / "session.partial.yaml"
    with (
        serve_replay(load_recording(recorded), unmatched="passthrough", upstream=mock.url, record_new=out) as replay,
        httpx.Client(base_url=replay.url, timeout=10) as client,
    ):
        r = client.post(f"{CS}/login", json={**ALICE_LOGIN, "password": "alice-pass"})
        assert r.status_code == 200, r.text
        assert r.json()["device_id"] == RECORDED_DEVICE  # the recorded answer...
        token = r.json()["access_token"]
        real = httpx.get(f"{mock.url}{CS}/account/whoami", headers=bearer(token))
        assert real.status_code == 200, "...with a token the homeserver itself issued"
        assert client.get(f"{CS}/account/whoami", headers=bearer(token)).json()["device_id"] == RECORDED_DEVICE
        assert not out.exists(), "nothing new yet: no copy"

        rooms = client.get(f"{CS}/joined_rooms", headers=bearer(token))
        assert rooms.status_code == 200, rooms.text
        lobby = rooms.json()["joined_rooms"][0]
        sent = client.put(f"{CS}/rooms/{lobby}/send/m.room.message/new-1", json={"body": "hi"}, headers=bearer(token))
        assert sent.status_code == 200, sent.text
        bob = client.get(f"{CS}/account/whoami", headers=bearer("bob-phone-token"))
        assert bob.json()["user_id"] == "@bob:localhost"
    assert [miss.answer for miss in replay.state.misses] == ["passthrough: 200"] * 3

    assert recorded.read_text() == original
    text = out.read_text()
    assert text.startswith(original)
    for secret in (token, "alice-pass", "bob-phone-token"):
        assert secret not in text
    flows = load_recording(out).flows
    assert [(flow.id, flow.request.method, flow.request.path) for flow in flows[2:]] == [
        (3, "GET", f"{CS}/joined_rooms"),
        (4, "PUT", f"{CS}/rooms/{lobby}/send/m.room.message/new-1"),
        (5, "GET", f"{CS}/account/whoami"),
    ]
    assert [flow.request.header("authorization") for flow in flows[2:]] == [
        "Bearer <token:1>",  # alice's live token is the recording's <token:1>
        "Bearer <token:1>",
        "Bearer <token:2>",  # bob's is new: the next number
    ]
    assert flows[3].links.txn_id == "new-1"
    assert flows[3].response is not None and flows[3].links.returned == {"event_id": flows[3].response.body["event_id"]}
    assert flows[1].at < flows[2].at <= flows[3].at <= flows[4].at


def test_the_extended_recording_replays_the_new_requests_without_a_homeserver(
    recorded: Path, tmp_path: Path, mock: LiveServer
) -> None:
    out = tmp_path / "session.partial.yaml"
    with (
        serve_replay(load_recording(recorded), unmatched="passthrough", upstream=mock.url, record_new=out) as replay,
        httpx.Client(base_url=replay.url, timeout=10) as client,
    ):
        token = client.post(f"{CS}/login", json={**ALICE_LOGIN, "password": "alice-pass"}).json()["access_token"]
        rooms = client.get(f"{CS}/joined_rooms", headers=bearer(token)).json()["joined_rooms"]
        lobby = rooms[0]
        event_id = client.put(
            f"{CS}/rooms/{lobby}/send/m.room.message/first-run", json={"body": "hi"}, headers=bearer(token)
        ).json()["event_id"]

    with (
        serve_replay(load_recording(out), strict=True) as replay,
        httpx.Client(base_url=replay.url, timeout=10) as client,
    ):
        token = client.post(f"{CS}/login", json={**ALICE_LOGIN, "password": "anything"}).json()["access_token"]
        assert client.get(f"{CS}/joined_rooms", headers=bearer(token)).json()["joined_rooms"] == rooms
        again = client.put(
            f"{CS}/rooms/{lobby}/send/m.room.message/second-run", json={"body": "hi"}, headers=bearer(token)
        )
        assert again.json() == {"event_id": event_id}
    replay.state.check()
    assert replay.state.answered == [1, 3, 4]


def test_a_recording_new_flows_cannot_be_appended_to_is_refused_naming_it(tmp_path: Path, mock: LiveServer) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(
        "flows: []\nmockmx_recording: 1\nstarted_at: '2025-06-01T09:30:00.000Z'\n"
        "upstreams: {client: 'http://127.0.0.1:8008'}\n"
    )
    refused = re.escape(f"appends to {path} as mockmx record writes: its last key must be `flows:`")
    with pytest.raises(ValueError, match=refused):
        create_replay_app(path, unmatched="passthrough", upstream=mock.url, record_new=tmp_path / "out.yaml")
    with pytest.raises(ValueError, match=r"record_new .* needs unmatched='passthrough'"):
        create_replay_app(path, record_new=tmp_path / "out.yaml")


def test_a_torn_last_flow_is_left_out_of_the_copy(recorded: Path, tmp_path: Path, mock: LiveServer) -> None:
    whole = recorded.read_text()
    recorded.write_text(whole + "- id: 3\n  leg: client\n  at: 3.0\n  request:\n    meth")  # killed mid-write
    out = tmp_path / "out.yaml"
    with (
        serve_replay(load_recording(recorded), unmatched="passthrough", upstream=mock.url, record_new=out) as replay,
        httpx.Client(base_url=replay.url, timeout=10) as client,
    ):
        assert client.get(f"{CS}/joined_rooms", headers=bearer("alice-token")).status_code == 200
    flows = load_recording(out).flows
    assert out.read_text().startswith(whole)
    assert [(flow.id, flow.leg, flow.request.path) for flow in flows[2:]] == [(3, Leg.CLIENT, f"{CS}/joined_rooms")]


def test_a_long_poll_passed_through_ends_when_the_replay_stops(recorded: Path, mock: LiveServer) -> None:
    polled: dict[str, httpx.Response] = {}
    with serve_replay(load_recording(recorded), unmatched="passthrough", upstream=mock.url) as replay:
        alice = bearer("alice-token")
        since = httpx.get(f"{replay.url}{CS}/sync", headers=alice, timeout=10).json()["next_batch"]

        def poll() -> None:
            params = {"since": since, "timeout": "20000"}
            polled["sync"] = httpx.get(f"{replay.url}{CS}/sync", params=params, headers=alice, timeout=30)

        poller = threading.Thread(target=poll)
        poller.start()
        deadline = time.monotonic() + 10
        while long_poll_waiters(mock) < 1 and time.monotonic() < deadline:  # the homeserver holds the poll now
            time.sleep(0.005)
        assert poller.is_alive(), polled
    poller.join(timeout=5)  # the homeserver would hold it 20 s: only the replay's stop can end it this soon
    assert polled["sync"].status_code == 503, polled["sync"].text
    assert polled["sync"].json()["errcode"] == "M_UNKNOWN"
