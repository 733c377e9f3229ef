from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from mockmx.scenario.loader import Problem, ScenarioError, default_scenario, load_scenario, load_scenario_text
from mockmx.scenario.model import (
    DeviceSpec,
    FaultSpec,
    PusherSpec,
    PushSpec,
    RegistrationSpec,
    RejectSpec,
    Scenario,
    UserSpec,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))
SCHEMA = json.loads((ROOT / "mockmx" / "scenario" / "schema.json").read_text(encoding="utf-8"))

# Four lines every snippet below can build on: users alice and bob on localhost.
USERS = "server_name: localhost\nusers:\n  - id: alice\n  - id: bob\n"
# Lines 5-7: the room "lobby" with both of them joined.
LOBBY = USERS + "rooms:\n  - alias: lobby\n    members: [alice, bob]\n"
NOTIFY = "/_matrix/push/v1/notify"
# Lines 5-9: carol, with a pusher to this mock's own gateway; a second pusher can follow at line 10.
PUSHER = USERS + f"  - id: carol\n    pushers:\n      - app_id: a\n        pushkey: k\n        url: {NOTIFY}\n"
# Line 2 opens the gateway's list of rejection rules.
REJECT = "server_name: localhost\ngateway:\n  reject:\n"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text)
    return caught.value.problems


def load(text: str) -> Scenario:
    return load_scenario_text(text, source="test.yaml")


