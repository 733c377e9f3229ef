"""What the recorder keeps of hostile bodies (byte for byte where they cannot be parsed) and the secrets it finds in
bodies that are not JSON."""

from __future__ import annotations

import base64

import pytest

from mockmx.record.entry import body_fields
from mockmx.record.redact import Redactor


@pytest.mark.parametrize(
    "raw",
    [b'{"n":1e400}', b'{"s":"\\ud800"}', b'{"n":9007199254740993}', b'{"n":NaN}', b"{" * 10000, b'{"a":1'],
)
def test_a_body_no_server_could_serve_back_is_kept_as_text_exactly(raw: bytes) -> None:
    assert body_fields(raw, "application/json") == {"text": raw.decode()}


def test_bytes_that_are_not_utf8_are_kept_exactly() -> None:
    raw = b'{"s":"\xed\xa0\x80"}'
    assert base64.b64decode(body_fields(raw, "application/json")["base64"]) == raw


def test_registration_mac_and_nonce_are_redacted() -> None:
    body = {"nonce": "n0nce", "username": "u", "password": "p", "mac": "abcdef", "admin": False}
    entry = {"request": {"headers": {}, "body": dict(body)}}
    redacted = Redactor().redact(entry)["request"]["body"]
    assert redacted["nonce"].startswith("<secret:") and redacted["mac"].startswith("<secret:"), redacted
    assert redacted["password"] == "<password:1>", redacted


def test_credentials_in_a_body_that_is_not_json_are_redacted_by_key() -> None:
    entry = {
        "request": {"headers": {}, "text": '{"password": "hunter2", "auth": {"token": "reg-tok"}, oops'},
        "response": {"headers": {}, "text": "user=a&password=s3cret&access_token=tok1"},
    }
    redacted = Redactor().redact(entry)
    text = redacted["request"]["text"] + redacted["response"]["text"]
    for secret in ("hunter2", "reg-tok", "s3cret", "tok1"):
        assert secret not in text, text
    assert '"password": "<password:1>"' in redacted["request"]["text"]
