"""Device keys over the wire: upload, query, claim (each one-time key once, then the fallback key), changes, and
what `/sync` says of them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ALICE,
    ALICE_TOKEN,
    BOB,
    BOB_LAPTOP_TOKEN,
    BOB_PHONE_TOKEN,
    LOBBY,
    LiveServer,
    assert_error,
    polling,
    sync,
)
from tests.e2ee_keys import Device

V3 = "/_matrix/client/v3"


def upload(client: httpx.Client, **body: Any) -> dict[str, int]:
    r = client.post(f"{V3}/keys/upload", json=body)
    assert r.status_code == 200, r.text
    counts: dict[str, int] = r.json()["one_time_key_counts"]
    return counts


def query(client: httpx.Client, wanted: dict[str, list[str]]) -> dict[str, Any]:
    r = client.post(f"{V3}/keys/query", json={"device_keys": wanted})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def claim(client: httpx.Client, wanted: dict[str, dict[str, str]]) -> dict[str, Any]:
    r = client.post(f"{V3}/keys/claim", json={"one_time_keys": wanted})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_upload_answers_counts_and_query_serves_the_device_keys(alice: httpx.Client, bob: httpx.Client) -> None:
    device = Device(BOB, "BOBPHONE")
    counts = upload(bob, device_keys=device.device_keys(), one_time_keys=device.one_time_keys(3))
    assert counts == {"signed_curve25519": 3}
    assert upload(bob) == {"signed_curve25519": 3}  # an empty upload just reads the counts

    result = query(alice, {BOB: []})
    served = result["device_keys"][BOB]
    assert list(served) == ["BOBPHONE"]  # BOBLAPTOP uploaded nothing
    assert {k: v for k, v in served["BOBPHONE"].items() if k != "unsigned"} == device.device_keys()
    assert "unsigned" not in served["BOBPHONE"]  # a device without a name
    r = bob.put(f"{V3}/devices/BOBPHONE", json={"display_name": "Bob's phone"})
    assert r.status_code == 200, r.text
    named = query(alice, {BOB: ["BOBPHONE"]})["device_keys"][BOB]["BOBPHONE"]
    assert named["unsigned"] == {"device_display_name": "Bob's phone"}  # as Synapse shows it
    assert result["failures"] == {}
    assert query(alice, {BOB: ["BOBLAPTOP"]})["device_keys"] == {BOB: {}}


def test_query_names_unknown_users_and_lists_other_servers_as_failures(alice: httpx.Client) -> None:
    result = query(alice, {"@nobody:localhost": [], "@carol:elsewhere.example": []})
    assert result["device_keys"] == {"@nobody:localhost": {}}
    assert set(result["failures"]) == {"elsewhere.example"}
    assert result["failures"]["elsewhere.example"]["status"] == 503


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        ({}, 400, "M_BAD_JSON"),
        ({"device_keys": []}, 400, "M_BAD_JSON"),
        ({"device_keys": {BOB: "BOBPHONE"}}, 400, "M_BAD_JSON"),
        ({"device_keys": {BOB: [1]}}, 400, "M_BAD_JSON"),
        ({"device_keys": {"bob": []}}, 400, "M_INVALID_PARAM"),
    ],
)
def test_query_refuses_malformed_bodies(shared_alice: httpx.Client, body: Any, status: int, errcode: str) -> None:
    assert_error(shared_alice.post(f"{V3}/keys/query", json=body), status, errcode)


def _keys(user_id: str = ALICE, device_id: str = "ALICEDEV", **changes: Any) -> dict[str, Any]:
    keys = Device(user_id, device_id).device_keys()
    keys.update(changes)
    return keys


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"device_keys": _keys(BOB)}, "M_BAD_JSON"),  # another user's keys
        ({"device_keys": _keys(ALICE, "OTHERDEV")}, "M_BAD_JSON"),  # another device's keys
        ({"device_keys": _keys(algorithms="all")}, "M_BAD_JSON"),
        ({"device_keys": _keys(keys={"ed25519:ALICEDEV": 1})}, "M_BAD_JSON"),
        ({"device_keys": _keys(signatures={ALICE: "x"})}, "M_BAD_JSON"),
        ({"device_keys": "keys"}, "M_BAD_JSON"),
        ({"one_time_keys": {"no-algorithm": "key"}}, "M_BAD_JSON"),
        ({"one_time_keys": {"signed_curve25519:A": 5}}, "M_BAD_JSON"),
        ({"one_time_keys": ["key"]}, "M_BAD_JSON"),
        ({"fallback_keys": {"signed_curve25519:": {"key": "k"}}}, "M_BAD_JSON"),
    ],
)
def test_upload_refuses_malformed_keys(shared_alice: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_alice.post(f"{V3}/keys/upload", json=body), 400, errcode)


def test_a_one_time_key_id_cannot_be_reused_for_another_key(alice: httpx.Client) -> None:
    upload(alice, one_time_keys={"signed_curve25519:AAAA": {"key": "first"}})
    assert upload(alice, one_time_keys={"signed_curve25519:AAAA": {"key": "first"}}) == {"signed_curve25519": 1}
    r = alice.post(f"{V3}/keys/upload", json={"one_time_keys": {"signed_curve25519:AAAA": {"key": "second"}}})
    assert_error(r, 400, "M_UNKNOWN")


def test_each_one_time_key_is_claimed_once_then_the_fallback_key(alice: httpx.Client, bob: httpx.Client) -> None:
    device = Device(BOB, "BOBPHONE")
    one_time = device.one_time_keys(2)
    fallback = device.fallback_key()
    upload(bob, device_keys=device.device_keys(), one_time_keys=one_time, fallback_keys=fallback)
    assert sync(bob)["device_unused_fallback_key_types"] == ["signed_curve25519"]

    wanted = {BOB: {"BOBPHONE": "signed_curve25519"}}
    first = claim(alice, wanted)["one_time_keys"][BOB]["BOBPHONE"]
    second = claim(alice, wanted)["one_time_keys"][BOB]["BOBPHONE"]
    assert {**first, **second} == one_time  # both keys, each once
    for _ in range(2):  # then the fallback key, as often as asked
        assert claim(alice, wanted)["one_time_keys"][BOB]["BOBPHONE"] == fallback

    body = sync(bob)
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 0}
    assert body["device_unused_fallback_key_types"] == []
    # A new fallback key is unused again.
    upload(bob, fallback_keys=device.fallback_key())
    assert sync(bob)["device_unused_fallback_key_types"] == ["signed_curve25519"]


def test_claim_leaves_out_devices_without_keys_and_lists_other_servers(alice: httpx.Client) -> None:
    result = claim(
        alice,
        {BOB: {"BOBPHONE": "signed_curve25519", "NOSUCH": "signed_curve25519"}, "@x:elsewhere.example": {"D": "a"}},
    )
    assert result["one_time_keys"] == {}
    assert set(result["failures"]) == {"elsewhere.example"}


@pytest.mark.parametrize("body", [{}, {"one_time_keys": []}, {"one_time_keys": {BOB: ["BOBPHONE"]}}])
def test_claim_refuses_malformed_bodies(shared_alice: httpx.Client, body: Any) -> None:
    assert_error(shared_alice.post(f"{V3}/keys/claim", json=body), 400, "M_BAD_JSON")


def test_fifty_concurrent_claims_never_get_the_same_key(mock: LiveServer, bob: httpx.Client) -> None:
    device = Device(BOB, "BOBPHONE")
    one_time = device.one_time_keys(30)
    fallback = device.fallback_key()
    upload(bob, device_keys=device.device_keys(), one_time_keys=one_time, fallback_keys=fallback)

    async def claim_all() -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {ALICE_TOKEN}"}
        async with httpx.AsyncClient(base_url=mock.url, headers=headers, timeout=30) as client:
            body = {"one_time_keys": {BOB: {"BOBPHONE": "signed_curve25519"}}}
            answers = await asyncio.gather(*(client.post(f"{V3}/keys/claim", json=body) for _ in range(50)))
        for r in answers:
            assert r.status_code == 200, r.text
        return [r.json()["one_time_keys"][BOB]["BOBPHONE"] for r in answers]

    claimed = asyncio.run(claim_all())
    one_time_ids = [key_id for keys in claimed for key_id in keys if keys != fallback]
    assert sorted(one_time_ids) == sorted(one_time)  # every one-time key, none twice
    assert claimed.count(fallback) == 20


def test_sync_lists_a_peer_whose_keys_changed_and_wakes_a_long_poll(mock: LiveServer, alice: httpx.Client) -> None:
    since = sync(alice)["next_batch"]
    device = Device(BOB, "BOBLAPTOP")
    with mock.client(BOB_LAPTOP_TOKEN) as laptop, polling(mock, lambda: sync(alice, since, timeout=10_000)) as poll:
        upload(laptop, device_keys=device.device_keys())
    body = poll.result(timeout=10)
    assert body["device_lists"] == {"changed": [BOB], "left": []}
    # Nothing new since: the next sync lists nobody.
    assert sync(alice, body["next_batch"])["device_lists"] == {"changed": [], "left": []}


def test_keys_changes_and_sync_follow_joins_and_leaves(
    mock: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    start = sync(alice)["next_batch"]
    r = bob.post(f"{V3}/rooms/{LOBBY}/leave", json={})
    assert r.status_code == 200, r.text
    r = alice.get(f"{V3}/keys/changes", params={"from": start})
    assert r.status_code == 200, r.text
    assert r.json() == {"changed": [], "left": [BOB]}
    assert sync(alice, start)["device_lists"]["left"] == [BOB]

    middle = sync(alice)["next_batch"]
    r = bob.post(f"{V3}/join/{LOBBY}", json={})
    assert r.status_code == 200, r.text
    assert sync(alice, middle)["device_lists"] == {"changed": [BOB], "left": []}
    # bob joined: everyone in the room is news to him (himself included, as with Synapse)
    assert sync(bob, middle)["device_lists"]["changed"] == [ALICE, BOB]
    # `to` ends the range: bob's join after `middle` is not in it. (Whether someone "left" is judged by whom the
    # user shares a room with now, as Synapse judges it.)
    r = alice.get(f"{V3}/keys/changes", params={"from": start, "to": middle})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == []


def test_a_deleted_device_is_a_device_list_change(mock: LiveServer, alice: httpx.Client) -> None:
    device = Device(BOB, "BOBLAPTOP")
    with mock.client(BOB_LAPTOP_TOKEN) as laptop:
        upload(laptop, device_keys=device.device_keys())
        since = sync(alice)["next_batch"]
        r = laptop.post(f"{V3}/logout", json={})
        assert r.status_code == 200, r.text
    assert sync(alice, since)["device_lists"]["changed"] == [BOB]
    assert query(alice, {BOB: []})["device_keys"][BOB] == {}


@pytest.mark.parametrize(("params", "errcode"), [({}, "M_MISSING_PARAM"), ({"from": "nonsense"}, "M_INVALID_PARAM")])
def test_keys_changes_needs_a_valid_from_token(
    shared_alice: httpx.Client, params: dict[str, str], errcode: str
) -> None:
    assert_error(shared_alice.get(f"{V3}/keys/changes", params=params), 400, errcode)


def test_keys_endpoints_need_a_token(shared: LiveServer) -> None:
    with shared.client() as anon:
        assert_error(anon.post(f"{V3}/keys/upload", json={}), 401, "M_MISSING_TOKEN")
    with shared.client(BOB_PHONE_TOKEN) as bob:
        assert upload(bob) == {"signed_curve25519": 0}
