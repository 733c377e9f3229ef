"""The control API under /_mockmx/ on the wire: reset, a new scenario, script entries, fault rules, the request and
to-device journals with `wait` and `count`, the gate beyond loopback, the OpenAPI document, and the replay's part."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mockmx.api.control_routes import MOCK_CONTROL_ROUTES
from mockmx.app import create_app
from mockmx.cli import banner
from mockmx.scenario.loader import default_scenario, load_scenario_text
from mockmx.testing.live import MockmxServer
from mockmx.testing.threaded import QuickMockServer, config_for, serving
from tests.conftest import (
    ALICE,
    ALICE_TOKEN,
    BOB,
    BOB_PHONE_TOKEN,
    LOBBY,
    LiveServer,
    assert_error,
    polling,
    send_text,
)
from tests.test_replay_app import flows_yaml, serve_replay

CS = "/_matrix/client/v3"
WHOAMI = f"{CS}/account/whoami"


@contextlib.contextmanager
def serve_app(**options: Any) -> Iterator[MockmxServer]:
    """The default scenario's mock made with `create_app(**options)`, served on a free loopback port."""
    app = create_app(scenario=default_scenario(), **options)
    live = MockmxServer(app)
    with serving(QuickMockServer(config_for(app)), name="mockmx-test-control") as url:
        live.url = url
        yield live


def control(mock: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=mock.url, timeout=10)


