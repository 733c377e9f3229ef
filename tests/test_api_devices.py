"""Devices over the wire: listing, naming, and deleting them behind User-Interactive Authentication."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, ALICE_TOKEN, BOB, BOB_LAPTOP_TOKEN, BOB_PHONE_TOKEN, LiveServer, assert_error

V3 = "/_matrix/client/v3"
WHOAMI = f"{V3}/account/whoami"


def password_auth(user: str = "bob", password: str = "bob-pass", session: str | None = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}}
    auth["password"] = password
    if session is not None:
        auth["session"] = session
    return auth


def login(mock: LiveServer, user: str, password: str, **extra: Any) -> dict[str, Any]:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}
    with mock.client() as anon:
        r = anon.post(f"{V3}/login", json={**body, **extra})
    assert r.status_code == 200, r.text
    session: dict[str, Any] = r.json()
    return session


def device_ids(client: httpx.Client) -> list[str]:
    r = client.get(f"{V3}/devices")
    assert r.status_code == 200, r.text
    return [device["device_id"] for device in r.json()["devices"]]


def uia_session(r: httpx.Response, *, completed: list[str] | None = None) -> str:
    """`r` is UIA's 401 offering the password flow; its session."""
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["flows"] == [{"stages": ["m.login.password"]}], body
    assert body["params"] == {}, body
    assert body.get("completed") == completed, body
    session: str = body["session"]
    assert session
    return session


@pytest.fixture
def laptop(mock: LiveServer) -> Iterator[httpx.Client]:
    """bob's second device (BOBLAPTOP), on the test's own mock."""
    with mock.client(BOB_LAPTOP_TOKEN) as client:
        yield client


# -- listing and naming --------------------------------------------------------------------------------------


def test_devices_lists_the_users_devices_as_synapse_shows_them(bob: httpx.Client) -> None:
    r = bob.get(f"{V3}/devices")
    assert r.status_code == 200, r.text
    devices = {device["device_id"]: device for device in r.json()["devices"]}
    assert set(devices) == {"BOBPHONE", "BOBLAPTOP"}
    phone = devices["BOBPHONE"]
    # This very request made BOBPHONE "seen", from loopback; BOBLAPTOP has made none yet.
    assert phone["user_id"] == BOB
    assert phone["last_seen_ip"] == "127.0.0.1"
    assert isinstance(phone["last_seen_ts"], int) and phone["last_seen_ts"] > 0
    # No display name and never seen: left out, not null, as the spec types them as a string and an integer.
    assert devices["BOBLAPTOP"] == {"user_id": BOB, "device_id": "BOBLAPTOP"}


def test_a_login_adds_a_device_with_its_display_name(mock: LiveServer, alice: httpx.Client) -> None:
    session = login(mock, "alice", "alice-pass", initial_device_display_name="Alice's laptop")
    r = alice.get(f"{V3}/devices/{session['device_id']}")
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Alice's laptop"
    assert set(device_ids(alice)) == {"ALICEDEV", session["device_id"]}


def test_get_device_of_another_user_or_unknown_is_404(shared_alice: httpx.Client) -> None:
    assert_error(shared_alice.get(f"{V3}/devices/BOBPHONE"), 404, "M_NOT_FOUND")
    assert_error(shared_alice.get(f"{V3}/devices/NOSUCHDEVICE"), 404, "M_NOT_FOUND")


def test_put_device_renames_it(bob: httpx.Client) -> None:
    r = bob.put(f"{V3}/devices/BOBLAPTOP", json={"display_name": "Bob's laptop"})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert bob.get(f"{V3}/devices/BOBLAPTOP").json()["display_name"] == "Bob's laptop"
    # Without a display_name nothing changes.
    assert bob.put(f"{V3}/devices/BOBLAPTOP", json={}).status_code == 200
    assert bob.get(f"{V3}/devices/BOBLAPTOP").json()["display_name"] == "Bob's laptop"


@pytest.mark.parametrize(
    ("device_id", "body", "status", "errcode"),
    [
        pytest.param("NOSUCHDEVICE", {"display_name": "x"}, 404, "M_NOT_FOUND", id="unknown-device"),
        pytest.param("ALICEDEV", {"display_name": "x"}, 404, "M_NOT_FOUND", id="another-users-device"),
        pytest.param("BOBPHONE", {"display_name": 5}, 400, "M_BAD_JSON", id="name-not-a-string"),
        pytest.param("BOBPHONE", {"display_name": "x" * 101}, 400, "M_TOO_LARGE", id="name-over-100"),
        pytest.param("BOBPHONE", [], 400, "M_BAD_JSON", id="body-not-an-object"),
    ],
)
def test_put_device_errors(shared_bob: httpx.Client, device_id: str, body: Any, status: int, errcode: str) -> None:
    assert_error(shared_bob.put(f"{V3}/devices/{device_id}", json=body), status, errcode)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/devices"),
        ("GET", "/devices/BOBPHONE"),
        ("PUT", "/devices/BOBPHONE"),
        ("DELETE", "/devices/BOBPHONE"),
        ("POST", "/delete_devices"),
    ],
)
@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("no-such-token", "M_UNKNOWN_TOKEN")])
def test_devices_need_a_known_token(
    shared: LiveServer, method: str, path: str, token: str | None, errcode: str
) -> None:
    with shared.client(token) as client:
        assert_error(client.request(method, V3 + path, json={}), 401, errcode)