ERRORS = [
    # The file as a whole
    pytest.param("", 1, "the file is empty", id="empty-file"),
    pytest.param("# only a comment\n", 1, "the file is empty", id="only-comments"),
    pytest.param("- server_name: localhost\n", 1, "expected a mapping", id="top-level-list"),
    pytest.param("localhost\n", 1, "expected a mapping", id="top-level-scalar"),
    pytest.param("server_name: [localhost\n", 2, "YAML syntax error", id="yaml-syntax"),
    pytest.param("server_name: localhost\nusers:\n\t- id: alice\n", 3, "YAML syntax error", id="yaml-tab"),
    pytest.param("server_name: a\n---\nserver_name: b\n", 2, "expected a single document", id="two-documents"),
    pytest.param("server_name: x\nserver_name: y\n", 2, "duplicate key 'server_name' (first at line 1)", id="dup-key"),
    pytest.param("server_name: localhost\n1: x\n", 2, "keys must be strings", id="non-string-key"),
    pytest.param("server_name: !!binary aGk=\n", 1, "unsupported YAML tag", id="binary-tag"),
    pytest.param("server_name: localhost\nusers: &u [*u]\n", 2, "refers to a node that contains it", id="recursion"),
    pytest.param("mockmx: 2\nserver_name: localhost\n", 1, "mockmx: expected 1, got 2", id="version"),
    pytest.param("users: []\n", 1, "missing required key 'server_name'", id="no-server-name"),
    pytest.param("server_name: local_host\n", 1, "server_name: expected a server name", id="bad-server-name"),
    pytest.param(
        "server_name: localhost\nroom: []\n",
        2,
        "unknown key 'room' (expected one of: mockmx, server_name, users, rooms, script, faults, gateway, push, "
        "limits, media, registration, journal_limit)",
        id="unknown-top-key",
    ),
    pytest.param("server_name: localhost\nusers: {id: alice}\n", 2, "users: expected a list", id="users-not-list"),
    # Users
    pytest.param(
        USERS + "  - id: carol\n    pasword: x\n",
        6,
        "users[2]: unknown key 'pasword' (expected one of: id, password, display_name, devices, pushers, push_rules)",
        id="user-key-typo",
    ),
    pytest.param(USERS + "  - password: x\n", 5, "users[2]: missing required key 'id'", id="user-no-id"),
    pytest.param(USERS + "  - id: Carol\n", 5, "users[2].id: expected a user", id="user-bad-localpart"),
    pytest.param(USERS + "  - id: carol\n    password: 1234\n", 6, "quote it", id="password-number"),
    pytest.param(USERS + '  - id: "@carol:example.org"\n', 5, "users must be local", id="remote-user"),
    pytest.param(
        USERS + '  - id: "@bob:localhost"\n', 5, "duplicate user '@bob:localhost' (first at line 4)", id="dup-user"
    ),
    pytest.param(
        USERS + "  - id: carol\n    devices: [{id: D}, {id: D}]\n", 6, "duplicate device 'D'", id="dup-device"
    ),
    pytest.param(
        USERS + "  - id: carol\n    devices: [{id: C, access_token: t}]\n"
        "  - id: dave\n    devices: [{id: D, access_token: t}]\n",
        8,
        "duplicate access token (first at line 6)",
        id="dup-token",
    ),
    pytest.param(USERS + "  - id: carol\n    devices: [{id: C, name: C}]\n", 6, "unknown key 'name'", id="device-key"),
    # Pushers
    pytest.param(
        USERS + "  - id: carol\n    pushers: {app_id: a}\n", 6, "users[2].pushers: expected a list", id="pushers-list"
    ),
    pytest.param(
        USERS + "  - id: carol\n    pushers:\n      - app_id: a\n        pushkey: k\n",
        7,
        "users[2].pushers[0]: missing required key 'url'",
        id="pusher-no-url",
    ),
    pytest.param(PUSHER + "        kind: http\n", 10, "unknown key 'kind'", id="pusher-key"),
    pytest.param(
        PUSHER.replace("app_id: a", "app_id: " + "a" * 65),
        7,
        "users[2].pushers[0].app_id: expected at most 64 characters, got 65",
        id="app-id-too-long",
    ),
    pytest.param(PUSHER.replace("app_id: a", "app_id: ''"), 7, "expected a non-empty string", id="app-id-empty"),
    pytest.param(PUSHER.replace("pushkey: k", "pushkey: ''"), 8, "expected a non-empty string", id="pushkey-empty"),
    pytest.param(
        PUSHER.replace("pushkey: k", "pushkey: " + "\u00e9" * 257),
        8,
        "users[2].pushers[0].pushkey: expected at most 512 bytes of UTF-8, got 514",
        id="pushkey-too-long",
    ),
    pytest.param(
        PUSHER.replace(NOTIFY, "https://push.example.org/notify"),
        9,
        "users[2].pushers[0].url: expected a push gateway URL",
        id="url-wrong-path",
    ),
    pytest.param(PUSHER.replace(NOTIFY, NOTIFY + "/"), 9, "expected a push gateway URL", id="url-path-trailing-slash"),
    pytest.param(PUSHER.replace(NOTIFY, "/notify"), 9, "expected a push gateway URL", id="url-own-wrong-path"),
    pytest.param(
        PUSHER.replace(NOTIFY, "ftp://push.example.org" + NOTIFY), 9, "expected a push gateway URL", id="url-scheme"
    ),
    pytest.param(
        PUSHER.replace(NOTIFY, "push.example.org" + NOTIFY), 9, "expected a push gateway URL", id="url-no-scheme"
    ),
    pytest.param(
        PUSHER.replace(NOTIFY, "https://push.example.org:99999" + NOTIFY),
        9,
        "users[2].pushers[0].url: expected a URL with a valid host and port, got",
        id="url-port",
    ),
    pytest.param(
        PUSHER.replace(NOTIFY, "https://[::1" + NOTIFY), 9, "expected a URL with a valid host and port", id="url-ipv6"
    ),
    pytest.param(
        PUSHER + "        format: full\n",
        10,
        "users[2].pushers[0].format: expected one of 'event_id_only', got 'full'",
        id="pusher-format",
    ),
    pytest.param(PUSHER + "        lang: 1\n", 10, "quote it", id="pusher-lang-number"),
    pytest.param(
        PUSHER + f"      - {{app_id: a, pushkey: k, url: 'https://push.example.org{NOTIFY}'}}\n",
        10,
        "users[2].pushers[1].pushkey: duplicate pusher (app_id 'a', pushkey 'k') of '@carol:localhost' "
        "(first at line 7)",
        id="dup-pusher",
    ),
    # Rooms
    pytest.param(
        USERS + "rooms:\n  - name: Hall\n    members: [alice]\n", 6, "expected 'id' or 'alias'", id="nameless"
    ),
    pytest.param(USERS + "rooms:\n  - alias: lobby\n", 6, "missing required key 'members'", id="no-members"),
    pytest.param(USERS + "rooms:\n  - alias: lobby\n    members: []\n", 7, "expected at least 1 item", id="empty-room"),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice, bob, carol]\n",
        7,
        "rooms[0].members[2]: unknown user 'carol'",
        id="unknown-member",
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice, alice]\n", 7, "'alice' is listed twice", id="dup-member"
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    join_rule: open\n",
        8,
        "rooms[0].join_rule: expected one of 'public', 'invite', got 'open'",
        id="join-rule",
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    history_visibility: everyone\n",
        8,
        "expected one of 'shared', 'invited', 'joined', 'world_readable'",
        id="history-visibility",
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    guest_access: maybe\n",
        8,
        "guest_access: expected true or false, got 'maybe'",
        id="guest-access",
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    invited: [bob, alice]\n",
        8,
        "rooms[0].invited[1]: 'alice' is already a member",
        id="invited-member",
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    creator: bob\n",
        8,
        "rooms[0].creator: 'bob' is not a member of this room",
        id="creator-not-member",
    ),
    pytest.param(
        USERS + "rooms:\n  - id: '!lobby:example.org'\n    members: [alice]\n", 6, "rooms must be local", id="remote-id"
    ),
    pytest.param(
        USERS + "rooms:\n  - alias: '#lobby:example.org'\n    members: [alice]\n",
        6,
        "aliases must be local",
        id="remote-alias",
    ),
    pytest.param(
        LOBBY + "  - id: '!other:localhost'\n    alias: '#lobby:localhost'\n    members: [bob]\n",
        9,
        "duplicate alias '#lobby:localhost' (first at line 6)",
        id="dup-alias",
    ),
    pytest.param(
        LOBBY + "  - id: '!lobby:localhost'\n    members: [bob]\n",
        8,
        "duplicate room id '!lobby:localhost' (first at line 6)",
        id="dup-room-id",
    ),
    # Timeline events
    pytest.param(
        USERS + "rooms:\n  - alias: lobby\n    members: [alice]\n    timeline:\n      - sender: bob\n        say: hi\n",
        9,
        "rooms[0].timeline[0].sender: 'bob' is not a member of this room",
        id="timeline-sender",
    ),
    pytest.param(
        LOBBY + "    timeline:\n      - sender: bob\n        say: hi\n        content: {body: hi}\n",
        10,
        "'content' and 'say' exclude each other",
        id="content-and-say",
    ),
    pytest.param(LOBBY + "    timeline:\n      - sender: bob\n", 9, "expected 'content' or 'say'", id="no-content"),
    pytest.param(
        LOBBY + "    timeline:\n      - sender: bob\n        type: m.room.topic\n        say: hi\n",
        11,
        "'say' only goes with type 'm.room.message'",
        id="say-wrong-type",
    ),
    pytest.param(
        LOBBY + "    timeline:\n      - sender: bob\n        content: hi\n",
        10,
        "content: expected event content: a mapping, got 'hi'",
        id="content-not-mapping",
    ),
    # Scripted events
    pytest.param(
        LOBBY + "script:\n  - sender: alice\n    room: hall\n    say: hi\n",
        10,
        "script[0].room: unknown room 'hall'",
        id="unknown-room",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: carol\n    room: lobby\n    say: hi\n",
        9,
        "script[0].sender: unknown user 'carol'",
        id="unknown-sender",
    ),
    pytest.param(
        LOBBY + "  - alias: hall\n    members: [alice]\nscript:\n  - sender: bob\n    room: hall\n    say: hi\n",
        11,
        "script[0].sender: 'bob' is not a member of '!hall:localhost'",
        id="sender-not-member",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    say: hi\n",
        9,
        "expected 'room' (a room event) or 'to_device'",
        id="no-target",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    room: lobby\n    type: x\n    to_device: {alice: {'*': {}}}\n",
        12,
        "'room' and 'to_device' exclude each other",
        id="room-and-to-device",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    type: x\n    to_device:\n      carol: {'*': {}}\n",
        12,
        "script[0].to_device.carol: unknown user 'carol'",
        id="to-device-unknown-user",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    type: x\n    to_device:\n      '@carol:localhost': {'*': {}}\n",
        12,
        "script[0].to_device['@carol:localhost']: unknown user '@carol:localhost'",
        id="to-device-unknown-full-id",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    to_device: {alice: {'*': {}}}\n",
        9,
        "missing required key 'type' (to-device messages have no default type)",
        id="to-device-no-type",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    type: x\n    say: hi\n    to_device: {alice: {'*': {}}}\n",
        11,
        "'say' is for room events",
        id="to-device-say",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    type: x\n    to_device: {alice: {}}\n",
        11,
        "script[0].to_device.alice: expected at least 1 entry, got 0",
        id="to-device-no-devices",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    room: lobby\n    say: hi\n    count: 3\n",
        12,
        "'count' only goes with 'every'",
        id="count-without-every",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    room: lobby\n    say: hi\n    every: 0ms\n",
        12,
        "script[0].every: expected a duration greater than 0",
        id="every-zero",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    room: lobby\n    say: hi\n    after: 2 secs\n",
        12,
        "script[0].after: expected a duration",
        id="bad-duration",
    ),
    pytest.param(
        LOBBY + "script:\n  - sender: bob\n    room: lobby\n    say: hi\n    after: -1\n",
        12,
        "script[0].after: expected a duration",
        id="negative-duration",
    ),
    # Fault rules
    pytest.param("server_name: localhost\nfaults:\n  - path: sync\n    delay: 1\n", 3, "starting with '/'", id="path"),
    pytest.param("server_name: localhost\nfaults:\n  - delay: 1\n", 3, "missing required key 'path'", id="no-path"),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    method: put\n    delay: 1\n",
        4,
        "faults[0].method: expected an upper-case HTTP method",
        id="method",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    status: 302\n",
        4,
        "faults[0].status: expected an integer from 400 to 599, got 302",
        id="status",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    times: 3\n",
        3,
        "expected at least one of 'delay', 'status', 'rate_limit'",
        id="no-effect",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    status: 500\n    rate_limit: {retry_after_ms: 1}\n",
        5,
        "'status' and 'rate_limit' exclude each other",
        id="status-and-rate-limit",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    delay: 1\n    errcode: M_NOPE\n",
        5,
        "'errcode' only goes with 'status'",
        id="errcode-without-status",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    status: 500\n    errcode: nope\n",
        5,
        "expected a Matrix errcode",
        id="errcode",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    status: 500\n    times: 0\n",
        5,
        "faults[0].times: expected an integer >= 1, got 0",
        id="times-zero",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    rate_limit: {retry_after_ms: 5, jitter: 1}\n",
        4,
        "unknown key 'jitter' (expected one of: retry_after_ms)",
        id="rate-limit-key",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    delay: .inf\n", 4, "expected a finite number", id="infinite"
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    delay: 1\n    lose_answer: true\n",
        5,
        "faults[0]: 'lose_answer' needs 'status' or 'rate_limit'",
        id="lose-answer-with-delay-only",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    lose_answer: true\n",
        4,
        "'lose_answer' needs 'status' or 'rate_limit'",
        id="lose-answer-alone",
    ),
    pytest.param(
        "server_name: localhost\nfaults:\n  - path: /x\n    status: 500\n    lose_answer: sometimes\n",
        5,
        "faults[0].lose_answer: expected true or false, got 'sometimes'",
        id="lose-answer-not-bool",
    ),
    # The push gateway's rejection rules
    pytest.param("server_name: localhost\ngateway: []\n", 2, "gateway: expected a mapping, got a list", id="gateway"),
    pytest.param(
        "server_name: localhost\ngateway:\n  rejects: []\n",
        3,
        "gateway: unknown key 'rejects' (expected one of: reject)",
        id="gateway-key",
    ),
    pytest.param(
        "server_name: localhost\ngateway:\n  reject: {pushkey: k}\n", 3, "gateway.reject: expected a list", id="reject"
    ),
    pytest.param(
        REJECT + "    - after: 2\n", 4, "gateway.reject[0]: expected 'pushkey' or 'app_id' (or both)", id="reject-empty"
    ),
    pytest.param(
        REJECT + "    - pushkey: k\n      after: -1\n",
        5,
        "gateway.reject[0].after: expected an integer >= 0, got -1",
        id="reject-after-negative",
    ),
    pytest.param(REJECT + "    - pushkey: k\n      after: 1.5\n", 5, "expected an integer", id="reject-after-float"),
    pytest.param(
        REJECT + "    - pushkey: k\n      user: bob\n",
        5,
        "unknown key 'user' (expected one of: pushkey, app_id, after)",
        id="reject-key",
    ),
    pytest.param(
        REJECT + "    - pushkey: ''\n",
        4,
        "gateway.reject[0].pushkey: expected a non-empty string",
        id="reject-empty-key",
    ),
    pytest.param(
        REJECT + "    - pushkey: " + "k" * 513 + "\n",
        4,
        "expected at most 512 bytes of UTF-8, got 513",
        id="reject-long-key",
    ),
    pytest.param(
        REJECT + "    - app_id: " + "a" * 65 + "\n",
        4,
        "expected at most 64 characters, got 65",
        id="reject-long-app-id",
    ),
    # How the homeserver retries pushes
    pytest.param("server_name: localhost\npush: 1s\n", 2, "push: expected a mapping, got '1s'", id="push"),
    pytest.param(
        "server_name: localhost\npush:\n  retries: 3\n",
        3,
        "push: unknown key 'retries' (expected one of: backoff, max_backoff, max_attempts, max_backlog, unread_count)",
        id="push-key",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  backoff: 0ms\n",
        3,
        "push.backoff: expected a duration greater than 0",
        id="backoff-zero",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  backoff: soon\n", 3, "push.backoff: expected a duration", id="backoff"
    ),
    pytest.param(
        "server_name: localhost\npush:\n  max_backoff: -1\n",
        3,
        "push.max_backoff: expected a duration",
        id="max-backoff",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  backoff: 2s\n  max_backoff: 500ms\n",
        4,
        "push.max_backoff: expected at least backoff (2s), got 500ms",
        id="max-backoff-below-backoff",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  max_backoff: 500ms\n",
        3,
        "push.max_backoff: expected at least backoff (1s by default), got 500ms",
        id="max-backoff-below-default-backoff",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  backoff: 2h\n",
        3,
        "push.backoff: expected at most max_backoff (1h by default), got 2h",
        id="backoff-above-default-max-backoff",
    ),
    pytest.param(
        "server_name: localhost\npush:\n  backoff: soon\n  max_backoff: 1ms\n",
        3,
        "push.backoff: expected a duration",
        id="max-backoff-not-compared-with-a-wrong-backoff",
    ),
    # Registration
    pytest.param(
        "server_name: localhost\nregistration: true\n", 2, "registration: expected a mapping", id="registration-bool"
    ),
    pytest.param(
        "server_name: localhost\nregistration: {}\n",
        2,
        "registration: missing required key 'enabled'",
        id="registration-without-enabled",
    ),
    pytest.param(
        "server_name: localhost\nregistration:\n  enabled: 'yes'\n",
        3,
        "registration.enabled: expected true or false, got 'yes'",
        id="registration-enabled-not-a-bool",
    ),
    pytest.param(
        "server_name: localhost\nregistration:\n  enabled: true\n  flows: [m.login.dummy]\n",
        4,
        "unknown key 'flows' (expected one of: enabled)",
        id="registration-unknown-key",
    ),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERRORS)
