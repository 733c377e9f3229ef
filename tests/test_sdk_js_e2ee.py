"""matrix-js-sdk with its Rust crypto against the mock: two clients exchange encrypted messages, and a second device
joins the conversation after a device list change. The mock stores only ciphertext."""

from __future__ import annotations

import pytest

from mockmx.scenario.loader import default_scenario
from tests.conftest import ALICE
from tests.sdk_outcomes import observed_mock
from tests.test_sdk_js import JS_SDK_PROBES, SCRIPT_TIMEOUT, run_node


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
