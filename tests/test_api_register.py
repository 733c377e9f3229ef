"""Registration over the wire: `POST /register` with its `m.login.dummy` stage, and `GET /register/available`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, assert_error

V3 = "/_matrix/client/v3"
REGISTER = f"{V3}/register"
AVAILABLE = f"{V3}/register/available"
CLOSED = "server_name: localhost\nusers:\n  - id: alice\n    password: alice-pass\n"


@pytest.fixture
def anon(mock: LiveServer) -> Iterator[httpx.Client]:
    """A client without credentials on the test's own mock."""
    with mock.client() as client:
        yield client


@pytest.fixture
def shared_anon(shared: LiveServer) -> Iterator[httpx.Client]:
    """A client without credentials on the module's shared mock."""
    with shared.client() as client:
        yield client


def dummy_session(r: httpx.Response) -> str:
    """`r` is the first answer of a registration: UIA's 401 offering the dummy stage; its session."""
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["flows"] == [{"stages": ["m.login.dummy"]}], body
    assert body["params"] == {}, body
    assert "errcode" not in body and "completed" not in body, body
    session: str = body["session"]
    return session


def register(client: httpx.Client, **body: Any) -> httpx.Response:
    """Both steps of a registration with `body`: the challenge, then the dummy stage with the whole body again."""
    session = dummy_session(client.post(REGISTER, json=body))
    return client.post(REGISTER, json={**body, "auth": {"type": "m.login.dummy", "session": session}})


def whoami(mock: LiveServer, token: str) -> dict[str, Any]:
    with mock.client(token) as client:
        r = client.get(f"{V3}/account/whoami")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_register_makes_a_user_who_is_logged_in(mock: LiveServer, anon: httpx.Client) -> None:
    r = register(anon, username="carol", password="carol-pass", initial_device_display_name="Carol's phone")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == "@carol:localhost"
    assert body["home_server"] == "localhost"
    assert "refresh_token" not in body and "expires_in_ms" not in body
    assert whoami(mock, body["access_token"]) == {
        "user_id": "@carol:localhost",
        "device_id": body["device_id"],
        "is_guest": False,
    }
    with mock.client(body["access_token"]) as carol:
        r = carol.get(f"{V3}/devices/{body['device_id']}")
        assert r.json()["display_name"] == "Carol's phone", r.text
    # The new user logs in with the password like any other.
    login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"}, "password": "carol-pass"}
    assert anon.post(f"{V3}/login", json=login).status_code == 200


def test_the_second_request_may_carry_only_auth(mock: LiveServer, anon: httpx.Client) -> None:
    # The session remembers the first request's parameters, password included.
    session = dummy_session(anon.post(REGISTER, json={"username": "dave", "password": "dave-pass", "device_id": "D"}))
    r = anon.post(REGISTER, json={"auth": {"type": "m.login.dummy", "session": session}})
    assert r.status_code == 200, r.text
    assert (r.json()["user_id"], r.json()["device_id"]) == ("@dave:localhost", "D")


def test_the_password_is_remembered_when_later_parameters_leave_it_out(anon: httpx.Client) -> None:
    session = dummy_session(anon.post(REGISTER, json={"username": "erin", "password": "erin-pass"}))
    r = anon.post(REGISTER, json={"username": "erin", "auth": {"type": "m.login.dummy", "session": session}})
    assert r.status_code == 200, r.text
    login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "erin"}, "password": "erin-pass"}
    assert anon.post(f"{V3}/login", json=login).status_code == 200