def test_bad_scenario_gives_one_problem_at_its_line(text: str, line: int, fragment: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].line == line, problems[0]
    assert fragment in problems[0].message


def test_problem_points_at_the_offending_key_and_value() -> None:
    [unknown_key] = problems_of(USERS + "  - id: carol\n    pasword: x\n")
    assert (unknown_key.line, unknown_key.column) == (6, 5)
    [bad_value] = problems_of(USERS + "rooms:\n  - alias: lobby\n    members: [alice, bob, carol]\n")
    assert (bad_value.line, bad_value.column) == (7, 27)


def test_all_problems_are_reported_at_once_in_file_order() -> None:
    text = LOBBY + "    join_rule: open\n  - alias: hall\n    members: [carol]\nfaults:\n  - path: x\n    delay: 1\n"
    problems = problems_of(text)
    assert [(p.line, p.message) for p in problems] == [
        (8, "rooms[0].join_rule: expected one of 'public', 'invite', got 'open'"),
        (10, "rooms[1].members[0]: unknown user 'carol'"),
        (12, "faults[0].path: expected a request path glob starting with '/', like '/_matrix/client/*/sync', got 'x'"),
    ]


def test_scenario_error_lists_every_problem_one_per_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("mockmx: 2\nserver_name: localhost\nfoo: 1\n", source="bad.yaml")
    assert str(caught.value) == (
        "bad.yaml:1:9: mockmx: expected 1, got 2\n"
        "bad.yaml:3:1: unknown key 'foo' (expected one of: mockmx, server_name, users, rooms, script, faults, gateway, "
        "push, limits, media, registration, journal_limit)"
    )
    assert isinstance(caught.value, ValueError)


