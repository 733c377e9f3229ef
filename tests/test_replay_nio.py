"""A real client against a real replay server: matrix-nio runs the session recorded from Synapse (the steps of
tests/test_record_synapse.py, with fresh transaction ids) and sees the recorded answers; with a gateway to push to,
the recorded notifications reach it. No Synapse needed: the committed recording is the homeserver."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from mockmx.record import load_recording
from tests.conftest import LiveServer
from tests.nio_session import run_session
from tests.test_replay_app import EXAMPLE, ROOM, SENT_EVENT, serve_replay

NOTIFY = "/_matrix/push/v1/notify"
INVITE_EVENT = "$ib9fJaw5PIDUpEjWyUzUi1nyEH3A8JF_kKIZo29mdvs"


def _replay_session(url: str, gateway_url: str) -> dict[str, Any]:
    # The recording holds no passwords, only placeholders: any password will do; and a fresh to-device txnId.
    passwords = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("recalice", "recbob")}
    return asyncio.run(run_session(url, gateway_url, passwords, ping_txn=str(uuid.uuid4())))


@pytest.mark.timeout(60)
def test_nio_replays_the_synapse_session_and_sees_the_recorded_answers() -> None:
    recording = load_recording(EXAMPLE)
    with serve_replay(recording, strict=True) as replay:
        seen = _replay_session(replay.url, "http://127.0.0.1:9")
    assert seen["devices"] == ("RYNLRDBLDD", "PDMVDCQYQD")
    assert seen["room_id"] == ROOM
    assert seen["event_id"] == SENT_EVENT
    assert seen["first_batch"] == "s10_2_0_1_1_1_1_5_0_1_1_1_1_1"
    assert seen["batches"] == ["s11_3_0_1_1_1_1_5_0_1_1_1_1_1", "s11_3_0_1_1_1_2_5_0_1_1_1_1_1"]
    recorded_first_sync = recording.flow(7).response
    assert recorded_first_sync is not None
    timeline = recorded_first_sync.body["rooms"]["join"][ROOM]["timeline"]["events"]
    assert seen["timeline"] == [event["event_id"] for event in timeline]
    assert seen["messages"] == [("@recalice:localhost", "recorded", SENT_EVENT)]
    assert seen["to_device"] == [("@recalice:localhost", "org.example.rec.ping", {"n": 1})]
    assert seen["display_name"] == "Recorded"
    state = replay.state
    assert state.misses == []
    assert state.unplayed() == []
    state.check()


@pytest.mark.timeout(60)
def test_push_replay_delivers_the_recorded_notifications_to_the_gateway(mock: LiveServer) -> None:
    recording = load_recording(EXAMPLE)
    with serve_replay(recording, push_to=mock.url, strict=True) as replay:
        _replay_session(replay.url, mock.url)
        assert replay.state.wait_for_pushes(timeout=10), replay.state.pushes

    journal = httpx.get(f"{mock.url}/_mockmx/notifications").json()["notifications"]
    recorded = [flow.request.body["notification"] for flow in recording.flows if flow.leg == "push"]
    assert [entry["notification"] for entry in journal] == recorded
    assert [entry["notification"]["event_id"] for entry in journal] == [INVITE_EVENT, SENT_EVENT]
    assert all(entry["user_agent"].startswith("Synapse/") for entry in journal)

    pushes = replay.state.pushes
    assert [(push.flow_id, push.trigger, push.ok) for push in pushes] == [(5, 4, True), (10, 8, True)]
    assert all(push.url == mock.url + NOTIFY and push.status == 200 for push in pushes)
    replay.state.check()


def test_a_gateway_that_answers_otherwise_is_reported(serve_yaml: Any) -> None:
    rejecting = serve_yaml("mockmx: 1\nserver_name: localhost\ngateway:\n  reject:\n    - pushkey: PUSHKEY_REC_BOB\n")
    recording = load_recording(EXAMPLE)
    with serve_replay(recording, push_to=f"{rejecting.url}{NOTIFY}", strict=True) as replay:
        _replay_session(replay.url, rejecting.url)
        assert replay.state.wait_for_pushes(timeout=10)
    pushes = replay.state.pushes
    assert [push.ok for push in pushes] == [False, False]
    assert pushes[0].differences == ("body field rejected[0]: recorded nothing, got 'PUSHKEY_REC_BOB'",)
    with pytest.raises(AssertionError, match="the gateway answered otherwise"):
        replay.state.check()