def test_dummy_auth_without_a_session_registers_at_once(anon: httpx.Client) -> None:
    r = anon.post(REGISTER, json={"username": "fay", "password": "p", "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@fay:localhost"


def test_without_a_username_a_numbered_user_is_made(anon: httpx.Client) -> None:
    first = register(anon, password="p")
    second = register(anon, password="p")
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    ids = {first.json()["user_id"], second.json()["user_id"]}
    assert len(ids) == 2
    assert all(user_id[1:].split(":")[0].isdigit() for user_id in ids), ids


def test_usernames_are_lower_cased(anon: httpx.Client) -> None:
    r = register(anon, username="Gina", password="p")
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@gina:localhost"


def test_inhibit_login_makes_the_account_only(anon: httpx.Client) -> None:
    r = register(anon, username="hal", password="p", inhibit_login=True)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": "@hal:localhost", "home_server": "localhost"}


def test_a_chosen_device_id_is_kept(mock: LiveServer, anon: httpx.Client) -> None:
    r = register(anon, username="ivy", password="p", device_id="IVYPHONE")
    assert r.status_code == 200, r.text
    assert whoami(mock, r.json()["access_token"])["device_id"] == "IVYPHONE"


def test_a_repeated_completion_logs_the_same_user_in_again(anon: httpx.Client) -> None:
    # A client whose answer got lost repeats the request; the account is not made twice.
    session = dummy_session(anon.post(REGISTER, json={"password": "p"}))
    auth = {"auth": {"type": "m.login.dummy", "session": session}}
    first = anon.post(REGISTER, json=auth)
    again = anon.post(REGISTER, json=auth)
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert first.json()["user_id"] == again.json()["user_id"]
    assert first.json()["access_token"] != again.json()["access_token"]


def test_a_taken_username_is_refused_before_the_stage(anon: httpx.Client) -> None:
    assert_error(anon.post(REGISTER, json={"username": "alice", "password": "p"}), 400, "M_USER_IN_USE")
    assert_error(anon.post(REGISTER, json={"username": "ALICE", "password": "p"}), 400, "M_USER_IN_USE")


def test_a_username_taken_between_the_two_requests_is_refused(anon: httpx.Client) -> None:
    session = dummy_session(anon.post(REGISTER, json={"username": "jay", "password": "p"}))
    assert register(anon, username="jay", password="p").status_code == 200
    r = anon.post(REGISTER, json={"auth": {"type": "m.login.dummy", "session": session}})
    assert_error(r, 400, "M_USER_IN_USE")


INVALID_USERNAMES = [
    pytest.param("bad name", id="space"),
    pytest.param("@kim:localhost", id="full-id"),
    pytest.param("kim#", id="hash"),
    pytest.param("émile", id="non-ascii"),
    pytest.param("", id="empty"),
    pytest.param("_kim", id="leading-underscore"),
    pytest.param("12345", id="numeric"),
    pytest.param("k" * 250, id="over-255-with-the-server-name"),
]


@pytest.mark.parametrize("username", INVALID_USERNAMES)
def test_register_refuses_invalid_usernames(shared_anon: httpx.Client, username: str) -> None:
    assert_error(shared_anon.post(REGISTER, json={"username": username, "password": "p"}), 400, "M_INVALID_USERNAME")


@pytest.mark.parametrize("username", ["kim", "k.i-m_=/+", "kim2", "k" * 200])
def test_valid_usernames_are_available(shared_anon: httpx.Client, username: str) -> None:
    r = shared_anon.get(AVAILABLE, params={"username": username})
    assert r.status_code == 200, r.text
    assert r.json() == {"available": True}


@pytest.mark.parametrize(
    ("params", "status", "errcode"),
    [
        pytest.param({"username": "alice"}, 400, "M_USER_IN_USE", id="taken"),
        # Unlike registration, the check takes the name as given.
        pytest.param({"username": "Kim"}, 400, "M_INVALID_USERNAME", id="upper-case"),
        *(pytest.param({"username": p.values[0]}, 400, "M_INVALID_USERNAME", id=p.id) for p in INVALID_USERNAMES),
        pytest.param({}, 400, "M_MISSING_PARAM", id="no-username"),
    ],
)
def test_available_errors(shared_anon: httpx.Client, params: dict[str, str], status: int, errcode: str) -> None:
    assert_error(shared_anon.get(AVAILABLE, params=params), status, errcode)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        pytest.param({"username": 5, "password": "p"}, "M_BAD_JSON", id="username-not-a-string"),
        pytest.param({"password": 5}, "M_BAD_JSON", id="password-not-a-string"),
        pytest.param({"password": "p" * 513}, "M_INVALID_PARAM", id="password-over-512"),
        pytest.param({"password": "p", "device_id": 5}, "M_BAD_JSON", id="device-id-not-a-string"),
        pytest.param({"password": "p", "initial_device_display_name": []}, "M_BAD_JSON", id="device-name-not-a-string"),
        pytest.param({"password": "p", "inhibit_login": "yes"}, "M_BAD_JSON", id="inhibit-login-not-a-bool"),
        pytest.param({"password": "p", "refresh_token": "yes"}, "M_BAD_JSON", id="refresh-token-not-a-bool"),
        pytest.param({"password": "p", "auth": "dummy"}, "M_BAD_JSON", id="auth-not-an-object"),
        pytest.param(
            {"password": "p", "auth": {"type": "m.login.dummy", "session": "nosuch"}}, "M_UNKNOWN", id="unknown-session"
        ),
    ],
)
def test_register_errors(shared_anon: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_anon.post(REGISTER, json=body), 400, errcode)