def test_problem_str_is_source_line_column_message() -> None:
    assert str(Problem("a.yaml", 3, 7, "oops")) == "a.yaml:3:7: oops"


def test_yaml_syntax_error_keeps_yamls_mark() -> None:
    text = "server_name: localhost\nusers:\n  - id: alice\n   password: x\n"
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        yaml.compose(text, Loader=yaml.SafeLoader)
    mark, reason = caught.value.problem_mark, caught.value.problem
    assert mark is not None and reason is not None
    [problem] = problems_of(text)
    assert (problem.line, problem.column) == (mark.line + 1, mark.column + 1) == (4, 4)
    assert problem.message.startswith("YAML syntax error: ")
    assert reason in problem.message


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(missing)
    assert [str(p) for p in caught.value.problems] == [
        f"{missing}:1:1: cannot read the file: No such file or directory"
    ]


def test_non_utf8_file_is_one_problem_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("server_name: localhost\nrooms: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, 11)
    assert "not UTF-8" in problem.message


def test_load_scenario_names_the_file_as_source(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("server_name: localhost\n", encoding="utf-8")
    assert load_scenario(path).source == str(path)
    assert load_scenario(str(path)) == load_scenario(path)


def test_user_ids_expand_from_localparts() -> None:
    text = "server_name: example.org:8448\nusers:\n  - id: alice\n    password: pw\n"
    text += "  - id: '@bob:example.org:8448'\n    display_name: Bob\n"
    text += "    devices: [{id: PHONE, display_name: Phone, access_token: tok}, {id: LAPTOP}]\n"
    alice, bob = load(text).users
    assert alice == UserSpec("@alice:example.org:8448", password="pw")
    assert bob == UserSpec(
        "@bob:example.org:8448",
        display_name="Bob",
        devices=(DeviceSpec("PHONE", "Phone", "tok"), DeviceSpec("LAPTOP")),
    )


def test_room_defaults() -> None:
    [room] = load(LOBBY).rooms
    assert room.room_id == "!lobby:localhost"
    assert room.alias == "#lobby:localhost"
    assert room.creator == "@alice:localhost"
    assert room.members == ("@alice:localhost", "@bob:localhost")
    assert (room.join_rule, room.guest_access, room.history_visibility) == ("public", False, "shared")
    assert (room.name, room.topic, room.invited, room.timeline) == (None, None, (), ())


@pytest.mark.parametrize(
    ("extra", "visibility"),
    [
        ("    guest_access: true\n", "world_readable"),
        ("    guest_access: false\n", "shared"),
        ("    guest_access: true\n    history_visibility: joined\n", "joined"),
    ],
)
def test_history_visibility_defaults_follow_guest_access(extra: str, visibility: str) -> None:
    [room] = load(LOBBY + extra).rooms
    assert room.history_visibility == visibility


def test_room_members_invited_and_creator_resolve() -> None:
    text = USERS + "  - id: carol\nrooms:\n  - id: '!hall:localhost'\n    members: [alice, '@bob:localhost']\n"
    text += "    creator: bob\n    invited: [carol]\n"
    [room] = load(text).rooms
    assert (room.room_id, room.alias) == ("!hall:localhost", None)
    assert room.creator == "@bob:localhost"
    assert room.invited == ("@carol:localhost",)


def test_timeline_say_is_short_for_text_content() -> None:
    text = LOBBY + "    timeline:\n      - sender: bob\n        say: hi\n"
    text += "      - sender: alice\n        type: m.room.topic\n        state_key: ''\n        content: {topic: t}\n"
    [room] = load(text).rooms
    say, state = room.timeline
    assert (say.sender, say.type, say.content, say.state_key) == (
        "@bob:localhost",
        "m.room.message",
        {"msgtype": "m.text", "body": "hi"},
        None,
    )
    assert (state.type, state.content, state.state_key) == ("m.room.topic", {"topic": "t"}, "")


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("0", 0.0), ("2", 2.0), ("0.25", 0.25), ("500ms", 0.5), ("2s", 2.0), ("1.5s", 1.5), ("1m", 60.0), ("1h", 3600.0)],
)
def test_durations_become_seconds(duration: str, seconds: float) -> None:
    [event] = load(LOBBY + f"script:\n  - sender: bob\n    room: lobby\n    say: hi\n    after: {duration}\n").script
    assert event.after == seconds


