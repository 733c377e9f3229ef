"""Keeping a session and the account: `/refresh`, `/logout/all`, `/account/password`, `/account/3pid`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE_TOKEN, BOB_LAPTOP_TOKEN, BOB_PHONE_TOKEN, LiveServer, assert_error

V3 = "/_matrix/client/v3"
WHOAMI = f"{V3}/account/whoami"
REFRESH = f"{V3}/refresh"


def password_login(user: str = "alice", password: str = "alice-pass", **extra: Any) -> dict[str, Any]:
    return {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
        **extra,
    }


def works(mock: LiveServer, token: str) -> bool:
    """Whether `token` is a valid access token (using it, as a client would)."""
    with mock.client(token) as client:
        r = client.get(WHOAMI)
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


@pytest.fixture
def anon(mock: LiveServer) -> Iterator[httpx.Client]:
    """A client without credentials on the test's own mock."""
    with mock.client() as client:
        yield client


def refreshable_login(anon: httpx.Client) -> dict[str, Any]:
    r = anon.post(f"{V3}/login", json=password_login(refresh_token=True))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refresh(anon: httpx.Client, refresh_token: str) -> dict[str, Any]:
    r = anon.post(REFRESH, json={"refresh_token": refresh_token})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# -- refresh tokens ------------------------------------------------------------------------------------------


def test_login_gives_a_refresh_token_when_asked(anon: httpx.Client) -> None:
    body = refreshable_login(anon)
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["expires_in_ms"] == 300_000
    plain = anon.post(f"{V3}/login", json=password_login(refresh_token=False))
    assert plain.status_code == 200, plain.text
    assert "refresh_token" not in plain.json() and "expires_in_ms" not in plain.json()


def test_registration_gives_a_refresh_token_when_asked(mock: LiveServer, anon: httpx.Client) -> None:
    body = {"username": "carol", "password": "p", "refresh_token": True, "auth": {"type": "m.login.dummy"}}
    r = anon.post(f"{V3}/register", json=body)
    assert r.status_code == 200, r.text
    fresh = refresh(anon, r.json()["refresh_token"])
    assert works(mock, fresh["access_token"])


def test_refresh_gives_a_new_pair_for_the_same_device(mock: LiveServer, anon: httpx.Client) -> None:
    first = refreshable_login(anon)
    second = refresh(anon, first["refresh_token"])
    assert second["expires_in_ms"] == 300_000
    assert {second["access_token"], second["refresh_token"]}.isdisjoint(first.values())
    with mock.client(second["access_token"]) as client:
        assert client.get(WHOAMI).json()["device_id"] == first["device_id"]


def test_the_old_pair_works_until_the_new_access_token_is_used(mock: LiveServer, anon: httpx.Client) -> None:
    first = refreshable_login(anon)
    second = refresh(anon, first["refresh_token"])
    # Unused yet: the old access token still works, and the old refresh token may be tried again (a lost answer).
    assert works(mock, first["access_token"])
    third = refresh(anon, first["refresh_token"])
    assert not works(mock, second["access_token"])  # the pair it gave before is replaced
    assert works(mock, third["access_token"])  # first use of the new pair: the old one is gone
    assert not works(mock, first["access_token"])
    assert_error(anon.post(REFRESH, json={"refresh_token": first["refresh_token"]}), 401, "M_UNKNOWN_TOKEN")
    assert works(mock, third["access_token"])


def test_using_the_new_refresh_token_revokes_the_old_pair(mock: LiveServer, anon: httpx.Client) -> None:
    first = refreshable_login(anon)
    second = refresh(anon, first["refresh_token"])
    third = refresh(anon, second["refresh_token"])
    assert not works(mock, first["access_token"])
    assert_error(anon.post(REFRESH, json={"refresh_token": first["refresh_token"]}), 401, "M_UNKNOWN_TOKEN")
    assert works(mock, third["access_token"])


def test_logging_out_revokes_the_refresh_token(mock: LiveServer, anon: httpx.Client) -> None:
    first = refreshable_login(anon)
    with mock.client(first["access_token"]) as client:
        assert client.post(f"{V3}/logout", json={}).status_code == 200
    assert_error(anon.post(REFRESH, json={"refresh_token": first["refresh_token"]}), 401, "M_UNKNOWN_TOKEN")


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        pytest.param({"refresh_token": "syr_nosuch"}, 401, "M_UNKNOWN_TOKEN", id="unknown"),
        pytest.param({"refresh_token": ALICE_TOKEN}, 401, "M_UNKNOWN_TOKEN", id="an-access-token"),
        pytest.param({}, 400, "M_MISSING_PARAM", id="missing"),
        pytest.param({"refresh_token": 5}, 400, "M_BAD_JSON", id="not-a-string"),
    ],
)
def test_refresh_errors(shared: LiveServer, body: dict[str, Any], status: int, errcode: str) -> None:
    with shared.client() as anon:
        error = assert_error(anon.post(REFRESH, json=body), status, errcode)
    if status == 401:
        assert error["soft_logout"] is False


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_login_refresh_token_must_be_a_bool(shared: LiveServer, value: Any) -> None:
    with shared.client() as anon:
        assert_error(anon.post(f"{V3}/login", json=password_login(refresh_token=value)), 400, "M_BAD_JSON")


