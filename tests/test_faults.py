"""Scenario fault rules, met over the wire: errors, rate limits, delays, windows."""

from __future__ import annotations

import time
from collections.abc import Callable

from mockmx.faults import glob_to_regex
from tests.conftest import LiveServer

SCENARIO = """
server_name: localhost
users:
  - id: alice
    devices: [{id: ALICEDEV, access_token: alice-token}]
rooms:
  - id: "!lobby:localhost"
    members: [alice]
faults:
  - method: PUT
    path: /_matrix/client/*/rooms/*/send/**
    times: 2
    rate_limit: {retry_after_ms: 1500}
  - path: /_matrix/client/v3/joined_rooms
    after: 1
    times: 1
    status: 502
  - path: /_matrix/client/v3/account/whoami
    delay: 0.3s
"""


def test_rate_limit_answers_429_with_retry_after_then_lets_requests_through(
    serve_yaml: Callable[[str], LiveServer],
) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        statuses = []
        for n in range(3):
            r = alice.put(f"/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/t{n}", json={"body": "x"})
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.json() == {"errcode": "M_LIMIT_EXCEEDED", "error": r.json()["error"], "retry_after_ms": 1500}
                assert r.headers["retry-after"] == "2"
                assert r.headers["content-type"] == "application/json"
    assert statuses == [429, 429, 200]


def test_error_rule_applies_only_inside_its_window(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        answers = [alice.get("/_matrix/client/v3/joined_rooms") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 502, 200], [r.text for r in answers]
    assert answers[1].json()["errcode"] == "M_UNKNOWN"
    assert "line" in answers[1].json()["error"]


def test_delay_rule_slows_the_answer_but_passes_the_request_on(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        started = time.monotonic()
        r = alice.get("/_matrix/client/v3/account/whoami")
        elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@alice:localhost"
    assert elapsed >= 0.3


def test_rules_do_not_touch_other_paths_or_methods(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("alice-token") as alice:
        r = alice.post("/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/t1", json={})
    assert r.status_code == 405, r.text  # POST is not the rate-limited PUT: routing answers it


def test_glob_star_stays_in_one_segment_and_double_star_crosses() -> None:
    one = glob_to_regex("/_matrix/client/*/sync")
    assert one.fullmatch("/_matrix/client/v3/sync")
    assert not one.fullmatch("/_matrix/client/v3/extra/sync")
    many = glob_to_regex("/_matrix/**")
    assert many.fullmatch("/_matrix/client/v3/rooms/!a:b/send/m.room.message/1")
    assert not glob_to_regex("/a.b").fullmatch("/aXb")