@pytest.mark.parametrize("room", ["lobby", "'#lobby:localhost'", "'!lobby:localhost'"])
def test_scripted_room_event_resolves_room_references(room: str) -> None:
    text = LOBBY + f"script:\n  - sender: bob\n    room: {room}\n    say: hi\n    every: 2s\n    count: 3\n"
    [event] = load(text).script
    assert event.room_id == "!lobby:localhost"
    assert (event.sender, event.type, event.content) == (
        "@bob:localhost",
        "m.room.message",
        {"msgtype": "m.text", "body": "hi"},
    )
    assert (event.after, event.every, event.count, event.to_device) == (0.0, 2.0, 3, None)


def test_scripted_to_device_expands_user_references() -> None:
    text = LOBBY + "script:\n  - sender: bob\n    type: m.ping\n    to_device:\n"
    text += "      alice: {ALICEDEV: {n: 1}}\n      '@bob:localhost': {'*': {n: 2}}\n"
    [event] = load(text).script
    assert event.room_id is None
    assert event.type == "m.ping"
    assert event.to_device == {"@alice:localhost": {"ALICEDEV": {"n": 1}}, "@bob:localhost": {"*": {"n": 2}}}


@pytest.mark.parametrize(
    ("status", "errcode"), [(429, "M_LIMIT_EXCEEDED"), (404, "M_NOT_FOUND"), (403, "M_FORBIDDEN"), (500, "M_UNKNOWN")]
)
def test_fault_errcode_defaults_from_status(status: int, errcode: str) -> None:
    [fault] = load(f"server_name: localhost\nfaults:\n  - path: /x\n    status: {status}\n").faults
    assert (fault.status, fault.errcode, fault.error) == (status, errcode, "Injected fault (scenario rule at line 3)")


