"""Hostile input, sent as an attacker would: huge and non-finite numbers, lone surrogates, deep nesting, odd
Unicode and odd headers, to every kind of endpoint that takes a body. After each, every user's reads still answer
200 and the server keeps serving.

CI runs a fixed seed and a small budget; for a longer run by hand:
`MOCKMX_HOSTILE_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_hostile.py -p no:cacheprovider`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer

EXAMPLES = int(os.environ.get("MOCKMX_HOSTILE_EXAMPLES", "60"))
TOKENS = ("alice-token", "bob-phone-token", "bob-laptop-token")
LOBBY = "%21lobby%3Alocalhost"

# (method, path) of endpoints that take a body; {txn} is a fresh transaction id each time.
WRITES = [
    ("PUT", f"/_matrix/client/v3/rooms/{LOBBY}/send/m.room.message/{{txn}}"),
    ("PUT", f"/_matrix/client/v3/rooms/{LOBBY}/state/org.example.hostile/"),
    ("PUT", "/_matrix/client/v3/sendToDevice/org.example.hostile/{txn}"),
    ("PUT", "/_matrix/client/v3/user/%40alice%3Alocalhost/account_data/org.example.hostile"),
    ("PUT", f"/_matrix/client/v3/user/%40alice%3Alocalhost/rooms/{LOBBY}/account_data/org.example.hostile"),
    ("PUT", "/_matrix/client/v3/profile/%40alice%3Alocalhost/displayname"),
    ("PUT", "/_matrix/client/v3/presence/%40alice%3Alocalhost/status"),
    ("PUT", f"/_matrix/client/v3/rooms/{LOBBY}/typing/%40alice%3Alocalhost"),
    ("POST", f"/_matrix/client/v3/rooms/{LOBBY}/read_markers"),
    ("POST", "/_matrix/client/v3/user/%40alice%3Alocalhost/filter"),
    ("POST", "/_matrix/client/v3/createRoom"),
    ("POST", "/_matrix/client/v3/keys/upload"),
    ("POST", "/_matrix/client/v3/keys/query"),
    ("POST", "/_matrix/client/v3/pushers/set"),
    ("PUT", "/_matrix/client/v3/pushrules/global/override/hostile"),
    ("POST", "/_matrix/client/v3/login"),
    ("POST", "/_matrix/client/v3/register"),
    ("POST", "/_matrix/push/v1/notify"),
]
READS = [
    "/_matrix/client/v3/sync",
    "/_matrix/client/v3/events?from=s0_0&timeout=0",
    f"/_matrix/client/v3/rooms/{LOBBY}/messages?dir=b&limit=100",
    f"/_matrix/client/v3/rooms/{LOBBY}/state",
    "/_matrix/client/v3/pushrules/",
    "/_matrix/client/v3/devices",
]

# Raw JSON text for a hostile value (the bytes a broken client sends, which no Python encoder would).
HOSTILE_TEXT = st.sampled_from(
    [
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "9007199254740992",
        "-9007199254740992",
        "1" * 400,
        "1.5",
        '"\\ud800"',
        '"\\udfff"',
        '"a\\ud83d"',
        '"\\u0000"',
        '"\\u202e\\ufeff\\uffff"',
        "[" * 200 + "]" * 200,
        '{"a":' * 100 + "1" + "}" * 100,
        '""',
        "null",
        "[]",
        "{}",
    ]
)
SAFE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(["body", "msgtype", "messages", "displayname", "presence", "content", "n", "\\ud800", "type"])


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """A JSON object whose value at some key is hostile, sometimes inside plausible structure."""
    base: dict[str, Any] = draw(st.dictionaries(st.text(max_size=8), SAFE, max_size=3))
    text = json.dumps(base)[1:-1]
    key = draw(KEYS)
    value = draw(HOSTILE_TEXT)
    wrap = draw(st.sampled_from(["{}", '{"@bob:localhost":{"*":{"x":{}}}}', "[{}]"]))
    inner = wrap.replace("{}", "{" + json.dumps("x") + ":" + value + "}", 1) if wrap != "{}" else value
    members = [f'"{key}":{inner}'] + ([text] if text else [])
    return ("{" + ",".join(members) + "}").encode("utf-8", "surrogatepass")


ODD_HEADERS = st.sampled_from(
    [
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json; charset=latin-1"},
        {"X-Odd": ("\u00ff" * 100).encode("latin-1")},
        {"Authorization": "Bearer alice-token extra"},
        {"Content-Encoding": "gzip"},
    ]
)


def _reads_answer(live: LiveServer) -> None:
    for token in TOKENS:
        with live.client(token) as client:
            for path in READS:
                r = client.get(path)
                assert r.status_code == 200, (token, path, r.text)
    r = httpx.get(live.url + "/_mockmx/notifications")
    assert r.status_code == 200, r.text


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(write=st.sampled_from(WRITES), body=hostile_bodies(), headers=ODD_HEADERS, txn=st.integers(0, 10**9))
def test_hostile_bodies_never_break_any_read(
    shared: LiveServer, write: tuple[str, str], body: bytes, headers: dict[str, Any], txn: int
) -> None:
    method, path = write
    with shared.client("alice-token") as client:
        r = client.request(method, path.format(txn=f"h{txn}"), content=body, headers=headers)
    assert r.status_code < 500, (method, path, body, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    _reads_answer(shared)
