"""The mock push gateway over the wire: `POST /_matrix/push/v1/notify`, its journal, rejection rules and faults."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockmx.scenario.loader import load_scenario_text
from tests.conftest import LiveServer, assert_error, serve

NOTIFY = "/_matrix/push/v1/notify"
JOURNAL = "/_mockmx/notifications"
PUSH_GATEWAY_SPEC = Path(__file__).parents[2] / "shared" / "matrix-spec" / "merged" / "push-gateway.json"
SYNAPSE_AGENT = "Synapse/1.163.2"

# What Synapse 1.163.2 POSTs for a message (synapse-observed.md), the elided ids filled in.
SYNAPSE_PAYLOAD: dict[str, Any] = {
    "notification": {
        "content": {"body": "push me", "msgtype": "m.text"},
        "counts": {"unread": 1},
        "devices": [
            {
                "app_id": "com.example.full",
                "data": {},
                "pushkey": "PUSHKEY_BOB2",
                "pushkey_ts": 1795300131,
                "tweaks": {"highlight": False, "sound": "default"},
            }
        ],
        "event_id": "$dXkVr4nD0m:localhost",
        "id": "$dXkVr4nD0m:localhost",
        "prio": "high",
        "room_id": "!EK-yRoom:localhost",
        "sender": "@alice:localhost",
        "sender_display_name": "alice",
        "type": "m.room.message",
    }
}
# Synapse's badge-only update: no event, and `"type": null` although the spec says string.
BADGE_PAYLOAD: dict[str, Any] = {
    "notification": {
        "id": "",
        "type": None,
        "sender": "",
        "counts": {"unread": 3},
        "devices": [{"app_id": "com.example.full", "data": {}, "pushkey": "PUSHKEY_BOB2", "pushkey_ts": 1795300131}],
    }
}
EVENT_ID_ONLY_PAYLOAD: dict[str, Any] = {
    "notification": {
        "counts": {"unread": 1},
        "devices": [
            {
                "app_id": "com.example.short",
                "data": {"format": "event_id_only"},
                "pushkey": "PUSHKEY_BOB3",
                "pushkey_ts": 1795300131,
            }
        ],
        "event_id": "$short:localhost",
        "prio": "high",
        "room_id": "!EK-yRoom:localhost",
    }
}

REJECTING = """
server_name: localhost
gateway:
  reject:
    - pushkey: dead-key
    - app_id: com.example.gone
    - pushkey: expiring-key
      after: 2
"""
FAILING = """
server_name: localhost
faults:
  - method: POST
    path: /_matrix/push/v1/notify
    times: 2
    status: 503
"""
SLOW = """
server_name: localhost
faults:
  - method: POST
    path: /_matrix/push/v1/notify
    delay: 0.3s
"""
LOSING = """
server_name: localhost
faults:
  - method: POST
    path: /_matrix/push/v1/notify
    times: 1
    status: 500
    lose_answer: true
"""


@cache
def notify_schema() -> Draft202012Validator | None:
    """The spec's request schema for /notify, `type` widened to allow null; None without the spec data."""
    if not PUSH_GATEWAY_SPEC.is_file():
        return None
    spec = json.loads(PUSH_GATEWAY_SPEC.read_text(encoding="utf-8"))
    schema = copy.deepcopy(spec["paths"][NOTIFY]["post"]["requestBody"]["content"]["application/json"]["schema"])
    # The one documented exception: Synapse's badge-only updates carry `"type": null`.
    schema["properties"]["notification"]["properties"]["type"]["type"] = ["string", "null"]
    return Draft202012Validator(schema)


def assert_spec_shaped(notification: dict[str, Any]) -> None:
    validator = notify_schema()
    if validator is None:
        return  # test_kept_notifications_match_the_spec_schema skips, saying why
    problems = validator.iter_errors({"notification": notification})
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in problems]
    assert not errors, f"kept notification does not match the spec's schema: {errors}\n{notification}"