def test_fault_rule_fields_and_line() -> None:
    text = "server_name: localhost\nfaults:\n  - path: /a\n    delay: 1\n"
    text += "  - path: /b/**\n    method: POST\n    after: 2\n    times: 1\n    delay: 250ms\n"
    text += "    status: 502\n    errcode: M_BAD_GATEWAY\n    error: down\n"
    first, second = load(text).faults
    assert first == FaultSpec(path="/a", delay=1.0, line=3)
    assert second == FaultSpec(
        path="/b/**",
        method="POST",
        after=2,
        times=1,
        delay=0.25,
        status=502,
        errcode="M_BAD_GATEWAY",
        error="down",
        line=5,
    )


def test_rate_limit_becomes_a_429() -> None:
    [fault] = load("server_name: localhost\nfaults:\n  - path: /x\n    rate_limit: {retry_after_ms: 700}\n").faults
    assert (fault.status, fault.errcode, fault.retry_after_ms) == (429, "M_LIMIT_EXCEEDED", 700)
    assert fault.error == "Injected fault (scenario rule at line 3)"


def test_lose_answer_defaults_to_false() -> None:
    [fault] = load("server_name: localhost\nfaults:\n  - path: /x\n    status: 500\n").faults
    assert fault.lose_answer is False


@pytest.mark.parametrize(
    "effect",
    ["status: 502", "rate_limit: {retry_after_ms: 100}", "status: 500\n    delay: 1", "status: 500\n    times: 1"],
)
def test_lose_answer_goes_with_an_error_answer(effect: str) -> None:
    [fault] = load(f"server_name: localhost\nfaults:\n  - path: {NOTIFY}\n    {effect}\n    lose_answer: true\n").faults
    assert fault.lose_answer is True
    assert fault.status in (500, 502, 429)