# -- logging out everywhere ----------------------------------------------------------------------------------


def test_logout_all_logs_out_every_device(mock: LiveServer) -> None:
    with mock.client() as anon:
        extra = anon.post(f"{V3}/login", json=password_login("bob", "bob-pass")).json()["access_token"]
    with mock.client(BOB_PHONE_TOKEN) as phone:
        r = phone.post(f"{V3}/logout/all", json={})
        assert r.status_code == 200, r.text
        assert r.json() == {}
    for token in (BOB_PHONE_TOKEN, BOB_LAPTOP_TOKEN, extra):
        assert not works(mock, token)
    assert works(mock, ALICE_TOKEN)
    with mock.client() as anon:
        login = anon.post(f"{V3}/login", json=password_login("bob", "bob-pass")).json()
    with mock.client(login["access_token"]) as client:
        assert [device["device_id"] for device in client.get(f"{V3}/devices").json()["devices"]] == [login["device_id"]]


# -- the account ---------------------------------------------------------------------------------------------


def test_threepids_are_none(shared_alice: httpx.Client) -> None:
    r = shared_alice.get(f"{V3}/account/3pid")
    assert r.status_code == 200, r.text
    assert r.json() == {"threepids": []}


def test_password_change_goes_through_the_password_stage(mock: LiveServer) -> None:
    with mock.client(BOB_PHONE_TOKEN) as phone:
        first = phone.post(f"{V3}/account/password", json={"new_password": "new-pass"})
        assert first.status_code == 401, first.text
        session = first.json()["session"]
        assert first.json()["flows"] == [{"stages": ["m.login.password"]}]
        auth = {**password_login("bob", "bob-pass"), "session": session}
        r = phone.post(f"{V3}/account/password", json={"new_password": "new-pass", "auth": auth})
        assert r.status_code == 200, r.text
        assert r.json() == {}
    # The token that asked stays; bob's other devices are logged out (logout_devices defaults to true).
    assert works(mock, BOB_PHONE_TOKEN)
    assert not works(mock, BOB_LAPTOP_TOKEN)
    with mock.client() as anon:
        assert_error(anon.post(f"{V3}/login", json=password_login("bob", "bob-pass")), 403, "M_FORBIDDEN")
        assert anon.post(f"{V3}/login", json=password_login("bob", "new-pass")).status_code == 200


def test_password_change_may_keep_the_other_devices(mock: LiveServer) -> None:
    with mock.client(BOB_PHONE_TOKEN) as phone:
        body = {"new_password": "new-pass", "logout_devices": False, "auth": password_login("bob", "bob-pass")}
        r = phone.post(f"{V3}/account/password", json=body)
        assert r.status_code == 200, r.text
    assert works(mock, BOB_LAPTOP_TOKEN)


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        pytest.param({"auth": password_login()}, 400, "M_MISSING_PARAM", id="no-new-password"),
        pytest.param({"new_password": 5}, 400, "M_BAD_JSON", id="new-password-not-a-string"),
        pytest.param({"new_password": "x" * 513}, 400, "M_INVALID_PARAM", id="new-password-over-512"),
        pytest.param({"new_password": "x", "logout_devices": "no"}, 400, "M_BAD_JSON", id="logout-devices-not-a-bool"),
        pytest.param(
            {"new_password": "x", "auth": password_login("alice", "wrong")}, 401, "M_FORBIDDEN", id="wrong-password"
        ),
        pytest.param(
            {"new_password": "x", "auth": password_login("bob", "bob-pass")}, 403, "M_FORBIDDEN", id="another-user"
        ),
    ],
)
def test_password_change_errors(
    shared: LiveServer, shared_alice: httpx.Client, body: dict[str, Any], status: int, errcode: str
) -> None:
    assert_error(shared_alice.post(f"{V3}/account/password", json=body), status, errcode)
    with shared.client() as anon:
        assert anon.post(f"{V3}/login", json=password_login()).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/logout/all"), ("GET", "/account/3pid"), ("POST", "/account/password")],
)
def test_guests_may_not(shared: LiveServer, method: str, path: str) -> None:
    with shared.client() as anon:
        guest = anon.post(f"{V3}/register", params={"kind": "guest"}, json={}).json()
    with shared.client(guest["access_token"]) as client:
        assert_error(client.request(method, V3 + path, json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/logout/all"), ("GET", "/account/3pid"), ("POST", "/account/password")],
)
@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("no-such-token", "M_UNKNOWN_TOKEN")])
def test_account_endpoints_need_a_known_token(
    shared: LiveServer, method: str, path: str, token: str | None, errcode: str
) -> None:
    with shared.client(token) as client:
        assert_error(client.request(method, V3 + path, json={}), 401, errcode)
