"""matrix-js-sdk with its Rust crypto against the mock: two clients exchange encrypted messages, and a second device
joins the conversation after a device list change; and a client talks with the mock's own encrypted user. The mock
stores only ciphertext."""

from __future__ import annotations

import pytest

from mockmx.scenario.loader import default_scenario, load_scenario_text
from tests.conftest import ALICE, BOB
from tests.sdk_outcomes import observed_mock
from tests.test_sdk_js import JS_SDK_PROBES, SCRIPT_TIMEOUT, run_node

SECRET = "!secret:localhost"


@pytest.mark.timeout(SCRIPT_TIMEOUT + 30)
def test_matrix_js_sdk_rust_crypto_encrypted_room() -> None:
    with observed_mock(default_scenario()) as (mock, log), log.blamed(allowed=JS_SDK_PROBES):
        seen = run_node("e2ee_flow.mjs", mock.url)
        room_id = seen["room"]["room_id"]
        stored = mock.room_events(room_id, sender=ALICE)
    log.assert_no_gaps(allowed=JS_SDK_PROBES)

    assert seen["room"]["alice_sees_encrypted"] is True
    first = seen["first"]
    assert (first["wire_type"], first["type"], first["body"], first["sender"]) == (
        "m.room.encrypted",
        "m.room.message",
        "first secret",
        ALICE,
    )
    assert seen["alice_knows_bob2"] is True
    second = seen["second"]
    assert second["bob"]["body"] == second["bob2"]["body"] == "second secret"
    assert second["bob"]["event_id"] == second["bob2"]["event_id"]

    # What the homeserver holds of the messages is ciphertext only.
    messages = [event for event in stored if event["type"] in ("m.room.message", "m.room.encrypted")]
    assert [event["type"] for event in messages] == ["m.room.encrypted", "m.room.encrypted"]
    assert all("secret" not in str(event["content"]) for event in messages)
    # The keys went through the endpoints the Rust crypto uses.
    used = {(outcome.method, outcome.path) for outcome in log.outcomes() if outcome.status == 200}
    for path in ("/keys/upload", "/keys/query", "/keys/claim"):
        assert ("POST", f"/_matrix/client/v3{path}") in used, path


ENCRYPTED_BOB = """
mockmx: 1
server_name: localhost
users:
  - id: alice
    password: alice-pass
  - id: bob
    display_name: Bob (the mock)
    devices: [{id: BOBBOT, encrypted: true}]
rooms:
  - id: "!secret:localhost"
    alias: secret
    members: [bob, alice]
    timeline:
      - sender: bob
        type: m.room.encryption
        state_key: ""
        content: {algorithm: m.megolm.v1.aes-sha2}
script:
  # Again and again, so that it reaches alice's new device whenever her client has published its keys.
  - after: 0.5s
    every: 0.5s
    count: 200
    sender: bob
    room: secret
    say: hello from the mock
"""


@pytest.mark.timeout(SCRIPT_TIMEOUT + 30)
def test_matrix_js_sdk_and_the_mocks_encrypted_user() -> None:
    scenario = load_scenario_text(ENCRYPTED_BOB, "<encrypted bob>")
    with observed_mock(scenario) as (mock, log), log.blamed(allowed=JS_SDK_PROBES):
        seen = run_node("e2ee_mock_user.mjs", mock.url, SECRET, "hello from the mock", "hello mock, from js")
        decrypted = mock.assert_decrypted(
            room="#secret:localhost", sender=ALICE, content={"body": "hello mock, from js"}
        )
    log.assert_no_gaps(allowed=JS_SDK_PROBES)

    received = seen["received"]
    assert (received["wire_type"], received["body"], received["sender"]) == (
        "m.room.encrypted",
        "hello from the mock",
        BOB,
    )
    assert decrypted == {
        "room_id": SECRET,
        "event_id": seen["sent"],
        "sender": ALICE,
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "hello mock, from js"},
    }
