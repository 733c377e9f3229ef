"""Server-side key backup over the wire: versions, keys stored and replaced only by better ones, etag and count."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LOBBY, assert_error

V3 = "/_matrix/client/v3"
VERSION = f"{V3}/room_keys/version"
KEYS = f"{V3}/room_keys/keys"
ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"


def key_data(first_message_index: int = 0, forwarded_count: int = 0, verified: bool = False) -> dict[str, Any]:
    return {
        "first_message_index": first_message_index,
        "forwarded_count": forwarded_count,
        "is_verified": verified,
        "session_data": {"ephemeral": "e", "ciphertext": f"c{first_message_index}{forwarded_count}", "mac": "m"},
    }


def create(client: httpx.Client) -> str:
    r = client.post(VERSION, json={"algorithm": ALGORITHM, "auth_data": {"public_key": "pk"}})
    assert r.status_code == 200, r.text
    version: str = r.json()["version"]
    return version


def test_without_a_backup_everything_is_not_found(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.get(VERSION), 404, "M_NOT_FOUND")
    assert_error(shared_alice.get(f"{VERSION}/1"), 404, "M_NOT_FOUND")
    assert_error(shared_alice.get(KEYS, params={"version": "1"}), 404, "M_NOT_FOUND")
    assert_error(shared_alice.put(KEYS, params={"version": "1"}, json={"rooms": {}}), 404, "M_NOT_FOUND")


def test_versions_are_created_read_updated_and_deleted(alice: httpx.Client) -> None:
    first = create(alice)
    r = alice.get(VERSION)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "algorithm": ALGORITHM,
        "auth_data": {"public_key": "pk"},
        "version": first,
        "count": 0,
        "etag": "0",
    }
    second = create(alice)
    assert int(second) > int(first)
    assert alice.get(VERSION).json()["version"] == second  # the newest
    assert alice.get(f"{VERSION}/{first}").json()["version"] == first

    r = alice.put(f"{VERSION}/{second}", json={"algorithm": ALGORITHM, "auth_data": {"public_key": "new"}})
    assert r.status_code == 200, r.text
    assert alice.get(VERSION).json()["auth_data"] == {"public_key": "new"}
    other = {"algorithm": "org.example.other", "auth_data": {}}
    assert_error(alice.put(f"{VERSION}/{second}", json=other), 400, "M_INVALID_PARAM")
    assert_error(alice.post(VERSION, json=other), 400, "M_INVALID_PARAM")  # the spec knows one algorithm
    mismatch = {"algorithm": ALGORITHM, "auth_data": {}, "version": first}
    assert_error(alice.put(f"{VERSION}/{second}", json=mismatch), 400, "M_INVALID_PARAM")

    assert alice.delete(f"{VERSION}/{second}").status_code == 200
    assert alice.get(VERSION).json()["version"] == first
    assert_error(alice.delete(f"{VERSION}/{second}"), 404, "M_NOT_FOUND")


def test_keys_are_kept_replaced_by_better_ones_and_counted(alice: httpx.Client, bob: httpx.Client) -> None:
    version = create(alice)
    r = alice.put(f"{KEYS}/{LOBBY}/s1", params={"version": version}, json=key_data(5, 1))
    assert r.status_code == 200, r.text
    assert r.json() == {"etag": "1", "count": 1}
    # Worse (a later first index, as many forwards): the stored one stays, etag unchanged.
    r = alice.put(f"{KEYS}/{LOBBY}", params={"version": version}, json={"sessions": {"s1": key_data(9, 1)}})
    assert r.json() == {"etag": "1", "count": 1}
    # Better (an earlier first index), and a second session in another room.
    rooms = {LOBBY: {"sessions": {"s1": key_data(2, 3)}}, "!other:localhost": {"sessions": {"s2": key_data()}}}
    r = alice.put(KEYS, params={"version": version}, json={"rooms": rooms})
    assert r.json() == {"etag": "2", "count": 2}

    assert alice.get(f"{KEYS}/{LOBBY}/s1", params={"version": version}).json() == key_data(2, 3)
    assert alice.get(f"{KEYS}/{LOBBY}", params={"version": version}).json() == {"sessions": {"s1": key_data(2, 3)}}
    assert alice.get(KEYS, params={"version": version}).json() == {"rooms": rooms}
    assert alice.get(f"{KEYS}/!empty:localhost", params={"version": version}).json() == {"sessions": {}}
    assert_error(alice.get(f"{KEYS}/{LOBBY}/nope", params={"version": version}), 404, "M_NOT_FOUND")
    assert_error(bob.get(KEYS, params={"version": version}), 404, "M_NOT_FOUND")  # alice's backup is hers

    r = alice.delete(f"{KEYS}/{LOBBY}/s1", params={"version": version})
    assert r.json() == {"etag": "3", "count": 1}
    assert alice.get(VERSION).json()["count"] == 1
    r = alice.delete(KEYS, params={"version": version})
    assert r.json() == {"etag": "4", "count": 0}


def test_keys_go_only_to_the_newest_version(alice: httpx.Client) -> None:
    old = create(alice)
    new = create(alice)
    r = alice.put(f"{KEYS}/{LOBBY}/s1", params={"version": old}, json=key_data())
    body = assert_error(r, 403, "M_WRONG_ROOM_KEYS_VERSION")
    assert body["current_version"] == new


@pytest.mark.parametrize(
    ("path", "body", "status", "errcode"),
    [
        (f"{KEYS}/{LOBBY}/s1", {**key_data(), "first_message_index": "0"}, 400, "M_BAD_JSON"),
        (f"{KEYS}/{LOBBY}/s1", {"first_message_index": 0}, 400, "M_MISSING_PARAM"),
        (f"{KEYS}/{LOBBY}", {"sessions": []}, 400, "M_BAD_JSON"),
        (KEYS, {"rooms": {LOBBY: []}}, 400, "M_BAD_JSON"),
        (KEYS, {}, 400, "M_MISSING_PARAM"),
    ],
)
def test_malformed_keys_are_refused(alice: httpx.Client, path: str, body: Any, status: int, errcode: str) -> None:
    version = create(alice)
    assert_error(alice.put(path, params={"version": version}, json=body), status, errcode)


def test_the_version_parameter_is_required(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.get(KEYS), 400, "M_MISSING_PARAM")
    assert_error(shared_alice.delete(KEYS), 400, "M_MISSING_PARAM")
    assert_error(shared_alice.post(VERSION, json={"auth_data": {}}), 400, "M_MISSING_PARAM")
