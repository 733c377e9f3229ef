"""Cross-signing over the wire: uploading the keys (behind User-Interactive Authentication once a master key
exists), and signatures checked with the keys they claim to be made with."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, BOB, LiveServer, assert_error
from tests.e2ee_keys import CrossSigningKeys, Device, signed

V3 = "/_matrix/client/v3"
UPLOAD = f"{V3}/keys/device_signing/upload"
SIGNATURES = f"{V3}/keys/signatures/upload"


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def query(client: httpx.Client, *users: str) -> dict[str, Any]:
    return post(client, f"{V3}/keys/query", {"device_keys": {user: [] for user in users}})


def password(user: str, secret: str, session: str) -> dict[str, Any]:
    identifier = {"type": "m.id.user", "user": user}
    return {"type": "m.login.password", "identifier": identifier, "password": secret, "session": session}


def test_a_first_upload_needs_no_password_and_query_shows_the_keys(alice: httpx.Client, bob: httpx.Client) -> None:
    keys = CrossSigningKeys(ALICE)
    body = keys.upload_body()
    assert post(alice, UPLOAD, body) == {}
    own = query(alice, ALICE)
    assert own["master_keys"][ALICE] == body["master_key"]
    assert own["self_signing_keys"][ALICE] == body["self_signing_key"]
    assert own["user_signing_keys"][ALICE] == body["user_signing_key"]
    seen_by_bob = query(bob, ALICE)
    assert seen_by_bob["master_keys"][ALICE] == body["master_key"]
    assert "user_signing_keys" not in seen_by_bob  # only the owner sees their user-signing key
    assert post(alice, UPLOAD, body) == {}  # the same keys again: nothing new, no password


def test_replacing_keys_asks_for_the_password(alice: httpx.Client) -> None:
    post(alice, UPLOAD, CrossSigningKeys(ALICE).upload_body())
    replacement = CrossSigningKeys(ALICE).upload_body()
    r = alice.post(UPLOAD, json=replacement)
    assert r.status_code == 401, r.text
    challenge = r.json()
    assert challenge["flows"] == [{"stages": ["m.login.password"]}]
    wrong = alice.post(UPLOAD, json={**replacement, "auth": password("alice", "nope", challenge["session"])})
    assert_error(wrong, 401, "M_FORBIDDEN")
    ok = {**replacement, "auth": password("alice", "alice-pass", challenge["session"])}
    assert post(alice, UPLOAD, ok) == {}
    assert query(alice, ALICE)["master_keys"][ALICE] == replacement["master_key"]


def _tampered(body: dict[str, Any], which: str, **changes: Any) -> dict[str, Any]:
    return {**body, f"{which}_key": {**body[f"{which}_key"], **changes}}


@pytest.mark.parametrize(
    ("make", "errcode"),
    [
        (lambda b: _tampered(b, "master", usage=["self_signing"]), "M_INVALID_PARAM"),
        (lambda b: _tampered(b, "master", user_id=ALICE), "M_INVALID_PARAM"),
        (lambda b: _tampered(b, "master", keys={}), "M_INVALID_PARAM"),
        (lambda b: _tampered(b, "self_signing", signatures={}), "M_INVALID_SIGNATURE"),
        (lambda b: _tampered(b, "user_signing", usage=["user_signing", "extra"]), "M_INVALID_SIGNATURE"),
        (lambda b: {"self_signing_key": b["self_signing_key"]}, "M_MISSING_PARAM"),  # no master key anywhere
        (lambda b: {**b, "master_key": "key"}, "M_BAD_JSON"),
    ],
)
def test_upload_refuses_keys_that_do_not_check(bob: httpx.Client, make: Any, errcode: str) -> None:
    body = make(CrossSigningKeys(BOB).upload_body())
    assert_error(bob.post(UPLOAD, json=body), 400, errcode)
    assert query(bob, BOB)["master_keys"] == {}  # nothing of a refused upload is kept


def _setup(client: httpx.Client, user_id: str, device_id: str) -> tuple[CrossSigningKeys, Device]:
    keys, device = CrossSigningKeys(user_id), Device(user_id, device_id)
    post(client, f"{V3}/keys/upload", {"device_keys": device.device_keys()})
    post(client, UPLOAD, keys.upload_body())
    return keys, device


def test_the_self_signing_key_signs_a_device(alice: httpx.Client, bob: httpx.Client) -> None:
    keys, device = _setup(alice, ALICE, "ALICEDEV")
    ssk_id = keys.key_id(keys.self_signing)
    signed_device = signed(device.device_keys(), ALICE, ssk_id, keys.self_signing)
    assert post(alice, SIGNATURES, {ALICE: {"ALICEDEV": signed_device}}) == {"failures": {}}
    served = query(bob, ALICE)["device_keys"][ALICE]["ALICEDEV"]
    assert served["signatures"][ALICE][ssk_id] == signed_device["signatures"][ALICE][ssk_id]


def test_a_device_signs_the_master_key(alice: httpx.Client) -> None:
    keys, device = _setup(alice, ALICE, "ALICEDEV")
    master = keys.public(keys.master, "master")
    by_device = signed(master, ALICE, "ed25519:ALICEDEV", device.account)
    master_id = keys.master.ed25519_key.to_base64()
    assert post(alice, SIGNATURES, {ALICE: {master_id: by_device}}) == {"failures": {}}
    served = query(alice, ALICE)["master_keys"][ALICE]
    assert served["signatures"][ALICE]["ed25519:ALICEDEV"] == by_device["signatures"][ALICE]["ed25519:ALICEDEV"]


def test_a_user_signing_signature_is_seen_by_the_signer_alone(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    alice_keys, _ = _setup(alice, ALICE, "ALICEDEV")
    bob_keys, _ = _setup(bob, BOB, "BOBPHONE")
    usk_id = alice_keys.key_id(alice_keys.user_signing)
    bob_master = signed(bob_keys.public(bob_keys.master, "master"), ALICE, usk_id, alice_keys.user_signing)
    bob_master_id = bob_keys.master.ed25519_key.to_base64()
    assert post(alice, SIGNATURES, {BOB: {bob_master_id: bob_master}}) == {"failures": {}}
    assert usk_id in query(alice, BOB)["master_keys"][BOB]["signatures"][ALICE]
    assert ALICE not in query(bob, BOB)["master_keys"][BOB].get("signatures", {})


def test_bad_signatures_are_failures_and_good_ones_are_kept(alice: httpx.Client, bob: httpx.Client) -> None:
    keys, device = _setup(alice, ALICE, "ALICEDEV")
    ssk_id = keys.key_id(keys.self_signing)
    forged = signed(device.device_keys(), ALICE, ssk_id, keys.user_signing)  # the wrong key signed it
    other = signed({**device.device_keys(), "algorithms": []}, ALICE, ssk_id, keys.self_signing)  # not the stored key
    unknown = signed(Device(ALICE, "GHOST").device_keys(), ALICE, ssk_id, keys.self_signing)
    bob_master = signed({"user_id": BOB}, ALICE, keys.key_id(keys.user_signing), keys.user_signing)
    body = {ALICE: {"ALICEDEV": forged, "OTHER": other, "GHOST": unknown}, BOB: {"whatever": bob_master}}
    failures = post(alice, SIGNATURES, body)["failures"]
    assert failures[ALICE]["ALICEDEV"] == {
        "status": 400,
        "errcode": "M_INVALID_SIGNATURE",
        "message": "Invalid signature",
    }
    assert failures[ALICE]["GHOST"]["status"] == 404
    assert failures[ALICE]["OTHER"]["status"] == 404  # OTHER is no device of alice's
    assert failures[BOB]["whatever"]["status"] == 404  # bob has no master key


def test_signatures_without_cross_signing_keys_fail(shared_bob: httpx.Client) -> None:
    body = {BOB: {"BOBPHONE": Device(BOB, "BOBPHONE").device_keys()}, ALICE: {"key": {"user_id": ALICE}}}
    failures = post(shared_bob, SIGNATURES, body)["failures"]
    assert failures[BOB]["BOBPHONE"]["status"] == 404
    assert failures[ALICE]["key"]["errcode"] == "M_NOT_FOUND"


@pytest.mark.parametrize("body", [{ALICE: []}, {ALICE: {"ALICEDEV": "signed"}}])
def test_signatures_upload_refuses_malformed_bodies(shared_alice: httpx.Client, body: Any) -> None:
    assert_error(shared_alice.post(SIGNATURES, json=body), 400, "M_INVALID_PARAM")
