"""A real client library against the mock: matrix-nio logs in, sends, and syncs over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nio import (
    AsyncClient,
    LoginResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    ToDeviceMessage,
    ToDeviceResponse,
    UnknownToDeviceEvent,
)

from tests.conftest import ALICE, BOB, LOBBY, LiveServer


async def _login(url: str, user: str, password: str, device_id: str) -> AsyncClient:
    client = AsyncClient(url, user, device_id=device_id)
    response = await client.login(password, device_name=f"{device_id} (nio)")
    assert isinstance(response, LoginResponse), response
    return client


async def _collect(client: AsyncClient, syncs: int) -> tuple[list[Any], list[Any]]:
    """Room messages and to-device events from `syncs` long-polling syncs, each continuing from the last."""
    messages, to_device = [], []
    for _ in range(syncs):
        response = await client.sync(timeout=300)
        assert isinstance(response, SyncResponse), response
        room = response.rooms.join.get(LOBBY)
        if room is not None:
            messages += [event for event in room.timeline.events if isinstance(event, RoomMessageText)]
        to_device += [event for event in response.to_device_events if isinstance(event, UnknownToDeviceEvent)]
    return messages, to_device


async def _conversation(url: str) -> None:
    alice = await _login(url, ALICE, "alice-pass", "ALICENIO")
    bob = await _login(url, BOB, "bob-pass", "BOBNIO")
    try:
        first = await bob.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first
        assert LOBBY in first.rooms.join
        assert bob.rooms[LOBBY].display_name == "Lobby"

        sent = await alice.room_send(LOBBY, "m.room.message", {"msgtype": "m.text", "body": "hello from nio"})
        assert isinstance(sent, RoomSendResponse), sent
        to_device = ToDeviceMessage("org.example.ping", BOB, "BOBNIO", {"n": 1})
        delivered = await alice.to_device(to_device)
        assert isinstance(delivered, ToDeviceResponse), delivered

        messages, pings = await _collect(bob, syncs=3)
        assert [(m.sender, m.body, m.event_id) for m in messages] == [(ALICE, "hello from nio", sent.event_id)]
        assert [(p.sender, p.source["type"], p.source["content"]) for p in pings] == [
            (ALICE, "org.example.ping", {"n": 1})
        ]
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.timeout(60)
def test_two_nio_clients_see_a_message_and_a_to_device_message_exactly_once(mock: LiveServer) -> None:
    asyncio.run(_conversation(mock.url))
