"""Recording and replaying a session that carries encrypted traffic: keys are public material and are kept, the
ciphertexts too, while access tokens still are not; the replay answers the same key requests the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockmx.crypto.olm_device import OlmDevice
from mockmx.record import load_recording
from mockmx.replay import create_replay_app
from mockmx.testing.recorder import RecorderProcess, free_port, record_command, started_recorder
from tests.conftest import ALICE, ALICE_TOKEN, BOB, BOB_PHONE_TOKEN, LOBBY, LiveServer

CS = "/_matrix/client/v3"
PLAINTEXT = "for bob alone"


@pytest.fixture
def recorder(mock: LiveServer, tmp_path: Path) -> Iterator[RecorderProcess]:
    """`mockmx record` in front of the default mock, HOME in the test's directory (mitmproxy keeps its CA there)."""
    out, port = tmp_path / "session.yaml", free_port()
    (tmp_path / "home").mkdir()
    env = {"HOME": str(tmp_path / "home")}
    with started_recorder(record_command(mock.url, out, port), out=out, port=port, env=env) as process:
        yield process


def encrypted_session(bob_device: OlmDevice, alice_device: OlmDevice) -> list[tuple[str, str, str, Any]]:
    """The requests of a short encrypted exchange: (method, path, token, body), in order."""
    bob_keys = bob_device.device_keys()
    one_time = bob_device.new_one_time_keys(2)
    claim = {"one_time_keys": {BOB: {"BOBPHONE": "signed_curve25519"}}}
    return [
        ("POST", f"{CS}/keys/upload", BOB_PHONE_TOKEN, {"device_keys": bob_keys, "one_time_keys": one_time}),
        ("POST", f"{CS}/keys/upload", ALICE_TOKEN, {"device_keys": alice_device.device_keys()}),
        ("POST", f"{CS}/keys/query", ALICE_TOKEN, {"device_keys": {BOB: []}}),
        ("POST", f"{CS}/keys/claim", ALICE_TOKEN, claim),
    ]


def test_an_encrypted_session_records_with_keys_kept_and_replays(recorder: RecorderProcess, mock: LiveServer) -> None:
    bob_device, alice_device = OlmDevice(BOB, "BOBPHONE"), OlmDevice(ALICE, "ALICEDEV")
    steps = encrypted_session(bob_device, alice_device)
    answers = []
    with httpx.Client(base_url=recorder.url, timeout=10) as client:
        for method, path, token, body in steps:
            r = client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            answers.append(r.json())
        # With bob's claimed key, alice starts an Olm session and sends him a room key, then a Megolm message.
        ((one_time_key,),) = [[key["key"] for key in answers[3]["one_time_keys"][BOB]["BOBPHONE"].values()]]
        bob_keys = answers[2]["device_keys"][BOB]["BOBPHONE"]
        alice_device.start_olm_session(bob_keys["keys"]["curve25519:BOBPHONE"], one_time_key)
        to_bob = alice_device.olm_encrypt(BOB, bob_keys, "m.room_key", alice_device.room_key(LOBBY))
        alice = {"Authorization": f"Bearer {ALICE_TOKEN}"}
        r = client.put(
            f"{CS}/sendToDevice/m.room.encrypted/e2e-1", json={"messages": {BOB: {"BOBPHONE": to_bob}}}, headers=alice
        )
        assert r.status_code == 200, r.text
        content = alice_device.megolm_encrypt(LOBBY, "m.room.message", {"msgtype": "m.text", "body": PLAINTEXT})
        r = client.put(f"{CS}/rooms/{LOBBY}/send/m.room.encrypted/e2e-2", json=content, headers=alice)
        assert r.status_code == 200, r.text
    assert recorder.stop() == 0, recorder.output()

    text = recorder.out.read_text()
    for secret in (ALICE_TOKEN, BOB_PHONE_TOKEN):
        assert secret not in text
    # Public key material and ciphertext are kept as they were.
    for kept in (bob_device.ed25519, bob_device.curve25519, alice_device.ed25519, one_time_key, content["ciphertext"]):
        assert kept in text
    assert PLAINTEXT not in text  # it never went over the wire

    recording = load_recording(recorder.out)
    app = create_replay_app(recording)

    async def replay() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replay", timeout=10) as client:
            replayed = []
            for method, path, token, body in steps:
                r = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
                replayed.append(r.json())
            return replayed

    assert asyncio.run(replay()) == answers
