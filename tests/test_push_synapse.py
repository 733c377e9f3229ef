"""A real homeserver pushing at the mock gateway: Synapse's notifications land in the journal, valid, once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import LiveServer
from tests.synapse import SynapseServer

pytestmark = pytest.mark.synapse

SPEC = Path(__file__).resolve().parents[2] / "shared" / "matrix-spec" / "merged" / "push-gateway.json"
NOTIFY = "/_matrix/push/v1/notify"

LOSES_FIRST_ANSWER = """
server_name: localhost
faults:
  - method: POST
    path: /_matrix/push/v1/notify
    after: 1          # bob's invite goes through; the message after it loses its answer
    times: 1
    status: 502
    lose_answer: true
"""


def _login(server: SynapseServer, localpart: str, password: str) -> httpx.Client:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart}, "password": password}
    r = httpx.post(f"{server.url}/_matrix/client/v3/login", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=30
    )


def _pushing_room(synapse: SynapseServer, prefix: str, gateway_url: str, pushkey: str) -> tuple[httpx.Client, str]:
    """alice and bob in a fresh Synapse room, bob with a pusher at `gateway_url`; alice's client and the room."""
    synapse.register_user(f"{prefix}alice", "pass")
    synapse.register_user(f"{prefix}bob", "pass")
    alice = _login(synapse, f"{prefix}alice", "pass")
    with _login(synapse, f"{prefix}bob", "pass") as bob:
        pusher = {
            "kind": "http",
            "app_id": "com.example.full",
            "pushkey": pushkey,
            "app_display_name": "Ex",
            "device_display_name": "BobPhone",
            "lang": "en",
            "data": {"url": gateway_url + NOTIFY},
        }
        r = bob.post("/_matrix/client/v3/pushers/set", json=pusher)
        assert r.status_code == 200, r.text
        r = alice.post("/_matrix/client/v3/createRoom", json={"invite": [f"@{prefix}bob:localhost"]})
        assert r.status_code == 200, r.text
        room_id = r.json()["room_id"]
        r = bob.post(f"/_matrix/client/v3/join/{room_id}", json={})
        assert r.status_code == 200, r.text
    return alice, room_id


def _wait_for(mock: LiveServer, pushkey: str, ready: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    with mock.client() as client:
        while True:
            r = client.get("/_mockmx/notifications", params={"pushkey": pushkey})
            assert r.status_code == 200, r.text
            kept: list[dict[str, Any]] = r.json()["notifications"]
            if ready(kept) or time.monotonic() > deadline:
                return kept
            time.sleep(0.1)


def _send(alice: httpx.Client, room_id: str, body: str) -> str:
    r = alice.put(
        f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{uuid.uuid4()}",
        json={"msgtype": "m.text", "body": body},
    )
    assert r.status_code == 200, r.text
    event_id: str = r.json()["event_id"]
    return event_id


def _spec_schema() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"the push gateway spec is not at {SPEC}: ../shared is absent")
    spec = json.loads(SPEC.read_text())
    schema: dict[str, Any] = spec["paths"][NOTIFY]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema


def test_synapse_notification_arrives_in_the_journal_and_matches_the_spec(
    synapse: SynapseServer, mock: LiveServer
) -> None:
    alice, room_id = _pushing_room(synapse, "pj", mock.url, "PUSHKEY_PJ")
    try:
        event_id = _send(alice, room_id, "push me")
    finally:
        alice.close()
    kept = _wait_for(
        mock, "PUSHKEY_PJ", lambda entries: any(e["notification"].get("event_id") == event_id for e in entries)
    )
    matching = [entry for entry in kept if entry["notification"].get("event_id") == event_id]
    assert len(matching) == 1, kept
    entry = matching[0]
    assert entry["user_agent"].startswith("Synapse/")
    assert entry["retries"] == 0
    notification = entry["notification"]
    assert notification["room_id"] == room_id
    assert notification["sender"] == "@pjalice:localhost"
    assert notification["content"] == {"msgtype": "m.text", "body": "push me"}
    assert notification["devices"][0]["pushkey"] == "PUSHKEY_PJ"
    assert "url" not in notification["devices"][0]["data"]
    jsonschema.validate({"notification": notification}, _spec_schema())


def test_a_retried_synapse_push_is_kept_once_and_counted(
    synapse: SynapseServer, serve_yaml: Callable[[str], LiveServer]
) -> None:
    # The gateway keeps the first delivery but answers 502, as if the acknowledgement were lost: Synapse retries.
    gateway = serve_yaml(LOSES_FIRST_ANSWER)
    alice, room_id = _pushing_room(synapse, "pr", gateway.url, "PUSHKEY_PR")
    try:
        event_id = _send(alice, room_id, "push me twice")
    finally:
        alice.close()
    kept = _wait_for(
        gateway,
        "PUSHKEY_PR",
        lambda entries: any(e["retries"] and e["notification"].get("event_id") == event_id for e in entries),
    )
    matching = [entry for entry in kept if entry["notification"].get("event_id") == event_id]
    assert [entry["retries"] for entry in matching] == [1], json.dumps(kept, indent=1)
