"""Sessions over the wire: `/versions`, `/login`, `/logout`, `/register?kind=guest`, `/account/whoami`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, ALICE_TOKEN, LiveServer, assert_error

LOGIN = "/_matrix/client/v3/login"
WHOAMI = "/_matrix/client/v3/account/whoami"


def password_login(user: str, password: str = "alice-pass", **extra: Any) -> dict[str, Any]:
    return {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
        **extra,
    }


def whoami(mock: LiveServer, token: str) -> dict[str, Any]:
    with mock.client(token) as client:
        r = client.get(WHOAMI)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def anon(shared: LiveServer) -> Iterator[httpx.Client]:
    """A client without credentials on the shared mock."""
    with shared.client() as client:
        yield client


def test_versions_lists_spec_versions_without_auth(anon: httpx.Client) -> None:
    r = anon.get("/_matrix/client/versions")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"r0.6.1", "v1.1"} <= set(body["versions"])
    assert all(isinstance(v, str) for v in body["versions"])
    assert isinstance(body["unstable_features"], dict)
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("prefix", ["v3", "r0"])
def test_login_flows_offer_password_login(anon: httpx.Client, prefix: str) -> None:
    r = anon.get(f"/_matrix/client/{prefix}/login")
    assert r.status_code == 200, r.text
    assert {"type": "m.login.password"} in r.json()["flows"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(password_login("alice"), id="m.id.user-localpart"),
        pytest.param(password_login(ALICE), id="m.id.user-full-id"),
        pytest.param(password_login("Alice"), id="m.id.user-other-case"),
        pytest.param(password_login("@ALICE:localhost"), id="m.id.user-full-id-other-case"),
        pytest.param({"type": "m.login.password", "user": "alice", "password": "alice-pass"}, id="legacy-user"),
        pytest.param({"type": "m.login.password", "user": ALICE, "password": "alice-pass"}, id="legacy-full-id"),
    ],
)
def test_password_login_gives_a_working_token(shared: LiveServer, anon: httpx.Client, body: dict[str, Any]) -> None:
    r = anon.post(LOGIN, json=body)
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["user_id"] == ALICE
    assert session["home_server"] == "localhost"
    assert isinstance(session["access_token"], str) and session["access_token"]
    assert isinstance(session["device_id"], str) and session["device_id"]
    assert whoami(shared, session["access_token"]) == {
        "user_id": ALICE,
        "device_id": session["device_id"],
        "is_guest": False,
    }


def test_each_login_gets_its_own_token_and_device(anon: httpx.Client) -> None:
    first = anon.post(LOGIN, json=password_login("alice"))
    second = anon.post(LOGIN, json=password_login("alice"))
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["access_token"] != second.json()["access_token"]
    assert first.json()["device_id"] != second.json()["device_id"]


def test_login_with_a_chosen_device_id(shared: LiveServer, anon: httpx.Client) -> None:
    r = anon.post(LOGIN, json=password_login("alice", device_id="MYLAPTOP", initial_device_display_name="Laptop"))
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "MYLAPTOP"
    assert whoami(shared, r.json()["access_token"])["device_id"] == "MYLAPTOP"


def test_r0_login_works_too(shared: LiveServer, anon: httpx.Client) -> None:
    r = anon.post("/_matrix/client/r0/login", json=password_login("alice"))
    assert r.status_code == 200, r.text
    assert whoami(shared, r.json()["access_token"])["user_id"] == ALICE


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        pytest.param(password_login("alice", "wrong"), 403, "M_FORBIDDEN", id="wrong-password"),
        pytest.param(password_login("mallory", "x"), 403, "M_FORBIDDEN", id="unknown-user"),
        pytest.param(password_login("@alice:elsewhere.example"), 403, "M_FORBIDDEN", id="remote-user"),
        pytest.param(password_login("bob"), 403, "M_FORBIDDEN", id="someone-elses-password"),
        pytest.param({}, 400, "M_MISSING_PARAM", id="empty"),
        pytest.param({"type": "m.login.password", "user": "alice"}, 400, "M_MISSING_PARAM", id="no-password"),
        pytest.param({"type": "m.login.password", "password": "alice-pass"}, 400, "M_MISSING_PARAM", id="no-user"),
        pytest.param(
            {"identifier": {"type": "m.id.user", "user": "alice"}, "password": "alice-pass"},
            400,
            "M_MISSING_PARAM",
            id="no-type",
        ),
        pytest.param(
            {"type": "m.login.password", "identifier": {"type": "m.id.user"}, "password": "alice-pass"},
            400,
            "M_MISSING_PARAM",
            id="identifier-without-user",
        ),
        pytest.param({**password_login("alice"), "type": "m.login.token"}, 400, "M_UNKNOWN", id="other-login-type"),
        pytest.param({**password_login("alice"), "password": 12345}, 400, "M_BAD_JSON", id="password-not-a-string"),
    ],
)
def test_login_errors(anon: httpx.Client, body: dict[str, Any], status: int, errcode: str) -> None:
    assert_error(anon.post(LOGIN, json=body), status, errcode)


@pytest.mark.parametrize(("content", "errcode"), [(b"not json", "M_NOT_JSON"), (b"[]", "M_BAD_JSON")])
def test_login_body_must_be_a_json_object(anon: httpx.Client, content: bytes, errcode: str) -> None:
    assert_error(anon.post(LOGIN, content=content), 400, errcode)


def test_whoami_of_a_scenario_token(shared: LiveServer) -> None:
    assert whoami(shared, ALICE_TOKEN) == {"user_id": ALICE, "device_id": "ALICEDEV", "is_guest": False}


@pytest.mark.parametrize(
    ("headers", "errcode"),
    [
        ({}, "M_MISSING_TOKEN"),
        ({"Authorization": "Bearer nobody-has-this"}, "M_UNKNOWN_TOKEN"),
        ({"Authorization": "Basic YWxpY2U6YWxpY2UtcGFzcw=="}, "M_MISSING_TOKEN"),
    ],
)
def test_whoami_needs_a_known_token(anon: httpx.Client, headers: dict[str, str], errcode: str) -> None:
    assert_error(anon.get(WHOAMI, headers=headers), 401, errcode)


def test_logout_makes_the_token_unknown(shared: LiveServer, anon: httpx.Client) -> None:
    token = anon.post(LOGIN, json=password_login("alice")).json()["access_token"]
    with shared.client(token) as client:
        r = client.post("/_matrix/client/v3/logout", json={})
        assert r.status_code == 200, r.text
        assert r.json() == {}
        error = assert_error(client.get(WHOAMI), 401, "M_UNKNOWN_TOKEN")
        assert error["soft_logout"] is False
        assert_error(client.post("/_matrix/client/v3/logout", json={}), 401, "M_UNKNOWN_TOKEN")
    assert whoami(shared, ALICE_TOKEN)["device_id"] == "ALICEDEV"


def test_logout_of_a_scenario_token(mock: LiveServer) -> None:
    with mock.client("bob-laptop-token") as laptop:
        r = laptop.post("/_matrix/client/v3/logout")
        assert r.status_code == 200, r.text
        assert_error(laptop.get(WHOAMI), 401, "M_UNKNOWN_TOKEN")
    assert whoami(mock, "bob-phone-token")["device_id"] == "BOBPHONE"


def test_guest_registration_gives_a_guest(shared: LiveServer, anon: httpx.Client) -> None:
    r = anon.post("/_matrix/client/v3/register", params={"kind": "guest"}, json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"].startswith("@") and body["user_id"].endswith(":localhost")
    assert body["home_server"] == "localhost"
    me = whoami(shared, body["access_token"])
    assert me == {"user_id": body["user_id"], "device_id": body["device_id"], "is_guest": True}


def test_two_guests_are_different_users(anon: httpx.Client) -> None:
    first = anon.post("/_matrix/client/v3/register", params={"kind": "guest"}, json={})
    second = anon.post("/_matrix/client/v3/register", params={"kind": "guest"}, json={})
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["user_id"] != second.json()["user_id"]


def test_register_of_an_unknown_kind_is_refused(anon: httpx.Client) -> None:
    # User registration has tests of its own, in test_api_register.py.
    assert_error(anon.post("/_matrix/client/v3/register", params={"kind": "admin"}, json={}), 400, "M_INVALID_PARAM")


def test_a_guest_cannot_log_in_with_a_password(anon: httpx.Client) -> None:
    guest = anon.post("/_matrix/client/v3/register", params={"kind": "guest"}, json={}).json()
    r = anon.post(LOGIN, json=password_login(guest["user_id"], ""))
    assert_error(r, 403, "M_FORBIDDEN")
