"""The mock as an encrypted participant: a scenario device with a real Olm account publishes its keys, sends its
scripted messages encrypted, and decrypts what a client sends it. The client here is an Olm device of the tests'
own, speaking the wire protocol over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockmx.crypto.olm_device import OlmDevice
from mockmx.homeserver.signing import verify
from tests.conftest import ALICE, BOB, LiveServer, assert_error, sync

V3 = "/_matrix/client/v3"
SECRET = "!secret:localhost"

SCENARIO = """
mockmx: 1
server_name: localhost
users:
  - id: alice
    password: alice-pass
    devices: [{id: ALICEDEV, access_token: alice-token}]
  - id: bob
    devices: [{id: BOBBOT, encrypted: true, one_time_keys: 5}]
rooms:
  - id: "!secret:localhost"
    members: [bob, alice]
    timeline:
      - sender: bob
        type: m.room.encryption
        state_key: ""
        content: {algorithm: m.megolm.v1.aes-sha2}
script:
  # Repeated, so that it reaches the client's device whenever that device has published its keys.
  - after: 0.2s
    every: 0.2s
    count: 100
    sender: bob
    room: "!secret:localhost"
    say: hello from bob
"""


def publish(client: httpx.Client, device: OlmDevice, one_time_keys: int = 5) -> None:
    body = {"device_keys": device.device_keys(), "one_time_keys": device.new_one_time_keys(one_time_keys)}
    r = client.post(f"{V3}/keys/upload", json=body)
    assert r.status_code == 200, r.text


def until(found: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)
    return result


@pytest.fixture
def mock(serve_yaml: Callable[[str], LiveServer]) -> LiveServer:
    """The encrypted scenario: alice (a client) and bob (the mock's encrypted user) in an encrypted room."""
    return serve_yaml(SCENARIO)


def test_the_encrypted_device_publishes_signed_keys(mock: LiveServer) -> None:
    with mock.client("alice-token") as alice:
        r = alice.post(f"{V3}/keys/query", json={"device_keys": {BOB: []}})
        keys = r.json()["device_keys"][BOB]["BOBBOT"]
        ed25519 = keys["keys"]["ed25519:BOBBOT"]
        assert verify(keys, BOB, "ed25519:BOBBOT", ed25519)
        r = alice.post(f"{V3}/keys/claim", json={"one_time_keys": {BOB: {"BOBBOT": "signed_curve25519"}}})
        ((key_id, key),) = r.json()["one_time_keys"][BOB]["BOBBOT"].items()
        assert key_id.startswith("signed_curve25519:")
        assert verify(key, BOB, "ed25519:BOBBOT", ed25519)
        # A claimed key is replaced at once: bob keeps five published.
        assert mock.homeserver.keys.one_time_key_counts(BOB, "BOBBOT") == {"signed_curve25519": 5}


def test_a_client_decrypts_what_the_encrypted_user_says(mock: LiveServer) -> None:
    device = OlmDevice(ALICE, "ALICEDEV")
    with mock.client("alice-token") as alice:
        since = sync(alice)["next_batch"]
        publish(alice, device)
        room_key = None
        plaintext = None
        while plaintext is None:
            body = sync(alice, since, timeout=5000)
            since = body["next_batch"]
            for message in body["to_device"]["events"]:
                assert (message["sender"], message["type"]) == (BOB, "m.room.encrypted")
                payload = device.olm_decrypt(message["content"])
                assert payload is not None
                assert (payload["type"], payload["sender"], payload["recipient"]) == ("m.room_key", BOB, ALICE)
                room_key = payload["content"]
                device.add_room_key("m.room_key", room_key)
            timeline = body["rooms"]["join"].get(SECRET, {}).get("timeline", {}).get("events", [])
            for event in timeline:
                if event["type"] == "m.room.encrypted" and device.can_decrypt(event["content"]["session_id"]):
                    plaintext = device.megolm_decrypt(event["content"])
    assert room_key is not None and room_key["room_id"] == SECRET
    assert plaintext == {
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "hello from bob"},
        "room_id": SECRET,
    }
    # The room holds ciphertext only.
    assert {event["type"] for event in mock.room_events(SECRET, sender=BOB)} == {"m.room.encrypted"}