def test_lose_answer_false_needs_nothing() -> None:
    [fault] = load("server_name: localhost\nfaults:\n  - path: /x\n    delay: 1\n    lose_answer: false\n").faults
    assert (fault.lose_answer, fault.status) == (False, None)


def test_pusher_defaults() -> None:
    carol = load(PUSHER).users[2]
    assert carol.pushers == (PusherSpec("a", "k", NOTIFY),)
    [pusher] = carol.pushers
    assert (pusher.format, pusher.app_display_name, pusher.device_display_name) == (None, "mockmx", "mockmx")
    assert (pusher.lang, pusher.profile_tag) == ("en", None)


def test_pusher_fields() -> None:
    text = PUSHER + "        format: event_id_only\n        app_display_name: Chat\n"
    text += "        device_display_name: Phone\n        lang: en-GB\n        profile_tag: work\n"
    [pusher] = load(text).users[2].pushers
    assert pusher == PusherSpec(
        "a",
        "k",
        NOTIFY,
        format="event_id_only",
        app_display_name="Chat",
        device_display_name="Phone",
        lang="en-GB",
        profile_tag="work",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://push.example.org" + NOTIFY,
        "http://localhost:5000" + NOTIFY,
        "https://[::1]:8443" + NOTIFY,
        "https://push.example.org" + NOTIFY + "?token=abc",
    ],
)
def test_pusher_to_an_external_gateway_keeps_its_url(url: str) -> None:
    [pusher] = load(PUSHER.replace(NOTIFY, f"'{url}'")).users[2].pushers
    assert pusher.url == url


def test_pushkey_limit_is_in_bytes_and_app_id_limit_in_characters() -> None:
    text = PUSHER.replace("app_id: a", "app_id: " + "\u00e9" * 64).replace("pushkey: k", "pushkey: " + "\u00e9" * 256)
    [pusher] = load(text).users[2].pushers
    assert (len(pusher.app_id), len(pusher.pushkey.encode())) == (64, 512)


def test_a_pushkey_may_repeat_for_another_app_or_another_user() -> None:
    text = PUSHER + f"      - {{app_id: b, pushkey: k, url: {NOTIFY}}}\n"
    text += f"  - id: dave\n    pushers: [{{app_id: a, pushkey: k, url: {NOTIFY}}}]\n"
    users = load(text).users
    assert [(p.app_id, p.pushkey) for p in users[2].pushers] == [("a", "k"), ("b", "k")]
    assert [(p.app_id, p.pushkey) for p in users[3].pushers] == [("a", "k")]


def test_users_have_no_pushers_by_default() -> None:
    assert all(user.pushers == () for user in load(USERS).users)


def test_without_gateway_and_push_the_defaults_apply() -> None:
    scenario = load("server_name: localhost\n")
    assert scenario.reject == ()
    assert scenario.push == PushSpec(backoff=1.0, max_backoff=3600.0)
    assert load("server_name: localhost\ngateway: {}\npush: {}\n").push == scenario.push
    assert load("server_name: localhost\ngateway: {reject: []}\n").reject == ()


def test_reject_rules_keep_their_order_and_default_after_to_zero() -> None:
    text = REJECT + "    - pushkey: old-phone\n      after: 2\n    - app_id: org.example.retired\n"
    text += "    - {pushkey: k, app_id: a, after: 0}\n"
    assert load(text).reject == (
        RejectSpec(pushkey="old-phone", after=2),
        RejectSpec(app_id="org.example.retired"),
        RejectSpec(pushkey="k", app_id="a"),
    )


@pytest.mark.parametrize(
    ("push", "backoff", "max_backoff"),
    [
        ("backoff: 250ms", 0.25, 3600.0),
        ("max_backoff: 30s", 1.0, 30.0),
        ("backoff: 2\n  max_backoff: 1m", 2.0, 60.0),
        ("backoff: 1h", 3600.0, 3600.0),  # equal is fine: every retry then waits the same
        ("max_backoff: 1s", 1.0, 1.0),
    ],
)
def test_push_backoff_durations(push: str, backoff: float, max_backoff: float) -> None:
    assert load(f"server_name: localhost\npush:\n  {push}\n").push == PushSpec(backoff, max_backoff)


def test_faults_gateway_and_push_are_checked_without_a_server_name() -> None:
    text = "faults:\n  - path: /x\n    lose_answer: true\ngateway:\n  reject: [{after: 1}]\npush: {backoff: 0}\n"
    assert [(p.line, p.message) for p in problems_of(text)] == [
        (1, "missing required key 'server_name'"),
        (3, "faults[0]: 'lose_answer' needs 'status' or 'rate_limit'"),
        (5, "gateway.reject[0]: expected 'pushkey' or 'app_id' (or both)"),
        (6, "push.backoff: expected a duration greater than 0"),
    ]