# -- deleting, with User-Interactive Authentication ----------------------------------------------------------


def test_delete_device_takes_the_password_in_a_second_request(mock: LiveServer, bob: httpx.Client) -> None:
    first = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={})
    session = uia_session(first)
    # Nothing happened yet.
    assert "BOBLAPTOP" in device_ids(bob)
    second = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": password_auth(session=session)})
    assert second.status_code == 200, second.text
    assert second.json() == {}
    assert device_ids(bob) == ["BOBPHONE"]
    with mock.client(BOB_LAPTOP_TOKEN) as laptop:
        assert_error(laptop.get(WHOAMI), 401, "M_UNKNOWN_TOKEN")


def test_a_body_that_is_not_json_counts_as_empty(bob: httpx.Client) -> None:
    # Older clients sent no body at all; Synapse (and so the mock) answers them with the UIA challenge.
    uia_session(bob.request("DELETE", f"{V3}/devices/BOBLAPTOP"))
    uia_session(bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", content=b"not json"))


def test_a_wrong_password_can_be_retried_in_the_same_session(bob: httpx.Client) -> None:
    session = uia_session(bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={}))
    wrong = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": password_auth("bob", "nope", session)})
    assert wrong.status_code == 401, wrong.text
    body = wrong.json()
    assert body["errcode"] == "M_FORBIDDEN" and isinstance(body["error"], str), body
    assert body["session"] == session
    assert body["flows"] == [{"stages": ["m.login.password"]}]
    assert body["completed"] == []
    assert "BOBLAPTOP" in device_ids(bob)
    right = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": password_auth(session=session)})
    assert right.status_code == 200, right.text
    assert "BOBLAPTOP" not in device_ids(bob)


def test_auth_without_a_session_succeeds_at_once(bob: httpx.Client) -> None:
    r = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": password_auth()})
    assert r.status_code == 200, r.text
    assert device_ids(bob) == ["BOBPHONE"]


def test_deleting_an_unknown_device_succeeds(bob: httpx.Client) -> None:
    # The spec: "The device was successfully removed, or had been removed previously."
    r = bob.request("DELETE", f"{V3}/devices/NOSUCHDEVICE", json={"auth": password_auth()})
    assert r.status_code == 200, r.text
    assert set(device_ids(bob)) == {"BOBPHONE", "BOBLAPTOP"}


def test_deleting_the_device_in_use_logs_it_out(bob: httpx.Client) -> None:
    r = bob.request("DELETE", f"{V3}/devices/BOBPHONE", json={"auth": password_auth()})
    assert r.status_code == 200, r.text
    assert_error(bob.get(WHOAMI), 401, "M_UNKNOWN_TOKEN")


def test_deleting_a_device_logs_out_all_its_tokens(mock: LiveServer, alice: httpx.Client) -> None:
    first = login(mock, "alice", "alice-pass", device_id="SPARE")
    second = login(mock, "alice", "alice-pass", device_id="SPARE")
    r = alice.request("DELETE", f"{V3}/devices/SPARE", json={"auth": password_auth("alice", "alice-pass")})
    assert r.status_code == 200, r.text
    for session in (first, second):
        with mock.client(session["access_token"]) as client:
            assert_error(client.get(WHOAMI), 401, "M_UNKNOWN_TOKEN")
    assert device_ids(alice) == ["ALICEDEV"]


def test_delete_devices_deletes_several(mock: LiveServer, alice: httpx.Client) -> None:
    spares = [login(mock, "alice", "alice-pass")["device_id"] for _ in range(3)]
    body: dict[str, Any] = {"devices": spares[:2]}
    session = uia_session(alice.post(f"{V3}/delete_devices", json=body))
    auth = password_auth("alice", "alice-pass", session)
    r = alice.post(f"{V3}/delete_devices", json={**body, "auth": auth})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert set(device_ids(alice)) == {"ALICEDEV", spares[2]}


def test_delete_devices_of_nothing_still_needs_the_password(bob: httpx.Client) -> None:
    uia_session(bob.post(f"{V3}/delete_devices", json={"devices": []}))
    r = bob.post(f"{V3}/delete_devices", json={"devices": [], "auth": password_auth()})
    assert r.status_code == 200, r.text


def test_another_users_password_is_refused(bob: httpx.Client) -> None:
    r = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": password_auth("alice", "alice-pass")})
    assert_error(r, 403, "M_FORBIDDEN")
    assert "BOBLAPTOP" in device_ids(bob)