def device(pushkey: str = "key-1", app_id: str = "com.example.app", **extra: Any) -> dict[str, Any]:
    return {"app_id": app_id, "pushkey": pushkey, "pushkey_ts": 1795300131, "data": {}, **extra}


def event_payload(event_id: str, *devices: dict[str, Any], room_id: str = "!room:localhost") -> dict[str, Any]:
    return {
        "notification": {
            "event_id": event_id,
            "room_id": room_id,
            "type": "m.room.message",
            "sender": "@alice:localhost",
            "counts": {"unread": 1},
            "prio": "high",
            "devices": list(devices) or [device()],
        }
    }


def badge_payload(unread: int, *devices: dict[str, Any]) -> dict[str, Any]:
    return {"notification": {"type": None, "counts": {"unread": unread}, "devices": list(devices) or [device()]}}


def post(client: httpx.Client, payload: Any, user_agent: str = SYNAPSE_AGENT) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    return client.post(NOTIFY, content=body, headers=headers)


def accepted(r: httpx.Response) -> list[str]:
    """The `rejected` list of a 200 answer, after checking the answer is one."""
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"rejected"}, body
    assert isinstance(body["rejected"], list), body
    return list(body["rejected"])


def journal(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """`GET /_mockmx/notifications`, every kept notification checked against the spec's schema."""
    r = client.get(JOURNAL, params=filters)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["notifications"]
    for entry in entries:
        assert_spec_shaped(entry["notification"])
    return entries


@pytest.fixture(scope="module")
def shared_mock() -> Iterator[LiveServer]:
    """One mock for this module's tests that need no scenario of their own."""
    with serve(load_scenario_text("server_name: localhost", "<gateway>")) as live:
        yield live


@pytest.fixture
def mock(shared_mock: LiveServer) -> LiveServer:
    """The shared mock, its journal emptied: as good as a fresh one to a test that only posts to its gateway."""
    shared_mock.gateway.clear()
    return shared_mock


@pytest.fixture
def gateway_client(mock: LiveServer) -> Iterator[httpx.Client]:
    """A client of the mock's push gateway, without any token: gateways take none."""
    with mock.client() as client:
        yield client


# -- accepting ----------------------------------------------------------------------------------------------


def test_synapse_payload_is_accepted_and_kept_with_who_sent_it(gateway_client: httpx.Client) -> None:
    before = int(time.time() * 1000)
    assert accepted(post(gateway_client, SYNAPSE_PAYLOAD)) == []
    after = int(time.time() * 1000)
    [entry] = journal(gateway_client)
    assert entry["notification"] == SYNAPSE_PAYLOAD["notification"]
    assert before - 1 <= entry["received_ts"] <= after + 1, (before, entry["received_ts"], after)
    host, _, port = entry["from"].rpartition(":")
    assert host == "127.0.0.1" and port.isdigit(), entry["from"]
    assert entry["user_agent"] == SYNAPSE_AGENT
    assert entry["retries"] == 0
    assert entry["rejected"] == []


def test_badge_only_update_with_null_type_is_accepted(gateway_client: httpx.Client) -> None:
    assert accepted(post(gateway_client, BADGE_PAYLOAD)) == []
    [entry] = journal(gateway_client)
    assert entry["notification"] == BADGE_PAYLOAD["notification"]
    assert entry["notification"]["type"] is None


def test_event_id_only_shape_is_accepted(gateway_client: httpx.Client) -> None:
    assert accepted(post(gateway_client, EVENT_ID_ONLY_PAYLOAD)) == []
    [entry] = journal(gateway_client)
    assert entry["notification"] == EVENT_ID_ONLY_PAYLOAD["notification"]


def test_spec_example_is_accepted(gateway_client: httpx.Client) -> None:
    if not PUSH_GATEWAY_SPEC.is_file():
        pytest.skip(f"no push gateway spec data at {PUSH_GATEWAY_SPEC}")
    spec = json.loads(PUSH_GATEWAY_SPEC.read_text(encoding="utf-8"))
    example = spec["paths"][NOTIFY]["post"]["requestBody"]["content"]["application/json"]["schema"]["example"]
    assert accepted(post(gateway_client, example)) == []
    assert [entry["notification"] for entry in journal(gateway_client)] == [example["notification"]]


def test_kept_notifications_match_the_spec_schema(gateway_client: httpx.Client) -> None:
    if notify_schema() is None:
        pytest.skip(f"no push gateway spec data at {PUSH_GATEWAY_SPEC}: the schema check of kept notifications is off")
    for payload in (SYNAPSE_PAYLOAD, BADGE_PAYLOAD, EVENT_ID_ONLY_PAYLOAD):
        assert accepted(post(gateway_client, payload)) == []
    assert len(journal(gateway_client)) == 3  # journal() checks each against the schema


def test_int64_pushkey_ts_is_accepted_and_served_back(gateway_client: httpx.Client) -> None:
    # The push gateway spec types pushkey_ts int64, past the range the client-server API's canonical JSON allows.
    payload = event_payload("$int64:localhost", device(pushkey_ts=2**63 - 1))
    assert accepted(post(gateway_client, payload)) == []
    [entry] = journal(gateway_client)
    assert entry["notification"]["devices"][0]["pushkey_ts"] == 2**63 - 1


def test_pushkey_ts_past_int64_is_refused(gateway_client: httpx.Client) -> None:
    r = post(gateway_client, event_payload("$past:localhost", device(pushkey_ts=2**63)))
    assert_error(r, 400, "M_BAD_JSON")
    assert journal(gateway_client) == []


def test_integers_written_with_a_zero_fraction_are_integers(gateway_client: httpx.Client) -> None:
    # JSON Schema, which the spec is written in, counts 2.0 as an integer.
    payload = event_payload("$fraction:localhost", device(pushkey_ts=1795300131.0))
    payload["notification"]["counts"] = {"unread": 2.0, "missed_calls": 0.0}
    assert accepted(post(gateway_client, payload)) == []
    [entry] = journal(gateway_client)
    assert entry["notification"]["counts"] == {"unread": 2, "missed_calls": 0}


def test_retry_of_the_same_event_is_acknowledged_and_kept_once(gateway_client: httpx.Client) -> None:
    for _ in range(3):
        assert accepted(post(gateway_client, SYNAPSE_PAYLOAD)) == []
    [entry] = journal(gateway_client)
    assert entry["retries"] == 2
    assert entry["notification"] == SYNAPSE_PAYLOAD["notification"]


def test_the_same_event_for_other_devices_is_a_new_notification(gateway_client: httpx.Client) -> None:
    assert accepted(post(gateway_client, event_payload("$e:localhost", device("key-1")))) == []
    assert accepted(post(gateway_client, event_payload("$e:localhost", device("key-2")))) == []
    assert [entry["retries"] for entry in journal(gateway_client)] == [0, 0]


def test_count_only_updates_are_idempotent(gateway_client: httpx.Client) -> None:
    assert accepted(post(gateway_client, badge_payload(3))) == []
    assert accepted(post(gateway_client, badge_payload(3))) == []
    assert [(e["notification"]["counts"], e["retries"]) for e in journal(gateway_client)] == [({"unread": 3}, 1)]
    assert accepted(post(gateway_client, badge_payload(2))) == []
    assert accepted(post(gateway_client, badge_payload(2))) == []
    # The same counts for another device is another update.
    assert accepted(post(gateway_client, badge_payload(2, device("key-2")))) == []
    entries = journal(gateway_client)
    assert [(e["notification"]["counts"]["unread"], e["retries"]) for e in entries] == [(3, 1), (2, 1), (2, 0)]


# -- reading and clearing the journal -------------------------------------------------------------------------


def _post_filterable(client: httpx.Client) -> None:
    payloads = [
        event_payload("$a:localhost", device("key-1", "app.one"), room_id="!r1:localhost"),
        event_payload("$b:localhost", device("key-2", "app.one"), room_id="!r2:localhost"),
        event_payload("$c:localhost", device("key-1", "app.one"), device("key-3", "app.two"), room_id="!r1:localhost"),
    ]
    for payload in payloads:
        assert accepted(post(client, payload)) == []


@pytest.mark.parametrize(
    ("filters", "event_ids"),
    [
        ({}, ["$a:localhost", "$b:localhost", "$c:localhost"]),
        ({"event_id": "$b:localhost"}, ["$b:localhost"]),
        ({"room_id": "!r1:localhost"}, ["$a:localhost", "$c:localhost"]),
        ({"pushkey": "key-1"}, ["$a:localhost", "$c:localhost"]),
        ({"pushkey": "key-3"}, ["$c:localhost"]),
        ({"app_id": "app.two"}, ["$c:localhost"]),
        ({"app_id": "app.one", "room_id": "!r2:localhost"}, ["$b:localhost"]),
        ({"pushkey": "key-2", "room_id": "!r1:localhost"}, []),
        ({"event_id": "$nope:localhost"}, []),
    ],
)
def test_journal_filters(mock: LiveServer, filters: dict[str, str], event_ids: list[str]) -> None:
    with mock.client() as client:
        _post_filterable(client)
        assert [entry["notification"]["event_id"] for entry in journal(client, **filters)] == event_ids
    # The Python API sees the same.
    entries = mock.gateway.notifications(**filters)
    assert [entry.notification["event_id"] for entry in entries] == event_ids


def test_unknown_filter_is_refused(mock: LiveServer) -> None:
    with mock.client() as client:
        _post_filterable(client)
        assert_error(client.get(JOURNAL, params={"sender": "@alice:localhost"}), 400, "M_INVALID_PARAM")
        assert_error(client.get(JOURNAL, params={"pushkey": "key-1", "bogus": "x"}), 400, "M_INVALID_PARAM")
    with pytest.raises(ValueError, match="sender"):
        mock.gateway.notifications(sender="@alice:localhost")


def test_python_api_sees_what_the_journal_shows(mock: LiveServer) -> None:
    with mock.client() as client:
        _post_filterable(client)
        assert accepted(post(client, event_payload("$a:localhost", device("key-1", "app.one")))) == []
        over_http = journal(client)
    assert [entry.to_json() for entry in mock.gateway.notifications()] == over_http
    assert over_http[0]["retries"] == 1


def test_delete_clears_the_journal(mock: LiveServer) -> None:
    with mock.client() as client:
        _post_filterable(client)
        r = client.delete(JOURNAL)
        assert r.status_code == 200, r.text
        assert r.json() == {}
        assert journal(client) == []
        assert mock.gateway.notifications() == []
        # Cleared means forgotten: the same event again is kept anew.
        assert accepted(post(client, event_payload("$a:localhost", device("key-1", "app.one")))) == []
        [entry] = journal(client)
        assert entry["retries"] == 0


# -- rejecting ------------------------------------------------------------------------------------------------


def test_reject_rule_by_pushkey_always_rejects(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(REJECTING)
    with live.client() as client:
        assert accepted(post(client, event_payload("$1:localhost", device("dead-key")))) == ["dead-key"]
        assert accepted(post(client, event_payload("$2:localhost", device("dead-key")))) == ["dead-key"]
        assert accepted(post(client, event_payload("$3:localhost", device("live-key")))) == []
        # Only the matching device of several is rejected.
        both = event_payload("$4:localhost", device("live-key"), device("dead-key"))
        assert accepted(post(client, both)) == ["dead-key"]
        entries = journal(client)
    # Rejected notifications are still kept, with what the gateway answered.
    assert [entry["rejected"] for entry in entries] == [["dead-key"], ["dead-key"], [], ["dead-key"]]


def test_reject_rule_by_app_id(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(REJECTING)
    with live.client() as client:
        gone = device("any-key", "com.example.gone")
        assert accepted(post(client, event_payload("$1:localhost", gone))) == ["any-key"]
        assert accepted(post(client, badge_payload(1, gone))) == ["any-key"]
        assert accepted(post(client, event_payload("$2:localhost", device("any-key", "com.example.kept")))) == []


def test_reject_rule_after_n_notifications_is_an_expired_token(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(REJECTING)
    with live.client() as client:
        expiring = device("expiring-key")
        answers = [accepted(post(client, event_payload(f"${n}:localhost", expiring))) for n in range(4)]
        assert answers == [[], [], ["expiring-key"], ["expiring-key"]]
        # A retry of an accepted notification is answered as it was first.
        assert accepted(post(client, event_payload("$1:localhost", expiring))) == []
        assert [entry["retries"] for entry in journal(client)] == [0, 1, 0, 0]


# -- faults on the gateway ------------------------------------------------------------------------------------


def test_error_fault_on_notify_keeps_nothing_until_its_window_ends(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(FAILING)
    with live.client() as client:
        for _ in range(2):
            assert_error(post(client, SYNAPSE_PAYLOAD), 503, "M_UNKNOWN")
            assert journal(client) == []
        assert accepted(post(client, SYNAPSE_PAYLOAD)) == []
        [entry] = journal(client)
        assert entry["retries"] == 0


def test_delay_fault_on_notify_slows_the_answer_and_keeps_the_notification(
    serve_yaml: Callable[[str], LiveServer],
) -> None:
    live = serve_yaml(SLOW)
    with live.client() as client, live.client() as notifier, ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        notifying = pool.submit(post, notifier, SYNAPSE_PAYLOAD)
        # The journal is not on the notify path: it answers while the notification is still held up (for 0.3 s:
        # a journal slower than that on a busy machine is no failure, the notification is then just kept).
        while not notifying.done():
            entries = journal(client)
            if not notifying.done():
                assert entries == []
                break
        assert accepted(notifying.result()) == []
        assert time.monotonic() - started >= 0.3  # a lower bound: a sleep never ends early, however busy the machine
        assert len(journal(client)) == 1


def test_lost_answer_keeps_the_notification_and_counts_the_retry(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(LOSING)
    with live.client() as client:
        assert_error(post(client, SYNAPSE_PAYLOAD), 500, "M_UNKNOWN")
        [entry] = journal(client)
        assert entry["retries"] == 0
        assert accepted(post(client, SYNAPSE_PAYLOAD)) == []
        [entry] = journal(client)
        assert entry["retries"] == 1


# -- malformed requests ---------------------------------------------------------------------------------------


def _with(path: str, value: Any) -> bytes:
    """The Synapse payload with the value at a dotted path replaced (or removed, for `...`)."""
    payload = copy.deepcopy(SYNAPSE_PAYLOAD)
    *parents, last = path.split(".")
    target: Any = payload
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return json.dumps(payload).encode()


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


MALFORMED = [
    ("not JSON", b"{not json", "M_NOT_JSON"),
    ("empty body", b"", "M_NOT_JSON"),
    ("NaN", b'{"notification": NaN}', "M_NOT_JSON"),
    ("array body", b"[]", "M_BAD_JSON"),
    ("string body", b'"notification"', "M_BAD_JSON"),
    ("null body", b"null", "M_BAD_JSON"),
    ("missing notification", b"{}", "M_MISSING_PARAM"),
    ("notification an array", _with("notification", []), "M_BAD_JSON"),
    ("notification a string", _with("notification", "x"), "M_BAD_JSON"),
    ("missing devices", _with("notification.devices", ...), "M_MISSING_PARAM"),
    ("empty devices", _with("notification.devices", []), "M_BAD_JSON"),
    ("devices an object", _with("notification.devices", {"app_id": "a", "pushkey": "k"}), "M_BAD_JSON"),
    ("devices a string", _with("notification.devices", "k"), "M_BAD_JSON"),
    ("device a string", _with("notification.devices", ["k"]), "M_BAD_JSON"),
    ("second device not an object", _with("notification.devices", [device(), None]), "M_BAD_JSON"),
    ("missing app_id", _with("notification.devices.0.app_id", ...), "M_MISSING_PARAM"),
    ("missing pushkey", _with("notification.devices.0.pushkey", ...), "M_MISSING_PARAM"),
    ("app_id a number", _with("notification.devices.0.app_id", 5), "M_BAD_JSON"),
    ("pushkey null", _with("notification.devices.0.pushkey", None), "M_BAD_JSON"),
    ("pushkey an array", _with("notification.devices.0.pushkey", ["k"]), "M_BAD_JSON"),
    ("pushkey_ts a string", _with("notification.devices.0.pushkey_ts", "1795300131"), "M_BAD_JSON"),
    ("pushkey_ts a float", _with("notification.devices.0.pushkey_ts", 1795300131.5), "M_BAD_JSON"),
    ("pushkey_ts a bool", _with("notification.devices.0.pushkey_ts", True), "M_BAD_JSON"),
    ("data a string", _with("notification.devices.0.data", "x"), "M_BAD_JSON"),
    ("data.format a number", _with("notification.devices.0.data", {"format": 1}), "M_BAD_JSON"),
    ("data.format null", _with("notification.devices.0.data", {"format": None}), "M_BAD_JSON"),
    ("tweaks an array", _with("notification.devices.0.tweaks", []), "M_BAD_JSON"),
    ("prio unknown", _with("notification.prio", "urgent"), "M_BAD_JSON"),
    ("prio a number", _with("notification.prio", 1), "M_BAD_JSON"),
    ("prio null", _with("notification.prio", None), "M_BAD_JSON"),
    ("counts an array", _with("notification.counts", [1]), "M_BAD_JSON"),
    ("counts null", _with("notification.counts", None), "M_BAD_JSON"),
    ("counts.unread a string", _with("notification.counts", {"unread": "1"}), "M_BAD_JSON"),
    ("counts.unread a float", _with("notification.counts", {"unread": 1.5}), "M_BAD_JSON"),
    ("counts.unread a bool", _with("notification.counts", {"unread": True}), "M_BAD_JSON"),
    ("counts.missed_calls a string", _with("notification.counts", {"missed_calls": "x"}), "M_BAD_JSON"),
    ("content a string", _with("notification.content", "push me"), "M_BAD_JSON"),
    ("content an array", _with("notification.content", []), "M_BAD_JSON"),
    ("content nested too deeply", _with("notification.content", _nested(200)), "M_BAD_JSON"),
    ("event_id a number", _with("notification.event_id", 5), "M_BAD_JSON"),
    ("room_id an array", _with("notification.room_id", ["!r:localhost"]), "M_BAD_JSON"),
    ("sender a bool", _with("notification.sender", False), "M_BAD_JSON"),
    ("sender_display_name an object", _with("notification.sender_display_name", {}), "M_BAD_JSON"),
    ("room_name a number", _with("notification.room_name", 1), "M_BAD_JSON"),
    ("room_alias null", _with("notification.room_alias", None), "M_BAD_JSON"),
    ("type a number", _with("notification.type", 1), "M_BAD_JSON"),
    ("user_is_target a string", _with("notification.user_is_target", "yes"), "M_BAD_JSON"),
    ("user_is_target an int", _with("notification.user_is_target", 1), "M_BAD_JSON"),
]


@pytest.mark.parametrize(("body", "errcode"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_notify_is_refused_and_keeps_nothing(mock: LiveServer, body: bytes, errcode: str) -> None:
    with mock.client() as client:
        assert_error(post(client, body), 400, errcode)
        assert journal(client) == []
        assert accepted(post(client, SYNAPSE_PAYLOAD)) == []
        assert len(journal(client)) == 1


def test_notify_only_answers_post(gateway_client: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert_error(gateway_client.request(method, NOTIFY), 405, "M_UNRECOGNIZED")


@pytest.mark.parametrize("path", ["/_matrix/push/v1/unknown", "/_matrix/push/v2/notify", "/_matrix/push/v1/notify/x"])
def test_unknown_push_path_is_unrecognized(gateway_client: httpx.Client, path: str) -> None:
    assert_error(gateway_client.post(path, json=SYNAPSE_PAYLOAD), 404, "M_UNRECOGNIZED")
