"""What the recorder keeps of hostile bodies (byte for byte where they cannot be parsed) and the secrets it finds in
bodies that are not JSON."""

from __future__ import annotations

import base64

import pytest

from mockmx.record.entry import body_fields, wire_text
from mockmx.record.redact import Redactor
from mockmx.record.writer import dump_yaml


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


def test_a_numeric_password_in_a_body_that_is_not_json_is_redacted() -> None:
    entry = {"request": {"headers": {}, "text": '{"password": 31415926535897932, "n": 1e400}'}}
    text = Redactor().redact(entry)["request"]["text"]
    assert text == '{"password": "<password:1>", "n": 1e400}', text


def test_credentials_in_bytes_that_are_not_utf8_are_redacted_and_every_other_byte_kept() -> None:
    raw = b'{"password":"hunter2","device":"\xff\xfe"}'
    entry = {"request": {"headers": {}, **body_fields(raw, "application/json")}}
    redacted = base64.b64decode(Redactor().redact(entry)["request"]["base64"])
    assert redacted == b'{"password":"<password:1>","device":"\xff\xfe"}', redacted


def test_a_token_learnt_earlier_is_replaced_in_bytes_that_are_not_utf8() -> None:
    redactor = Redactor()
    redactor.redact({"request": {"headers": {"authorization": "Bearer syt_secret_token"}}})
    entry = {"request": {"headers": {}, **body_fields(b"\xff syt_secret_token", None)}}
    assert base64.b64decode(redactor.redact(entry)["request"]["base64"]) == b"\xff <token:1>"


def test_json_nested_deeper_than_a_recording_walks_is_kept_as_text() -> None:
    raw = b'{"a":' * 500 + b"1" + b"}" * 500
    assert body_fields(raw, "application/json") == {"text": raw.decode()}
    assert "body" in body_fields(b'{"a":' * 50 + b"1" + b"}" * 50, "application/json")


def test_bytes_that_are_not_utf8_in_a_path_query_or_header_are_kept_as_percent_escapes() -> None:
    read_by_mitmproxy = b"/x\xff?a=\xed\xa0\x80".decode("utf-8", "surrogateescape")
    assert wire_text(read_by_mitmproxy) == "/x%FF?a=%ED%A0%80"
    assert wire_text("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"  # text that is UTF-8 stays as it is
    dump_yaml([{"query": {"a": wire_text(read_by_mitmproxy)}}]).encode("utf-8")  # and the writer can write it