def requests(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/_mockmx/requests", params=params)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["requests"]
    return entries


# -- reset ---------------------------------------------------------------------------------------------------------


def test_reset_brings_back_the_scenarios_start(mock: LiveServer, alice: httpx.Client) -> None:
    r = alice.post(f"{CS}/login", json={"type": "m.login.password", "user": "bob", "password": "bob-pass"})
    assert r.status_code == 200, r.text
    new_token = r.json()["access_token"]
    send_text(alice, "before the reset", "t1")
    mock.wait_for_notifications(1)  # bob's pusher's push is in: none of the old world's arrives after the reset
    with control(mock) as admin:
        assert admin.post("/_mockmx/faults", content="path: /nowhere\nstatus: 500").status_code == 200
        r = admin.post("/_mockmx/reset")
        assert r.status_code == 200, r.text
        assert r.json() == {**r.json(), "resets": 1, "server_name": "localhost", "users": 2, "rooms": 2}
        assert requests(admin) == []
        assert admin.get("/_mockmx/faults").json() == {"faults": []}
    # Tokens made since start-up are gone, the scenario's own still work.
    assert_error(alice.get(WHOAMI, headers={"Authorization": f"Bearer {new_token}"}), 401, "M_UNKNOWN_TOKEN")
    assert alice.get(WHOAMI).json()["user_id"] == ALICE
    r = alice.get(f"{CS}/rooms/{LOBBY}/messages", params={"dir": "b", "limit": 100})
    assert "before the reset" not in json.dumps(r.json()), r.text
    # The test's own view follows the new world.
    assert mock.room_events(LOBBY) == []
    send_text(alice, "after the reset", "t1")  # the same txnId is new again
    assert [event["content"]["body"] for event in mock.room_events(LOBBY)] == ["after the reset"]


def test_reset_answers_a_pending_long_poll(mock: LiveServer, bob: httpx.Client) -> None:
    since = bob.get(f"{CS}/sync").json()["next_batch"]
    with polling(mock, lambda: bob.get(f"{CS}/sync", params={"since": since, "timeout": 30000})) as poll:
        with control(mock) as admin:
            assert admin.post("/_mockmx/reset").status_code == 200
        assert poll.result(timeout=10).status_code == 200


# -- a new scenario ------------------------------------------------------------------------------------------------

NEW_SCENARIO = """\
mockmx: 1
server_name: example.org
users:
  - id: carol
    devices: [{id: CAROLDEV, access_token: carol-token}]
rooms:
  - alias: hall
    members: [carol]
"""


def test_a_new_scenario_replaces_the_world(mock: LiveServer) -> None:
    with control(mock) as admin:
        r = admin.put("/_mockmx/scenario", content=NEW_SCENARIO, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 200, r.text
        assert r.json()["server_name"] == "example.org"
        r = admin.get(WHOAMI, headers={"Authorization": "Bearer carol-token"})
        assert r.json()["user_id"] == "@carol:example.org", r.text
        assert_error(admin.get(WHOAMI, headers={"Authorization": f"Bearer {ALICE_TOKEN}"}), 401, "M_UNKNOWN_TOKEN")
        assert [room["room_id"] for room in admin.get("/_mockmx/rooms").json()["rooms"]] == ["!hall:example.org"]


def test_a_scenario_as_json_is_taken_too(mock: LiveServer) -> None:
    scenario = {"mockmx": 1, "server_name": "json.example", "users": [{"id": "dave"}]}
    with control(mock) as admin:
        r = admin.put("/_mockmx/scenario", json=scenario)
        assert r.status_code == 200, r.text
        assert r.json()["users"] == 1


def test_a_bad_scenario_lists_every_problem_and_changes_nothing(mock: LiveServer, alice: httpx.Client) -> None:
    bad = (
        "mockmx: 1\nserver_name: localhost\nusers:\n  - id: carol\n    colour: blue\n"
        "rooms:\n  - id: '!r:localhost'\n    members: [zed]\n"
    )
    with control(mock) as admin:
        body = assert_error(admin.put("/_mockmx/scenario", content=bad), 400, "M_BAD_JSON")
    assert body["problems"] == [
        {"line": 5, "column": 5, "message": body["problems"][0]["message"]},
        {"line": 8, "column": 15, "message": "rooms[0].members[0]: unknown user 'zed'"},
    ]
    assert "unknown key 'colour'" in body["problems"][0]["message"]
    assert alice.get(WHOAMI).json()["user_id"] == ALICE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the file is empty"),
        (b"- a list", "got a list"),
        (b"server_name: [", "YAML syntax error"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_a_scenario_that_is_no_scenario_is_a_400(shared: LiveServer, body: bytes, message: str) -> None:
    with control(shared) as admin:
        error = assert_error(
            admin.put("/_mockmx/scenario", content=body), 400, "M_BAD_JSON" if body[:1] != b"\xff" else "M_NOT_JSON"
        )
    assert message in error["error"]


# -- script entries ------------------------------------------------------------------------------------------------


def test_a_script_entry_runs_now_and_answers_its_event(mock: LiveServer, alice: httpx.Client) -> None:
    with control(mock) as admin:
        r = admin.post("/_mockmx/script", content="sender: bob\nroom: lobby\nsay: injected\n")
        assert r.status_code == 200, r.text
    (event_id,) = r.json()["event_ids"]
    r = alice.get(f"{CS}/rooms/{LOBBY}/event/{event_id}")
    assert r.status_code == 200, r.text
    assert r.json()["sender"] == BOB
    assert r.json()["content"] == {"msgtype": "m.text", "body": "injected"}


def test_a_script_entry_sends_to_devices(mock: LiveServer) -> None:
    entry = {"sender": "alice", "type": "org.example.ping", "to_device": {"bob": {"BOBPHONE": {"n": 1}}}}
    with control(mock) as admin:
        r = admin.post("/_mockmx/script", json=entry)
        assert r.status_code == 200, r.text
        assert r.json()["event_ids"] == []
        devices = admin.get("/_mockmx/to_device", params={"user_id": BOB}).json()["devices"]
    assert devices == [
        {
            "user_id": BOB,
            "device_id": "BOBPHONE",
            "pending": [{"pos": 1, "sender": ALICE, "type": "org.example.ping", "content": {"n": 1}}],
            "delivered": [],
        }
    ]


def test_a_script_entry_with_after_is_scheduled(mock: LiveServer) -> None:
    with control(mock) as admin:
        r = admin.post("/_mockmx/script", content="after: 1h\nsender: alice\nroom: lobby\nsay: later\n")
        assert r.status_code == 200, r.text
        assert r.json()["scheduled"] == 0
        upcoming = admin.get("/_mockmx/script").json()["upcoming"]
    assert [(entry["entry"], entry["content"]["body"]) for entry in upcoming] == [(0, "later")]
    assert 0 < upcoming[0]["due_in_ms"] <= 3_600_000


@pytest.mark.parametrize(
    ("entry", "problems"),
    [
        ("sender: nobody\nroom: lobby\nsay: hi\n", ["1:9: sender: unknown user 'nobody'"]),
        (
            "sender: alice\nroom: backstage\nsay: 3\n",
            ["3:6: say: expected a string, got 3 (quote it to make it a string)"],
        ),
        ("sender: bob\nroom: backstage\nsay: hi\n", ["1:9: sender: 'bob' is not a member of '!backstage:localhost'"]),
        ("sender: alice\nsay: hi\n", ["1:1: expected 'room' (a room event) or 'to_device' (a to-device message)"]),
        ("[1, 2]", ["1:1: expected a mapping, one entry of a scenario's 'script' at the top level, got a list"]),
    ],
)
def test_a_bad_script_entry_is_a_400_with_its_problems(shared: LiveServer, entry: str, problems: list[str]) -> None:
    with control(shared) as admin:
        body = assert_error(admin.post("/_mockmx/script", content=entry), 400, "M_BAD_JSON")
    assert [f"{p['line']}:{p['column']}: {p['message']}" for p in body["problems"]] == problems


# -- fault rules ---------------------------------------------------------------------------------------------------


def test_fault_rules_are_added_counted_and_removed(mock: LiveServer, alice: httpx.Client) -> None:
    with control(mock) as admin:
        assert admin.get("/_mockmx/faults").json() == {"faults": []}
        r = admin.post("/_mockmx/faults", content=f"path: {WHOAMI}\nstatus: 503\ntimes: 1\n")
        assert r.status_code == 200, r.text
        rule = r.json()
        assert rule == {**rule, "path": WHOAMI, "status": 503, "times": 1, "matched": 0, "applied": 0}
        assert_error(alice.get(WHOAMI), 503, "M_UNKNOWN")
        assert alice.get(WHOAMI).status_code == 200
        (listed,) = admin.get("/_mockmx/faults").json()["faults"]
        assert (listed["id"], listed["matched"], listed["applied"]) == (rule["id"], 2, 1)
        assert [entry["fault"] for entry in requests(admin, route=WHOAMI)] == [rule["id"], None]
        assert admin.delete(f"/_mockmx/faults/{rule['id']}").json() == {"removed": 1}
        assert_error(admin.delete(f"/_mockmx/faults/{rule['id']}"), 404, "M_NOT_FOUND")
        assert_error(admin.delete("/_mockmx/faults/x"), 404, "M_NOT_FOUND")
        for _ in range(2):
            assert admin.post("/_mockmx/faults", json={"path": "/a/**", "delay": "1ms"}).status_code == 200
        assert admin.delete("/_mockmx/faults").json() == {"removed": 2}
        assert admin.get("/_mockmx/faults").json() == {"faults": []}


def test_a_scenarios_fault_rules_are_listed(serve_yaml: Any) -> None:
    live = serve_yaml("mockmx: 1\nserver_name: localhost\nfaults:\n  - path: /x\n    rate_limit: {retry_after_ms: 5}\n")
    with control(live) as admin:
        (rule,) = admin.get("/_mockmx/faults").json()["faults"]
    assert rule == {**rule, "id": 1, "path": "/x", "status": 429, "retry_after_ms": 5, "line": 4}


def test_a_bad_fault_rule_is_a_400_with_its_problems(shared: LiveServer) -> None:
    with control(shared) as admin:
        body = assert_error(admin.post("/_mockmx/faults", content="path: sync\nstatus: 99\n"), 400, "M_BAD_JSON")
    assert [(p["line"], p["column"]) for p in body["problems"]] == [(1, 7), (2, 9)]


# -- the request journal -------------------------------------------------------------------------------------------


def test_the_journal_keeps_each_request_with_route_user_and_bodies(mock: LiveServer, alice: httpx.Client) -> None:
    event_id = send_text(alice, "journalled", "j1")
    with control(mock) as admin:
        (entry,) = requests(admin, method="PUT")  # bob's pusher's push to the mock's own gateway is a POST
        assert entry == {
            **entry,
            "id": 1,
            "method": "PUT",
            "path": f"{CS}/rooms/{LOBBY}/send/m.room.message/j1",
            "route": f"{CS}/rooms/{{room_id}}/send/{{event_type}}/{{txn_id}}",
            "status": 200,
            "user_id": ALICE,
            "device_id": "ALICEDEV",
            "fault": None,
            "request_body": {"msgtype": "m.text", "body": "journalled"},
            "response_body": {"event_id": event_id},
        }
        assert isinstance(entry["time"], int) and entry["duration_ms"] >= 0
        assert admin.get("/_mockmx/requests/1").json() == entry
        assert_error(admin.get("/_mockmx/requests/999"), 404, "M_NOT_FOUND")
        assert_error(admin.get("/_mockmx/requests/x"), 404, "M_NOT_FOUND")
        assert "request_body" not in requests(admin, method="PUT", bodies="false")[0]


def test_the_journal_redacts_credentials_as_a_recording_does(mock: LiveServer) -> None:
    with mock.client() as client:
        login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}}
        r = client.post(f"{CS}/login", json={**login, "password": "alice-pass"})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert client.get(WHOAMI, params={"access_token": token}).status_code == 200
    with control(mock) as admin:
        text = json.dumps(requests(admin))
        login_entry, whoami_entry = requests(admin)
    assert "alice-pass" not in text and token not in text
    assert login_entry["request_body"]["password"] == "<password:1>"
    assert login_entry["response_body"]["access_token"] == "<token:1>"
    assert whoami_entry["query"] == {"access_token": "<token:1>"}
    assert whoami_entry["user_id"] == ALICE


def test_the_journal_filters(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    send_text(alice, "a", "f1")
    assert bob.get(WHOAMI).status_code == 200
    assert alice.get(f"{CS}/rooms/!nowhere:localhost/state").status_code == 403
    with control(mock) as admin:
        assert [e["method"] for e in requests(admin, method="PUT")] == ["PUT"]
        assert [e["user_id"] for e in requests(admin, user_id=BOB)] == [BOB]
        assert [e["status"] for e in requests(admin, status=403)] == [403]
        assert [e["path"] for e in requests(admin, route=WHOAMI)] == [WHOAMI]
        first, *later = [e["id"] for e in requests(admin)]
        assert [e["id"] for e in requests(admin, after=first)] == later
        assert_error(admin.get("/_mockmx/requests", params={"colour": "red"}), 400, "M_INVALID_PARAM")
        assert_error(admin.get("/_mockmx/requests", params={"status": "ok"}), 400, "M_INVALID_PARAM")
        assert_error(admin.get("/_mockmx/requests", params={"wait": "-1"}), 400, "M_INVALID_PARAM")


def test_the_journal_is_bounded_and_counts_what_it_dropped(serve_yaml: Any) -> None:
    live = serve_yaml("mockmx: 1\nserver_name: localhost\njournal_limit: 2\n")
    with control(live) as admin:
        for _ in range(5):
            admin.get("/_matrix/client/versions")
        body = admin.get("/_mockmx/requests").json()
    assert [entry["id"] for entry in body["requests"]] == [4, 5]
    assert (body["dropped"], body["limit"]) == (3, 2)


def test_the_command_lines_journal_limit_wins_over_the_scenarios() -> None:
    with serve_app(journal_limit=1) as live, control(live) as admin:
        admin.get("/_matrix/client/versions")
        admin.get("/_matrix/client/versions")
        assert admin.get("/_mockmx/requests").json()["dropped"] == 1


def test_wait_and_count_answer_once_enough_requests_match(mock: LiveServer, alice: httpx.Client) -> None:
    with control(mock) as admin, ThreadPoolExecutor(1) as pool:
        params = {"method": "PUT", "wait": 30000, "count": 2}
        waiting = pool.submit(admin.get, "/_mockmx/requests", params=params)
        send_text(alice, "one", "w1")
        assert alice.get(WHOAMI).status_code == 200  # matches nothing: the wait goes on
        send_text(alice, "two", "w2")
        r = waiting.result(timeout=10)
    assert r.status_code == 200, r.text
    assert [entry["request_body"]["body"] for entry in r.json()["requests"]] == ["one", "two"]


def test_wait_answers_with_what_there_is_at_its_end(shared: LiveServer) -> None:
    with control(shared) as admin:
        r = admin.get("/_mockmx/requests", params={"method": "DELETE", "wait": 1, "count": 5})
    assert r.status_code == 200, r.text
    assert r.json()["requests"] == []


# -- to-device and notifications -----------------------------------------------------------------------------------


def test_to_device_messages_are_pending_until_a_sync_acknowledges_them(mock: LiveServer, alice: httpx.Client) -> None:
    r = alice.put(f"{CS}/sendToDevice/m.test/d1", json={"messages": {BOB: {"BOBPHONE": {"x": 1}}}})
    assert r.status_code == 200, r.text
    with control(mock) as admin, mock.client(BOB_PHONE_TOKEN) as bob:
        (device,) = admin.get("/_mockmx/to_device").json()["devices"]
        assert (len(device["pending"]), device["delivered"]) == (1, [])
        first = bob.get(f"{CS}/sync").json()
        assert bob.get(f"{CS}/sync", params={"since": first["next_batch"]}).status_code == 200
        (device,) = admin.get("/_mockmx/to_device", params={"device_id": "BOBPHONE"}).json()["devices"]
        assert (device["pending"], len(device["delivered"])) == ([], 1)
        assert admin.get("/_mockmx/to_device", params={"type": "m.other"}).json()["devices"] == []
        assert_error(admin.get("/_mockmx/to_device", params={"room": "x"}), 400, "M_INVALID_PARAM")


def test_to_device_wait_answers_when_the_message_comes(mock: LiveServer, alice: httpx.Client) -> None:
    with control(mock) as admin, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(admin.get, "/_mockmx/to_device", params={"user_id": BOB, "wait": 30000, "count": 2})
        r = alice.put(f"{CS}/sendToDevice/m.test/d2", json={"messages": {BOB: {"*": {"x": 2}}}})
        assert r.status_code == 200, r.text
        r = waiting.result(timeout=10)
    assert sorted(device["device_id"] for device in r.json()["devices"]) == ["BOBLAPTOP", "BOBPHONE"]


def test_notifications_wait_answers_when_the_push_comes(mock: LiveServer) -> None:
    notification = {"notification": {"event_id": "$e", "room_id": LOBBY, "devices": [{"app_id": "a", "pushkey": "p"}]}}
    with control(mock) as admin, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(admin.get, "/_mockmx/notifications", params={"pushkey": "p", "wait": 30000})
        assert admin.post("/_matrix/push/v1/notify", json=notification).status_code == 200
        r = waiting.result(timeout=10)
        assert [entry["notification"]["event_id"] for entry in r.json()["notifications"]] == ["$e"]
        assert_error(admin.get("/_mockmx/notifications", params={"count": "x"}), 400, "M_INVALID_PARAM")


# -- who may use it ------------------------------------------------------------------------------------------------


def test_with_a_control_token_the_control_api_needs_it() -> None:
    with serve_app(control_token="s3cret") as live, control(live) as admin:
        assert_error(admin.post("/_mockmx/reset"), 401, "M_MISSING_TOKEN")
        assert_error(admin.get("/_mockmx/requests", headers={"Authorization": "Bearer nope"}), 401, "M_UNKNOWN_TOKEN")
        assert admin.post("/_mockmx/reset", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        # A browser opens the page with the token once; the page's own requests carry it in a cookie.
        assert admin.get("/_mockmx/", params={"control_token": "s3cret"}).status_code == 200
        assert admin.get("/_mockmx/requests").status_code == 200
        # The homeserver's own endpoints do not need it.
        assert admin.get(WHOAMI, headers={"Authorization": f"Bearer {ALICE_TOKEN}"}).status_code == 200


def test_beyond_loopback_without_a_token_the_control_api_is_off() -> None:
    with serve_app() as live, control(live) as admin:
        live.mock.gate.bound_at("http://192.0.2.7:8008")  # as a server bound there would tell it
        body = assert_error(admin.get("/_mockmx/requests"), 403, "M_FORBIDDEN")
        assert "--control-token" in body["error"]
        assert_error(admin.get("/_mockmx/"), 403, "M_FORBIDDEN")
        assert admin.get("/_matrix/client/versions").status_code == 200


def test_another_sites_page_cannot_change_the_mock(shared: LiveServer) -> None:
    with control(shared) as admin:
        r = admin.post("/_mockmx/reset", headers={"Origin": "https://evil.example"})
        assert_error(r, 403, "M_FORBIDDEN")
        assert admin.get("/_mockmx/requests", headers={"Origin": "https://evil.example"}).status_code == 200


def test_the_banner_says_where_the_inspector_is_and_what_it_needs() -> None:
    scenario = default_scenario()
    url = "http://127.0.0.1:8008"
    assert f"inspector: {url}/_mockmx/" in banner(scenario, url)
    beyond = banner(scenario, "http://0.0.0.0:8008", local=False)
    assert "off" in beyond and "--control-token" in beyond
    with_token = banner(scenario, "http://0.0.0.0:8008", local=False, control_token="t")
    assert "?control_token=t" in with_token and "Authorization: Bearer" in with_token


# -- the OpenAPI document ------------------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_names_every_control_route(shared: LiveServer) -> None:
    with control(shared) as admin:
        r = admin.get("/_mockmx/openapi.json")
        assert r.status_code == 200, r.text
    document = r.json()
    assert document["openapi"].startswith("3.1")
    try:
        from openapi_spec_validator import validate
    except ImportError:  # not installed: its shape, at least
        assert {"info", "paths", "components"} <= document.keys()
    else:
        validate(document)
    served = {(route.path, method.lower()) for route in MOCK_CONTROL_ROUTES for method in route.methods or ()}
    served = {(path, method) for path, method in served if method != "head" and not path.endswith((".js", ".css"))}
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert served - documented == set()


# -- replay --------------------------------------------------------------------------------------------------------


def test_a_replay_journals_its_requests_and_a_reset_empties_the_journal() -> None:
    recording = flows_yaml(
        {
            "request": {"method": "GET", "path": "/_matrix/client/versions"},
            "response": {"status": 200, "body": {"versions": ["v1.1"]}},
        },
    )
    with serve_replay(recording) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        assert client.get("/_matrix/client/versions").status_code == 200
        assert client.get("/_matrix/client/nothing").status_code == 404
        entries = client.get("/_mockmx/requests").json()["requests"]
        assert [(entry["path"], entry["status"]) for entry in entries] == [
            ("/_matrix/client/versions", 200),
            ("/_matrix/client/nothing", 404),
        ]
        flows = client.get("/_mockmx/replay/flows").json()
        assert flows["flows"] == [{"id": 1, "request": "GET /_matrix/client/versions", "answered": True}]
        assert len(flows["misses"]) == 1
        assert client.get("/_mockmx/info").json()["kind"] == "replay"
        assert client.post("/_mockmx/reset").status_code == 200
        assert client.get("/_mockmx/requests").json()["requests"] == []
        assert client.get("/_mockmx/replay/flows").json()["flows"][0]["answered"] is False


def test_a_scenario_journal_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="journal_limit"):
        load_scenario_text("mockmx: 1\nserver_name: x\njournal_limit: 0\n")