def test_anchors_and_merge_keys_work() -> None:
    text = "server_name: localhost\nfaults:\n  - &slow {path: /a, delay: 1, method: GET}\n"
    text += "  - <<: *slow\n    path: /b\n"
    first, second = load(text).faults
    assert (second.path, second.delay, second.method, second.line) == ("/b", 1.0, "GET", 4)
    assert first.path == "/a"


def test_dates_stay_text() -> None:
    [room] = load(LOBBY + "    name: 2024-01-01\n").rooms
    assert room.name == "2024-01-01"


def test_default_scenario_is_as_documented() -> None:
    scenario = default_scenario()
    assert scenario.server_name == "localhost"
    passwords = {user.user_id: user.password for user in scenario.users}
    assert passwords == {"@alice:localhost": "alice-pass", "@bob:localhost": "bob-pass"}
    lobby = next(room for room in scenario.rooms if room.room_id == "!lobby:localhost")
    assert lobby.alias == "#lobby:localhost"
    assert set(lobby.members) == {"@alice:localhost", "@bob:localhost"}
    pushers = {user.user_id: user.pushers for user in scenario.users}
    assert pushers == {
        "@alice:localhost": (),
        # Aimed at the mock's own gateway, so alice's messages to bob land in GET /_mockmx/notifications.
        "@bob:localhost": (
            PusherSpec("org.example.mockmx", "bob-phone-pushkey", NOTIFY, device_display_name="BobPhone"),
        ),
    }
    assert (scenario.reject, scenario.push) == ((), PushSpec())


def test_registration_is_off_unless_the_scenario_opens_it() -> None:
    assert load("server_name: localhost\n").registration == RegistrationSpec(enabled=False)
    assert load("server_name: localhost\nregistration:\n  enabled: false\n").registration.enabled is False
    assert load("server_name: localhost\nregistration:\n  enabled: true\n").registration.enabled is True
    assert default_scenario().registration.enabled is True  # so that SDKs' sign-up flows work out of the box


def test_registration_problem_names_file_and_line() -> None:
    [problem] = problems_of("server_name: localhost\nusers: []\nregistration:\n  enabled: 1\n")
    assert str(problem) == "<string>:4:12: registration.enabled: expected true or false, got 1"


def test_the_readmes_scenario_example_loads() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Scenario files", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario_text(example, "README.md")
    assert scenario.registration.enabled is True


def test_default_scenario_is_loaded_once() -> None:
    assert default_scenario() is default_scenario()


def test_scenarios_default_is_the_packaged_default() -> None:
    packaged = ROOT / "mockmx" / "scenario" / "default.yaml"
    assert (ROOT / "scenarios" / "default.yaml").read_bytes() == packaged.read_bytes()


def test_examples_exist() -> None:
    names = {path.name for path in EXAMPLES}
    assert {
        "default.yaml",
        "scripted-chatter.yaml",
        "flaky-homeserver.yaml",
        "guests.yaml",
        "push-gateway.yaml",
    } <= names


def test_push_gateway_example_is_as_its_comments_say() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "push-gateway.yaml")
    pushers = {user.user_id: user.pushers for user in scenario.users}
    [bob_phone] = pushers["@bob:localhost"]
    [carol_phone] = pushers["@carol:localhost"]
    assert bob_phone.url == NOTIFY  # this mock's own gateway...
    assert scenario.reject == (RejectSpec(pushkey=bob_phone.pushkey, after=2),)  # ...which rejects it after 2
    assert carol_phone.url.startswith("http://") and carol_phone.url.endswith(NOTIFY)  # an external gateway
    [lost] = scenario.faults
    assert (lost.path, lost.method, lost.after, lost.times, lost.status, lost.lose_answer) == (
        NOTIFY,
        "POST",
        1,
        1,
        502,
        True,
    )
    assert scenario.push == PushSpec(backoff=0.5, max_backoff=30.0)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.source == str(path)
    assert scenario.users


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_validates_against_the_schema(path: Path) -> None:
    Draft202012Validator(SCHEMA).validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"]
    assert SCHEMA["title"]


def _subschemas(schema: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return []
    found = [(where, schema)]
    for key, value in schema.items():
        children = value.items() if key in ("properties", "$defs") else [(key, value)]
        for name, child in children:
            if isinstance(child, dict):
                found += _subschemas(child, f"{where}/{name}")
    return found


def test_schema_documents_every_property_and_rejects_unknown_keys() -> None:
    for where, schema in _subschemas(SCHEMA, "#"):
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{where}/{name} has no description"
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, f"{where} allows unknown keys"
