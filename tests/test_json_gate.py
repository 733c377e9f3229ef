"""The one JSON gate over the wire: what the mock could not serve back is refused where it enters, with Synapse's
error, and everyone's reads keep answering 200 after it."""

from __future__ import annotations

import httpx
import pytest

from mockmx.problems import ScenarioError
from mockmx.scenario.loader import load_scenario_text
from tests.conftest import LiveServer, assert_error

SEND = "/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/"
TO_DEVICE = "/_matrix/client/v3/sendToDevice/org.example.ping/"
ACCOUNT_DATA = "/_matrix/client/v3/user/@alice:localhost/account_data/org.example.x"
NOTIFY = "/_matrix/push/v1/notify"

# (raw body, errcode) for a value the mock could not serve back; `V` stands where the hostile value goes.
HOSTILE = [
    (b"1e400", "M_BAD_JSON"),  # valid JSON text, read as inf
    (b"-1e400", "M_BAD_JSON"),
    (b"NaN", "M_NOT_JSON"),
    (b"Infinity", "M_NOT_JSON"),
    (b"9007199254740992", "M_BAD_JSON"),  # 2**53: one past canonical JSON's range
    (b"-9007199254740992", "M_BAD_JSON"),
    (b"9223372036854775808", "M_BAD_JSON"),  # 2**63: past int64 too, which the push gateway takes
    (b"1" * 5000, "M_BAD_JSON"),  # past Python's int() digit limit
    (b'"\\ud800"', "M_BAD_JSON"),  # a lone high surrogate, as a JS string cut inside an emoji
    (b'"\\udc00x"', "M_BAD_JSON"),  # a lone low surrogate
    (b'"\xed\xa0\x80"', "M_NOT_JSON"),  # a surrogate encoded as UTF-8 bytes: not UTF-8
]

# The push gateway takes int64, as its spec types `pushkey_ts` (tests/test_push_gateway.py).
GATEWAY_TAKES = {b"9007199254740992", b"-9007199254740992"}


def _body(value: bytes, key: bytes = b"v") -> bytes:
    return b'{"msgtype":"m.text","body":"x","' + key + b'":' + value + b"}"


def _reads_still_answer(mock: LiveServer) -> None:
    for token in ("alice-token", "bob-phone-token", "bob-laptop-token"):
        with mock.client(token) as client:
            for path in ("/_matrix/client/v3/sync", "/_matrix/client/v3/events?from=s0_0&timeout=0"):
                r = client.get(path)
                assert r.status_code == 200, (token, path, r.text)
    r = httpx.get(mock.url + "/_mockmx/notifications")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("value", "errcode"), HOSTILE)
def test_hostile_values_are_refused_everywhere_and_reads_keep_answering(
    mock: LiveServer, alice: httpx.Client, value: bytes, errcode: str
) -> None:
    assert_error(alice.put(SEND + "t1", content=_body(value)), 400, errcode)
    assert_error(alice.put(SEND + "t2", content=b'{"nested":{"deep":[' + value + b"]}}"), 400, errcode)
    messages = b'{"messages":{"@bob:localhost":{"*":{"n":' + value + b"}}}}"
    assert_error(alice.put(TO_DEVICE + "t1", content=messages), 400, errcode)
    assert_error(alice.put(ACCOUNT_DATA, content=b'{"n":' + value + b"}"), 400, errcode)
    notification = b'{"notification":{"devices":[{"app_id":"a","pushkey":"p"}],"n":' + value + b"}}"
    if value not in GATEWAY_TAKES:
        assert_error(httpx.post(mock.url + NOTIFY, content=notification), 400, errcode)
    _reads_still_answer(mock)


def test_a_surrogate_in_a_key_is_refused(alice: httpx.Client) -> None:
    assert_error(alice.put(SEND + "k", content=b'{"\\ud800":1}'), 400, "M_BAD_JSON")


def test_surrogate_pairs_and_range_ends_pass(mock: LiveServer, alice: httpx.Client) -> None:
    # Python clients escape emoji as surrogate pairs; the range's ends are canonical JSON.
    body = b'{"msgtype":"m.text","body":"\\ud83d\\ude00","max":9007199254740991,"min":-9007199254740991}'
    r = alice.put(SEND + "ok", content=body)
    assert r.status_code == 200, r.text
    r = alice.get(f"/_matrix/client/v3/rooms/!lobby:localhost/event/{r.json()['event_id']}")
    assert r.status_code == 200, r.text
    assert r.json()["content"] == {"msgtype": "m.text", "body": "\U0001f600", "max": 2**53 - 1, "min": -(2**53) + 1}


def test_floats_are_refused_in_events_as_room_version_10_requires(mock: LiveServer, alice: httpx.Client) -> None:
    body = assert_error(alice.put(SEND + "f", content=b'{"msgtype":"m.text","body":"x","n":1.5}'), 400, "M_BAD_JSON")
    assert body["error"] == "Bad JSON value: float"
    state = "/_matrix/client/v3/rooms/!lobby:localhost/state/org.example.s/"
    assert_error(alice.put(state, content=b'{"n":[0.5]}'), 400, "M_BAD_JSON")
    # Outside events, floats are JSON like any other number (Synapse keeps them in account data).
    r = alice.put(ACCOUNT_DATA, content=b'{"n":1.5}')
    assert r.status_code == 200, r.text
    _reads_still_answer(mock)


def test_a_filter_in_the_query_passes_the_same_gate(alice: httpx.Client) -> None:
    r = alice.get("/_matrix/client/v3/sync", params={"filter": '{"room":{"timeline":{"limit":1e400}}}'})
    assert_error(r, 400, "M_BAD_JSON")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("9007199254740992", "out of canonical JSON's range"),
        ('"\\ud800"', "lone surrogate"),
        (".inf", "finite number"),
    ],
)
def test_scenarios_pass_the_same_gate(value: str, problem: str) -> None:
    text = f"server_name: localhost\nusers:\n  - id: alice\n    account_data:\n      org.example.x: {{n: {value}}}\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    assert problem in str(caught.value), caught.value
    assert "s.yaml:5:" in str(caught.value), caught.value


def test_a_scenario_alias_bomb_is_refused_with_its_line() -> None:
    lines = ["server_name: localhost", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("\n".join(lines) + "\n", "bomb.yaml")
    assert "aliases expanded" in str(caught.value), caught.value
    assert "bomb.yaml:" in str(caught.value)