def test_a_password_is_required(shared_anon: httpx.Client) -> None:
    # Only checked once the stage is done, as Synapse does: the challenge comes first.
    session = dummy_session(shared_anon.post(REGISTER, json={"username": "lee"}))
    r = shared_anon.post(REGISTER, json={"auth": {"type": "m.login.dummy", "session": session}})
    assert_error(r, 400, "M_MISSING_PARAM")


def test_another_stage_type_is_not_accepted(shared_anon: httpx.Client) -> None:
    session = dummy_session(shared_anon.post(REGISTER, json={"password": "p"}))
    auth = {"type": "m.login.password", "session": session, "password": "p"}
    r = shared_anon.post(REGISTER, json={"auth": auth})
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["errcode"] == "M_UNRECOGNIZED"
    assert (body["session"], body["completed"]) == (session, [])


def test_a_session_of_another_endpoint_does_not_register(shared: LiveServer, shared_anon: httpx.Client) -> None:
    with shared.client("bob-phone-token") as bob:
        r = bob.request("DELETE", f"{V3}/devices/BOBLAPTOP", json={})
        assert r.status_code == 401, r.text
        session = r.json()["session"]
    r = shared_anon.post(REGISTER, json={"password": "p", "auth": {"type": "m.login.dummy", "session": session}})
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", REGISTER, {}),
        ("POST", REGISTER, {"kind": "user"}),
        ("GET", AVAILABLE, {"username": "kim"}),
    ],
)
def test_registration_off_is_403(
    serve_yaml: Callable[[str], LiveServer], method: str, path: str, params: dict[str, str]
) -> None:
    mock = serve_yaml(CLOSED)
    with mock.client() as anon:
        assert_error(anon.request(method, path, params=params, json={"password": "p"}), 403, "M_FORBIDDEN")


@pytest.mark.parametrize("kind", ["user", "guest"])
def test_a_registration_without_a_body_is_not_json(shared_anon: httpx.Client, kind: str) -> None:
    # Synapse reads the body before anything else, a guest's too, and an empty one is not JSON.
    assert_error(shared_anon.post(REGISTER, params={"kind": kind}), 400, "M_NOT_JSON")


def test_guests_register_when_registration_is_off(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(CLOSED + "registration:\n  enabled: false\n")
    with mock.client() as anon:
        r = anon.post(REGISTER, params={"kind": "guest"}, json={})
    assert r.status_code == 200, r.text
    assert whoami(mock, r.json()["access_token"])["is_guest"] is True


def test_a_scenario_opens_registration(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(CLOSED + "registration:\n  enabled: true\n")
    with mock.client() as anon:
        assert register(anon, username="kim", password="p").status_code == 200


def test_r0_registers_too(shared_anon: httpx.Client) -> None:
    session = dummy_session(shared_anon.post("/_matrix/client/r0/register", json={"password": "p"}))
    r = shared_anon.post("/_matrix/client/r0/register", json={"auth": {"type": "m.login.dummy", "session": session}})
    assert r.status_code == 200, r.text
