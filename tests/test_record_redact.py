"""Secrets out of recorded flows: stable placeholders, wherever the secret stands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockmx.record.redact import DEFAULT_FIELDS, Redactor

TOKEN = "syt_cmVjYWxpY2U_aBcDeFgHiJkLmNoPqRsT_1x2y3z"
OTHER_TOKEN = "syt_cmVjYm9i_ZzYyXxWwVvUuTtSsRrQq_9a8b7c"


def _flow(
    *,
    path: str = "/_matrix/client/v3/account/whoami",
    query: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
    body: Any = None,
    response_body: Any = None,
    response_headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "path": path, "headers": headers or {}}
    if query is not None:
        request["query"] = query
    if body is not None:
        request["body"] = body
    response: dict[str, Any] = {"status": 200, "headers": response_headers or {}}
    if response_body is not None:
        response["body"] = response_body
    return {"id": 1, "leg": "client", "at": 0.0, "request": request, "response": response}


def test_a_login_loses_its_password_and_the_token_it_returned() -> None:
    redactor = Redactor()
    login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}, "password": "hunter2"}
    answer = {"user_id": "@alice:localhost", "access_token": TOKEN, "refresh_token": "refresh-me-please"}
    entry = redactor.redact(_flow(path="/_matrix/client/v3/login", body=login, response_body=answer))
    assert entry["request"]["body"]["password"] == "<password:1>"
    assert entry["request"]["body"]["identifier"] == {"type": "m.id.user", "user": "alice"}
    assert entry["response"]["body"] == {
        "user_id": "@alice:localhost",
        "access_token": "<token:1>",
        "refresh_token": "<token:2>",
    }


def test_the_same_token_gets_the_same_placeholder_in_headers_query_and_bodies() -> None:
    redactor = Redactor()
    first = redactor.redact(_flow(response_body={"access_token": TOKEN}))
    by_header = redactor.redact(_flow(headers={"authorization": f"Bearer {TOKEN}"}))
    by_query = redactor.redact(_flow(query={"access_token": TOKEN, "since": "s1"}))
    other = redactor.redact(_flow(headers={"authorization": f"Bearer {OTHER_TOKEN}"}))
    assert first["response"]["body"]["access_token"] == "<token:1>"
    assert by_header["request"]["headers"]["authorization"] == "Bearer <token:1>"
    assert by_query["request"]["query"] == {"access_token": "<token:1>", "since": "s1"}
    assert other["request"]["headers"]["authorization"] == "Bearer <token:2>"


@pytest.mark.parametrize(
    ("field", "kind"),
    [("new_password", "password"), ("token", "token"), ("client_secret", "secret"), ("id_access_token", "token")],
)
def test_credentials_are_redacted_at_any_depth(field: str, kind: str) -> None:
    body = {"auth": {"type": "m.login.password", "session": "xyz", field: "s3cret-value"}, "logout_devices": False}
    entry = Redactor().redact(_flow(body=body))
    assert entry["request"]["body"]["auth"] == {"type": "m.login.password", "session": "xyz", field: f"<{kind}:1>"}


def test_cookies_and_other_authorization_schemes_are_redacted() -> None:
    entry = Redactor().redact(
        _flow(
            headers={"authorization": "Basic YWxpY2U6cGFzcw==", "cookie": "session=abc123"},
            response_headers={"set-cookie": ["a=1; HttpOnly", "b=2"], "content-type": "application/json"},
        )
    )
    assert entry["request"]["headers"] == {"authorization": "Basic <secret:1>", "cookie": "<cookie:1>"}
    assert entry["response"]["headers"] == {
        "set-cookie": ["<cookie:2>", "<cookie:3>"],
        "content-type": "application/json",
    }


def test_a_learnt_secret_is_replaced_wherever_it_shows_up_later() -> None:
    redactor = Redactor()
    redactor.redact(_flow(response_body={"access_token": TOKEN}))
    entry = redactor.redact(_flow(body={"note": f"my token is {TOKEN}!", TOKEN: 1}))
    assert entry["request"]["body"] == {"note": "my token is <token:1>!", "<token:1>": 1}


def test_a_short_password_is_not_replaced_inside_other_words() -> None:
    redactor = Redactor()
    entry = redactor.redact(_flow(body={"password": "pass", "type": "m.login.password"}))
    assert entry["request"]["body"] == {"password": "<password:1>", "type": "m.login.password"}
    later = redactor.redact(_flow(body={"description": "pass", "type": "m.login.password"}))
    assert later["request"]["body"] == {"description": "<password:1>", "type": "m.login.password"}


def test_pushkeys_event_ids_and_stream_tokens_are_kept() -> None:
    pusher = {"kind": "http", "pushkey": "PUSHKEY_REC", "app_id": "a", "data": {"url": "http://gw/notify"}}
    answer = {"next_batch": "s72_1", "rooms": {"join": {}}, "event_id": "$abc"}
    entry = Redactor().redact(_flow(body=pusher, response_body=answer))
    assert entry["request"]["body"] == pusher
    assert entry["response"]["body"] == answer


def test_redaction_is_configurable() -> None:
    redactor = Redactor.configured(redact=["pushkey"], keep=["token"])
    entry = redactor.redact(_flow(body={"pushkey": "PUSHKEY_REC", "token": "login-token-kept", "password": "pw"}))
    assert entry["request"]["body"] == {
        "pushkey": "<secret:1>",
        "token": "login-token-kept",
        "password": "<password:1>",
    }
    assert set(DEFAULT_FIELDS) >= {"access_token", "refresh_token", "password", "new_password"}


def test_empty_and_non_string_secrets() -> None:
    entry = Redactor().redact(_flow(body={"password": "", "token": None, "client_secret": 12345}))
    assert entry["request"]["body"] == {"password": "", "token": None, "client_secret": "<secret:1>"}
    assert "12345" not in json.dumps(entry)