def test_a_session_serves_one_operation_only(bob: httpx.Client) -> None:
    session = uia_session(bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={}))
    r = bob.request("DELETE", f"{V3}/devices/BOBPHONE", json={"auth": password_auth(session=session)})
    assert_error(r, 403, "M_FORBIDDEN")
    assert set(device_ids(bob)) == {"BOBPHONE", "BOBLAPTOP"}


def test_an_unoffered_stage_does_not_complete_the_flow(bob: httpx.Client) -> None:
    session = uia_session(bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={}))
    auth = {"type": "m.login.dummy", "session": session}
    r = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={"auth": auth})
    assert r.status_code == 401, r.text
    assert r.json()["errcode"] == "M_UNRECOGNIZED"
    assert r.json()["completed"] == []
    assert "BOBLAPTOP" in device_ids(bob)


def test_a_user_without_a_password_is_offered_no_flow(serve_yaml: Any) -> None:
    mock = serve_yaml(
        "server_name: localhost\nusers:\n  - id: nopass\n    devices:\n      - id: DEV\n        access_token: t\n"
    )
    with mock.client("t") as client:
        r = client.request("DELETE", f"{V3}/devices/DEV", json={})
        assert r.status_code == 401, r.text
        assert r.json()["flows"] == []


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        pytest.param({"auth": "password"}, 400, "M_BAD_JSON", id="auth-not-an-object"),
        pytest.param({"auth": {"type": 5}}, 400, "M_BAD_JSON", id="type-not-a-string"),
        pytest.param({"auth": {"session": 5}}, 400, "M_BAD_JSON", id="session-not-a-string"),
        pytest.param(
            {"auth": {"type": "m.login.password", "session": "nosuch"}}, 400, "M_UNKNOWN", id="unknown-session"
        ),
        pytest.param(
            {"auth": {"type": "m.login.password", "password": "bob-pass"}}, 400, "M_MISSING_PARAM", id="no-identifier"
        ),
        pytest.param({"auth": {**password_auth(), "password": None}}, 400, "M_MISSING_PARAM", id="no-password"),
        pytest.param({"auth": {**password_auth(), "password": 5}}, 400, "M_BAD_JSON", id="password-not-a-string"),
        pytest.param(
            {"auth": {**password_auth(), "identifier": {"type": "m.id.thirdparty"}}},
            400,
            "M_UNKNOWN",
            id="other-identifier-type",
        ),
        pytest.param([], 400, "M_BAD_JSON", id="body-not-an-object"),
    ],
)
def test_delete_device_errors(shared_bob: httpx.Client, body: Any, status: int, errcode: str) -> None:
    assert_error(shared_bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json=body), status, errcode)
    assert "BOBLAPTOP" in device_ids(shared_bob)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        pytest.param({}, "M_MISSING_PARAM", id="no-devices"),
        pytest.param({"devices": "BOBLAPTOP"}, "M_BAD_JSON", id="devices-a-string"),
        pytest.param({"devices": ["BOBLAPTOP", 5]}, "M_BAD_JSON", id="a-device-not-a-string"),
    ],
)
def test_delete_devices_errors(shared_bob: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_bob.post(f"{V3}/delete_devices", json={**body, "auth": password_auth()}), 400, errcode)
    assert "BOBLAPTOP" in device_ids(shared_bob)


def test_guests_may_list_but_not_delete_devices(shared: LiveServer) -> None:
    with shared.client() as anon:
        guest = anon.post(f"{V3}/register", params={"kind": "guest"}, json={}).json()
    with shared.client(guest["access_token"]) as client:
        assert device_ids(client) == [guest["device_id"]]
        r = client.request("DELETE", f"{V3}/devices/{guest['device_id']}", json={})
        assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")
        assert_error(client.post(f"{V3}/delete_devices", json={"devices": []}), 403, "M_GUEST_ACCESS_FORBIDDEN")


def test_r0_serves_devices_too(shared: LiveServer) -> None:
    with shared.client(ALICE_TOKEN) as client:
        r = client.get("/_matrix/client/r0/devices")
        assert r.status_code == 200, r.text
        assert [device["user_id"] for device in r.json()["devices"]] == [ALICE]


def test_deleting_a_device_drops_its_to_device_messages(mock: LiveServer, alice: httpx.Client) -> None:
    spare = login(mock, "bob", "bob-pass", device_id="SPARE")
    r = alice.put(f"{V3}/sendToDevice/org.example.ping/t1", json={"messages": {BOB: {"SPARE": {"n": 1}}}})
    assert r.status_code == 200, r.text
    with mock.client(BOB_PHONE_TOKEN) as phone:
        r = phone.request("DELETE", f"{V3}/devices/SPARE", json={"auth": password_auth()})
        assert r.status_code == 200, r.text
    # The same device id, logged in again, is a new device: the old one's messages are gone with it.
    again = login(mock, "bob", "bob-pass", device_id="SPARE")
    assert again["device_id"] == spare["device_id"]
    with mock.client(again["access_token"]) as client:
        r = client.get(f"{V3}/sync", params={"timeout": 0})
        assert r.status_code == 200, r.text
        assert r.json().get("to_device", {}).get("events", []) == []
