"""The matrix-nio session the recorder test records from Synapse and the replay test plays again: one script,
so replay runs exactly the client that was recorded."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
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

NOTIFY = "/_matrix/push/v1/notify"
CS = "/_matrix/client/v3"


async def _login(url: str, localpart: str, password: str) -> AsyncClient:
    client = AsyncClient(url, f"@{localpart}:localhost")
    response = await client.login(password, device_name=f"{localpart} (nio)")
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


async def run_session(url: str, gateway_url: str, passwords: dict[str, str], *, ping_txn: str) -> dict[str, Any]:
    """recalice and recbob at `url`: bob sets a pusher at `gateway_url`, alice makes a room and invites him, he joins
    and long-polls while she sends a message and a to-device message. Returns what the clients saw."""
    alice = await _login(url, "recalice", passwords["recalice"])
    bob = await _login(url, "recbob", passwords["recbob"])
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

        # bob's long poll is pending while alice sends: her requests must go through at once all the same.
        polling = asyncio.create_task(_sync_until(bob))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        sent = await alice.room_send(created.room_id, "m.room.message", {"msgtype": "m.text", "body": "recorded"})
        assert isinstance(sent, RoomSendResponse), sent
        send_seconds = time.monotonic() - started
        ping = ToDeviceMessage("org.example.rec.ping", "@recbob:localhost", bob.device_id, {"n": 1})
        delivered = await alice.to_device(ping, tx_id=ping_txn)
        assert isinstance(delivered, ToDeviceResponse), delivered
        messages, to_device, batches = await polling
        return {
            "devices": (alice.device_id, bob.device_id),
            "alice_token": alice.access_token,
            "bob_token": bob.access_token,
            "room_id": created.room_id,
            "event_id": sent.event_id,
            "send_seconds": send_seconds,
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