def test_the_encrypted_user_decrypts_what_a_client_sends(mock: LiveServer) -> None:
    device = OlmDevice(ALICE, "ALICEDEV")
    with mock.client("alice-token") as alice:
        bob_keys = alice.post(f"{V3}/keys/query", json={"device_keys": {BOB: []}}).json()["device_keys"][BOB]["BOBBOT"]
        claimed = alice.post(f"{V3}/keys/claim", json={"one_time_keys": {BOB: {"BOBBOT": "signed_curve25519"}}})
        ((one_time_key,),) = [[key["key"] for key in claimed.json()["one_time_keys"][BOB]["BOBBOT"].values()]]
        device.start_olm_session(bob_keys["keys"]["curve25519:BOBBOT"], one_time_key)
        to_bob = device.olm_encrypt(BOB, bob_keys, "m.room_key", device.room_key(SECRET))
        r = alice.put(f"{V3}/sendToDevice/m.room.encrypted/t1", json={"messages": {BOB: {"BOBBOT": to_bob}}})
        assert r.status_code == 200, r.text
        content = device.megolm_encrypt(SECRET, "m.room.message", {"msgtype": "m.text", "body": "hi bob"})
        r = alice.put(f"{V3}/rooms/{SECRET}/send/m.room.encrypted/t2", json=content)
        assert r.status_code == 200, r.text
        event_id = r.json()["event_id"]

    entry = mock.assert_decrypted(room=SECRET, sender=ALICE, content={"body": "hi bob"})
    assert entry == {
        "room_id": SECRET,
        "event_id": event_id,
        "sender": ALICE,
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "hi bob"},
    }
    (key,) = mock.decrypted(type="m.room_key")
    assert key["to_device"] == {"user_id": BOB, "device_id": "BOBBOT"}
    with httpx.Client(base_url=mock.url) as anon:
        r = anon.get("/_mockmx/decrypted", params={"room": SECRET, "sender": ALICE})
        assert r.status_code == 200, r.text
        assert r.json() == {"decrypted": [entry]}
        assert_error(anon.get("/_mockmx/decrypted", params={"colour": "red"}), 400, "M_INVALID_PARAM")
    with pytest.raises(AssertionError, match="nothing decrypted in"):
        mock.assert_decrypted(room=SECRET, content={"body": "never sent"}, timeout=0.05)


KEY_ACTIONS = """
mockmx: 1
server_name: localhost
users:
  - id: alice
    devices: [{id: ALICEDEV, access_token: alice-token}]
  - id: bob
    devices: [{id: BOBPHONE, access_token: bob-token}]
rooms:
  - id: "!lobby:localhost"
    members: [alice, bob]
script:
  - after: 0.1s
    every: 0.1s
    sender: bob
    action: drop_one_time_keys
  - after: 0.5s
    sender: bob
    action: device_list_change
faults:
  - path: /_matrix/client/*/keys/query
    status: 502
    times: 2
"""


def test_scripted_key_actions_and_a_failing_key_query(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(KEY_ACTIONS)
    device = OlmDevice(BOB, "BOBPHONE")
    with mock.client("alice-token") as alice, mock.client("bob-token") as bob:
        since = sync(alice)["next_batch"]
        r = bob.post(
            f"{V3}/keys/upload",
            json={"one_time_keys": device.new_one_time_keys(3), "fallback_keys": device.new_fallback_key()},
        )
        assert r.status_code == 200, r.text
        # The device list change arrives in alice's long poll.
        changed = until(lambda: sync(alice, since, timeout=5000)["device_lists"]["changed"], "bob's change")
        assert changed == [BOB]
        # bob's one-time keys run out (dropped every 0.1 s): claims get his fallback key.
        claim = {"one_time_keys": {BOB: {"BOBPHONE": "signed_curve25519"}}}

        def claimed() -> dict[str, Any]:
            keys: dict[str, Any] = alice.post(f"{V3}/keys/claim", json=claim).json()["one_time_keys"][BOB]["BOBPHONE"]
            return keys

        fallback = until(lambda: next(iter(claimed().values())).get("fallback"), "the fallback key")
        assert fallback is True
        assert mock.homeserver.keys.one_time_key_counts(BOB, "BOBPHONE") == {"signed_curve25519": 0}
        # The fault rule: two failed key queries, then answers.
        query = {"device_keys": {BOB: []}}
        statuses = [alice.post(f"{V3}/keys/query", json=query).status_code for _ in range(3)]
        assert statuses == [502, 502, 200]
