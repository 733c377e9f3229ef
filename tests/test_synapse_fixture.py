"""The real-Synapse fixture works: users register, log in, talk in a room, and see it in /sync."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.synapse import SynapseServer

pytestmark = pytest.mark.synapse


def login(server: SynapseServer, localpart: str, password: str) -> httpx.Client:
    """An HTTP client for `server` carrying the token of a fresh m.login.password login."""
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart}, "password": password}
    r = httpx.post(f"{server.url}/_matrix/client/v3/login", json=body, timeout=10)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def timeline_bodies(sync: dict[str, Any], room_id: str) -> list[str]:
    room = sync.get("rooms", {}).get("join", {}).get(room_id, {})
    return [event["content"].get("body", "") for event in room.get("timeline", {}).get("events", [])]


def test_bob_sees_alices_message_in_sync(synapse: SynapseServer) -> None:
    alice_user = synapse.register_user("alice", "alice-pass")
    synapse.register_user("bob", "bob-pass")
    assert alice_user.user_id == "@alice:localhost"

    with login(synapse, "alice", "alice-pass") as alice, login(synapse, "bob", "bob-pass") as bob:
        r = alice.post("/_matrix/client/v3/createRoom", json={"invite": ["@bob:localhost"]})
        assert r.status_code == 200, r.text
        room_id = r.json()["room_id"]
        r = bob.post(f"/_matrix/client/v3/join/{room_id}", json={})
        assert r.status_code == 200, r.text

        r = bob.get("/_matrix/client/v3/sync", params={"timeout": 0})
        assert r.status_code == 200, r.text
        since = r.json()["next_batch"]

        message = {"msgtype": "m.text", "body": "hello bob"}
        r = alice.put(f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{uuid.uuid4()}", json=message)
        assert r.status_code == 200, r.text

        bodies: list[str] = []
        deadline = time.monotonic() + 20
        while "hello bob" not in bodies and time.monotonic() < deadline:
            r = bob.get("/_matrix/client/v3/sync", params={"since": since, "timeout": 5000})
            assert r.status_code == 200, r.text
            since = r.json()["next_batch"]
            bodies += timeline_bodies(r.json(), room_id)
        assert "hello bob" in bodies


def test_wrong_password_is_forbidden(synapse: SynapseServer) -> None:
    synapse.register_user("carol", "carol-pass")
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"}, "password": "nope"}
    r = httpx.post(f"{synapse.url}/_matrix/client/v3/login", json=body, timeout=10)
    assert r.status_code == 403, r.text
    assert r.json()["errcode"] == "M_FORBIDDEN"
