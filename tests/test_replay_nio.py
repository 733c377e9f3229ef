"""A real client against a real replay server: matrix-nio runs the session recorded from Synapse (the steps of
tests/test_record_synapse.py, with fresh transaction ids) and sees the recorded answers; with a gateway to push to,
the recorded notifications reach it. No Synapse needed: the committed recording is the homeserver."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from nio import (
    AsyncClient,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    ToDeviceMessage,
    ToDeviceResponse,
    UnknownToDeviceEvent,
)

from mockmx.record import load_recording
from tests.conftest import LiveServer
from tests.test_replay_app import CS, EXAMPLE, ROOM, SENT_EVENT, serve_replay

NOTIFY = "/_matrix/push/v1/notify"
INVITE_EVENT = "$ib9fJaw5PIDUpEjWyUzUi1nyEH3A8JF_kKIZo29mdvs"


async def _login(url: str, localpart: str) -> AsyncClient:
    client = AsyncClient(url, f"@{localpart}:localhost")
    # The recording holds no passwords, only placeholders: any password will do.
    response = await client.login(f"{localpart}-{uuid.uuid4().hex[:8]}", device_name=f"{localpart} (nio)")
    assert isinstance(response, LoginResponse), response
    return client


async def _sync_until(client: AsyncClient) -> tuple[list[RoomMessageText], list[UnknownToDeviceEvent], list[str]]:
    messages: list[RoomMessageText] = []
    to_device: list[UnknownToDeviceEvent] = []
    batches: list[str] = []
    for _ in range(10):
        response = await client.sync(timeout=10_000)
        assert isinstance(response, SyncResponse), response
        batches.append(response.next_batch)
        for room in response.rooms.join.values():
            messages += [event for event in room.timeline.events if isinstance(event, RoomMessageText)]
        to_device += [event for event in response.to_device_events if isinstance(event, UnknownToDeviceEvent)]
        if messages and to_device:
            break
    return messages, to_device, batches


async def _session(url: str, gateway_url: str) -> dict[str, Any]:
    """What tests/test_record_synapse.py did through the recorder, against `url`."""
    alice = await _login(url, "recalice")
    bob = await _login(url, "recbob")
    try:
        pusher = {
            "kind": "http",
            "app_id": "org.example.rec",
            "pushkey": "PUSHKEY_REC_BOB",
            "app_display_name": "Rec",
            "device_display_name": "BobPhone",
            "lang": "en",
            "data": {"url": f"{gateway_url}{NOTIFY}"},
        }
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            r = await http.post(
                f"{CS}/pushers/set", json=pusher, headers={"Authorization": f"Bearer {bob.access_token}"}
            )
            assert r.status_code == 200, r.text

        created = await alice.room_create(name="Recorded", invite=["@recbob:localhost"])
        assert isinstance(created, RoomCreateResponse), created
        joined = await bob.join(created.room_id)
        assert isinstance(joined, JoinResponse), joined
        first = await bob.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first

        polling = asyncio.create_task(_sync_until(bob))
        await asyncio.sleep(0.3)
        sent = await alice.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "recorded"})
        assert isinstance(sent, RoomSendResponse), sent
        ping = ToDeviceMessage("org.example.rec.ping", "@recbob:localhost", bob.device_id, {"n": 1})
        delivered = await alice.to_device(ping, tx_id=str(uuid.uuid4()))
        assert isinstance(delivered, ToDeviceResponse), delivered
        messages, to_device, batches = await polling
        return {
            "devices": (alice.device_id, bob.device_id),
            "room_id": created.room_id,
            "event_id": sent.event_id,
            "first_batch": first.next_batch,
            "batches": batches,
            "timeline": [event.event_id for event in first.rooms.join[created.room_id].timeline.events],
            "messages": [(m.sender, m.body, m.event_id) for m in messages],
            "to_device": [(e.sender, e.source["type"], e.source["content"]) for e in to_device],
            "display_name": bob.rooms[created.room_id].display_name,
        }
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.timeout(60)
def test_nio_replays_the_synapse_session_and_sees_the_recorded_answers() -> None:
    recording = load_recording(EXAMPLE)
    with serve_replay(recording, strict=True) as replay:
        seen = asyncio.run(_session(replay.url, "http://127.0.0.1:9"))
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
        started = time.monotonic()
        asyncio.run(_session(replay.url, mock.url))
        assert replay.state.wait_for_pushes(timeout=10), replay.state.pushes
        assert time.monotonic() - started < 30

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
        asyncio.run(_session(replay.url, rejecting.url))
        assert replay.state.wait_for_pushes(timeout=10)
    pushes = replay.state.pushes
    assert [push.ok for push in pushes] == [False, False]
    assert pushes[0].differences == ("body field rejected[0]: recorded nothing, got 'PUSHKEY_REC_BOB'",)
    with pytest.raises(AssertionError, match="the gateway answered otherwise"):
        replay.state.check()
