"""The pytest plugin: its fixtures in a test, and, run with `pytester`, its options, marker, settings precedence,
record modes (against a mock homeserver standing in for the real one) and strict replay."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from mockmx.record import Leg, load_recording
from mockmx.testing import MockmxServer, running_mock
from mockmx.testing.record_mode import RecordMode

pytest_plugins = ["pytester"]

CS = "/_matrix/client/v3"
LOBBY = "!lobby:localhost"
WHOAMI = f"{CS}/account/whoami"

# A scenario per place a setting can come from, told apart by server name.
WORLD = "mockmx: 1\nserver_name: {name}\nusers:\n  - id: ann\n    devices: [{{id: D, access_token: ann-token}}]\n"


# -- the fixtures, used directly ---------------------------------------------------------------------------------


def send(mock: MockmxServer, token: str, body: str, txn: str, room: str = LOBBY) -> str:
    with mock.client(token) as client:
        r = client.put(f"{CS}/rooms/{room}/send/m.room.message/{txn}", json={"msgtype": "m.text", "body": body})
    assert r.status_code == 200, r.text
    event_id: str = r.json()["event_id"]
    return event_id


def test_mockmx_server_serves_the_default_scenario(mockmx_server: MockmxServer) -> None:
    with mockmx_server.client("alice-token") as alice:
        r = alice.get(WHOAMI)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@alice:localhost"
    assert mockmx_server.url.startswith("http://127.0.0.1:")
    assert mockmx_server.scenario.server_name == "localhost"


def test_notifications_are_waited_for_and_asserted(mockmx_server: MockmxServer) -> None:
    event_id = send(mockmx_server, "alice-token", "hello bob", "n1")
    notification = mockmx_server.assert_notified(
        type="m.room.message", content={"body": "hello bob"}, pushkey="bob-phone-pushkey"
    )
    assert notification["event_id"] == event_id
    assert mockmx_server.notifications(event_id=event_id) == [notification]
    mockmx_server.assert_notifications(
        [{"type": "m.room.message", "sender": "@alice:localhost", "counts": {"unread": 1}}], partial=True
    )


def test_assert_notified_names_the_closest_notification(mockmx_server: MockmxServer) -> None:
    send(mockmx_server, "alice-token", "hello bob", "n1")
    mockmx_server.wait_for_notifications(1)
    with pytest.raises(AssertionError) as caught:
        mockmx_server.assert_notified(content={"body": "hello carol"}, timeout=0.05)
    summary = "m.room.message from @alice:localhost in !lobby:localhost to bob-phone-pushkey: 'hello bob'"
    assert str(caught.value) == "\n".join(
        [
            "no notification matched {'content': {'body': 'hello carol'}} within 0.05 s; 1 sent",
            f"the closest, {summary}, differs:",
            "  content.body: expected 'hello carol', got 'hello bob'",
            "sent:",
            f"  1. {summary}",
        ]
    )
    with pytest.raises(AssertionError, match=r"^expected at least 2 notifications \(pushkey='bob-phone-pushkey'\)"):
        mockmx_server.wait_for_notifications(2, timeout=0.05, pushkey="bob-phone-pushkey")


def test_to_device_messages_are_kept_after_a_sync_takes_them(mockmx_server: MockmxServer) -> None:
    with mockmx_server.client("alice-token") as alice:
        messages = {"@bob:localhost": {"*": {"n": 1}}, "@alice:localhost": {"NOSUCHDEVICE": {"n": 2}}}
        r = alice.put(f"{CS}/sendToDevice/org.example.ping/p1", json={"messages": messages})
        assert r.status_code == 200, r.text
    with mockmx_server.client("bob-phone-token") as bob:
        assert bob.get(f"{CS}/sync").json()["to_device"]["events"]  # fetched, and acknowledged by the next sync
        bob.get(f"{CS}/sync", params={"since": bob.get(f"{CS}/sync").json()["next_batch"]})
    ping = {"sender": "@alice:localhost", "type": "org.example.ping", "content": {"n": 1}}
    assert mockmx_server.to_device_messages("@bob:localhost") == [ping, ping]  # one per device
    assert mockmx_server.to_device_messages("@bob:localhost", "BOBLAPTOP") == [ping]
    assert mockmx_server.to_device_messages(type="org.example.other") == []
    assert mockmx_server.to_device_messages("@alice:localhost") == []  # an unknown device gets nothing


def test_room_events_are_the_ones_sent_since_start(mockmx_server: MockmxServer) -> None:
    assert mockmx_server.room_events("#lobby:localhost") == []  # the scenario's own timeline is left out
    event_id = send(mockmx_server, "alice-token", "hi", "e1")
    send(mockmx_server, "bob-phone-token", "hey", "e2")
    events = mockmx_server.room_events("#lobby:localhost", sender="@alice:localhost")
    assert [(e["event_id"], e["type"], e["content"]["body"]) for e in events] == [(event_id, "m.room.message", "hi")]
    assert len(mockmx_server.room_events(LOBBY, type="m.room.message")) == 2
    assert mockmx_server.room_events("!backstage:localhost") == []


@pytest.mark.mockmx(scenario="mockmx: 1\nserver_name: marked.example\n")
def test_a_marker_gives_the_scenario_as_yaml_text(mockmx_server: MockmxServer) -> None:
    assert mockmx_server.scenario.server_name == "marked.example"


def test_mockmx_serve_starts_as_many_as_asked(mockmx_serve: object) -> None:
    assert callable(mockmx_serve)
    first, second = mockmx_serve(), mockmx_serve(WORLD.format(name="second.example"))
    assert first.url != second.url
    assert second.scenario.server_name == "second.example"


def test_a_mock_starts_in_well_under_100_ms() -> None:
    with running_mock():
        pass  # imports and the default scenario, once
    starts = []
    for _ in range(20):
        started = time.perf_counter()
        with running_mock():
            starts.append(time.perf_counter() - started)
    assert statistics.median(starts) < 0.1, starts


# -- the plugin, in a pytest of its own ---------------------------------------------------------------------------


def test_options_marker_and_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "mockmx: a mock Matrix homeserver; record and replay sessions:",
            "*--mockmx-scenario=FILE*",
            "*--mockmx-record-mode={none,once,new,all}*",
            "*--mockmx-upstream=URL*",
            "*--mockmx-push-to=URL*",
            "*--mockmx-strict*",
        ]
    )
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.mockmx(scenario=..., recording=..., record_mode=...*"])
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--fixtures")
    for fixture in ("mockmx_config", "mockmx_settings", "mockmx_serve", "mockmx_server", "mockmx_replay"):
        result.stdout.fnmatch_lines([f"{fixture} -- *", "    ?*"])  # each with its docstring


def test_a_test_that_asks_for_nothing_starts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import threading
        def test_quiet():
            assert not [thread for thread in threading.enumerate() if thread.name.startswith("mockmx")]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


PRECEDENCE = """
import pytest

@pytest.fixture
def mockmx_config():
    return {"scenario": "from_fixture.yaml", "record_mode": "once"}

def test_unmarked(mockmx_server, mockmx_settings):
    print("RESULT", "unmarked", mockmx_server.scenario.server_name, mockmx_settings.record_mode.value)

@pytest.mark.mockmx(scenario="from_marker.yaml", record_mode="all")
def test_marked(mockmx_server, mockmx_settings):
    print("RESULT", "marked", mockmx_server.scenario.server_name, mockmx_settings.record_mode.value)
"""


@pytest.mark.parametrize(
    ("arguments", "unmarked", "marked"),
    [
        ([], "from-fixture once", "from-marker all"),
        (["--mockmx-scenario=from_cli.yaml", "--mockmx-record-mode=new"], "from-cli new", "from-marker all"),
    ],
)
def test_the_marker_wins_over_the_command_line_which_wins_over_the_fixture(
    pytester: pytest.Pytester, arguments: list[str], unmarked: str, marked: str
) -> None:
    for name in ("from_fixture", "from_cli", "from_marker"):
        pytester.path.joinpath(f"{name}.yaml").write_text(WORLD.format(name=name.replace("_", "-")))
    pytester.makepyfile(PRECEDENCE)
    result = pytester.runpytest("-s", *arguments)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*RESULT unmarked {unmarked}", f"*RESULT marked {marked}"])


def test_the_closest_marker_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        pytestmark = pytest.mark.mockmx(strict=True, scenario="mockmx: 1\\nserver_name: module\\n")

        @pytest.mark.mockmx(scenario="mockmx: 1\\nserver_name: function\\n")
        def test_it(mockmx_server, mockmx_settings):
            assert mockmx_server.scenario.server_name == "function"
            assert mockmx_settings.strict
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("scenery='x.yaml'", "unknown setting scenery; expected some of: scenario, recording, record_mode, upstream,"),
        (
            "record_mode='sometimes'",
            "record_mode: unknown record mode 'sometimes'; expected one of: none, once, new, all",
        ),
        ("upstream='localhost:8008'", "upstream: expected an http:// or https:// URL, got 'localhost:8008'"),
        ("strict='yes'", "strict: expected true or false, got 'yes'"),
        (
            "unmatched='nope'",
            "unmatched: unknown unmatched-request policy 'nope': expected one of '404', 'error', 'passthrough'",
        ),
        ("'x.yaml'", "takes keyword arguments only"),
    ],
)
def test_a_wrong_marker_stops_the_run_before_any_test(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest
        def test_first(): pass
        @pytest.mark.mockmx({marker})
        def test_marked(): pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_a_wrong_marker_stops_the_run_before_any_test.py::test_marked*{message}*"])


def test_wrong_command_line_values_list_the_valid_ones(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--mockmx-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--mockmx-record-mode: invalid choice: 'sometimes' (choose from *none*once*new*all*)"]
    )
    result = pytester.runpytest("--mockmx-upstream=localhost:8008")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*command line: upstream: expected an http:// or https:// URL, got 'localhost:8008'"])
    assert [mode.value for mode in RecordMode] == ["none", "once", "new", "all"]


def test_a_wrong_mockmx_config_fails_the_test_that_uses_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        @pytest.fixture
        def mockmx_config():
            return {"scenaro": "x.yaml"}
        def test_it(mockmx_server): pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockmx_config: unknown setting scenaro; expected some of: scenario, *"])


def test_a_scenario_with_problems_fails_the_test_naming_them(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("world.yaml").write_text("mockmx: 1\nserver_name: 7\nusers: nobody\n")
    pytester.makepyfile(
        """
        import pytest
        @pytest.mark.mockmx(scenario="world.yaml")
        def test_it(mockmx_server): pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*world.yaml:3:*"])


# -- record modes ---------------------------------------------------------------------------------------------------

SESSION_TEST = """
import httpx, pytest

@pytest.mark.mockmx(recording="recordings/whoami.yaml")
def test_session(mockmx_replay):
    with httpx.Client(base_url=mockmx_replay.url, timeout=10) as client:
        r = client.get("/_matrix/client/v3/account/whoami", headers={"Authorization": "Bearer alice-token"})
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == "@alice:localhost"
    print("MODE", "recording" if mockmx_replay.recording else "replaying")
"""


@pytest.fixture
def upstream(mockmx_serve: object) -> MockmxServer:
    """A mock homeserver standing in for the real one that record modes record against."""
    assert callable(mockmx_serve)
    server: MockmxServer = mockmx_serve()
    return server


def recorded_paths(path: Path) -> list[tuple[str, str, str]]:
    return [(flow.leg, flow.request.method, flow.request.path) for flow in load_recording(path).flows]


def test_none_fails_clearly_when_the_recording_is_missing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SESSION_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no recording */recordings/whoami.yaml (record mode none); record it with --mockmx-record-mode=once "
            "and --mockmx-upstream URL (a real homeserver)"
        ]
    )
    assert not pytester.path.joinpath("recordings").exists()


def test_recording_needs_an_upstream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SESSION_TEST)
    result = pytester.runpytest("--mockmx-record-mode=once")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot record */whoami.yaml (record mode once) without a homeserver to record: *"])


def test_once_records_a_missing_recording(pytester: pytest.Pytester, upstream: MockmxServer) -> None:
    pytester.makepyfile(SESSION_TEST)
    result = pytester.runpytest("-s", "--mockmx-record-mode=once", f"--mockmx-upstream={upstream.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE recording*"])
    path = pytester.path / "recordings" / "whoami.yaml"
    assert recorded_paths(path) == [(Leg.CLIENT, "GET", WHOAMI)]
    assert "alice-token" not in path.read_text()
    assert not list(path.parent.glob("*.partial.yaml"))


def test_a_failed_test_keeps_its_new_recording_aside(pytester: pytest.Pytester, upstream: MockmxServer) -> None:
    pytester.makepyfile(SESSION_TEST.replace('== "@alice:localhost"', '== "@carol:localhost"'))
    result = pytester.runpytest("--mockmx-record-mode=all", f"--mockmx-upstream={upstream.url}")
    result.assert_outcomes(failed=1)
    folder = pytester.path / "recordings"
    assert not (folder / "whoami.yaml").exists()
    assert recorded_paths(folder / "whoami.partial.yaml") == [(Leg.CLIENT, "GET", WHOAMI)]


def test_the_default_recording_is_named_after_the_test(pytester: pytest.Pytester, upstream: MockmxServer) -> None:
    pytester.makepyfile(
        test_named="""
        import pytest
        @pytest.mark.parametrize("n", [1])
        def test_it(mockmx_replay, n):
            assert mockmx_replay.recording
        """
    )
    result = pytester.runpytest("--mockmx-record-mode=once", f"--mockmx-upstream={upstream.url}")
    result.assert_outcomes(passed=1)
    assert load_recording(pytester.path / "recordings" / "test_named" / "test_it_1.yaml").flows == []


PUSH_TEST = """
import httpx, pytest
from mockmx.verify import assert_notifications

@pytest.mark.mockmx(recording="pushed.yaml")
def test_push(mockmx_replay):
    pusher = {
        "kind": "http", "app_id": "org.example.plugin", "pushkey": "PLUGIN_PUSHKEY", "app_display_name": "Plugin",
        "device_display_name": "Phone", "lang": "en", "data": {"url": mockmx_replay.push_url},
    }
    with httpx.Client(base_url=mockmx_replay.url, timeout=10) as client:
        bob = {"Authorization": "Bearer bob-phone-token"}
        r = client.post("/_matrix/client/v3/pushers/set", json=pusher, headers=bob)
        assert r.status_code == 200, r.text
        r = client.put(
            "/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/plugin-1",
            json={"msgtype": "m.text", "body": "through the plugin"},
            headers={"Authorization": "Bearer alice-token"},
        )
        assert r.status_code == 200, r.text
    mockmx_replay.gateway.assert_notified(content={"body": "through the plugin"}, pushkey="PLUGIN_PUSHKEY")
    if not mockmx_replay.recording:
        mockmx_replay.state.wait_for_pushes()
        assert_notifications(mockmx_replay.gateway.notifications(), mockmx_replay.path)
        assert_notifications(mockmx_replay.gateway.notifications(), mockmx_replay.state)
    print("MODE", "recording" if mockmx_replay.recording else "replaying")
"""


def test_a_recording_holds_the_push_leg_through_a_mock_gateway(
    pytester: pytest.Pytester, upstream: MockmxServer
) -> None:
    pytester.makepyfile(PUSH_TEST)
    result = pytester.runpytest("-s", "--mockmx-record-mode=all", f"--mockmx-upstream={upstream.url}")
    result.assert_outcomes(passed=1)
    recording = load_recording(pytester.path / "pushed.yaml")
    pushes = [flow for flow in recording.flows if flow.leg == Leg.PUSH and "PLUGIN_PUSHKEY" in str(flow.request.body)]
    assert len(pushes) == 1, recorded_paths(pytester.path / "pushed.yaml")
    assert pushes[0].response is not None and pushes[0].response.status == 200


def test_all_records_again(pytester: pytest.Pytester, upstream: MockmxServer) -> None:
    pytester.makepyfile(SESSION_TEST)
    arguments = ["-s", "--mockmx-record-mode=all", f"--mockmx-upstream={upstream.url}"]
    pytester.runpytest(*arguments).assert_outcomes(passed=1)
    path = pytester.path / "recordings" / "whoami.yaml"
    first = load_recording(path).started_at
    time.sleep(0.002)
    result = pytester.runpytest(*arguments)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE recording*"])
    assert load_recording(path).started_at != first


# -- replaying ------------------------------------------------------------------------------------------------------

NOBODY = "http://127.0.0.1:9"  # where no homeserver listens: a replay that passes never asked it

EXTRA_TEST = """
import httpx, pytest

@pytest.fixture
def late(mockmx_replay):
    yield
    if {late!r}:
        alice = {{"Authorization": "Bearer alice-token"}}
        httpx.get(mockmx_replay.url + "/_matrix/client/v3/capabilities", headers=alice)

@pytest.mark.mockmx(recording="recordings/whoami.yaml")
def test_session(mockmx_replay, late):
    with httpx.Client(base_url=mockmx_replay.url, timeout=10) as client:
        r = client.get("/_matrix/client/v3/account/whoami", headers={{"Authorization": "Bearer alice-token"}})
        assert r.status_code == 200, r.text
        if {extra!r}:
            r = client.get("/_matrix/client/v3/joined_rooms", headers={{"Authorization": "Bearer alice-token"}})
            print("EXTRA", r.status_code, r.text)
"""


@pytest.fixture
def recorded(pytester: pytest.Pytester, upstream: MockmxServer) -> Path:
    """recordings/whoami.yaml, recorded by SESSION_TEST with record mode once against the upstream mock."""
    pytester.makepyfile(SESSION_TEST)
    pytester.runpytest("--mockmx-record-mode=once", f"--mockmx-upstream={upstream.url}").assert_outcomes(passed=1)
    return pytester.path / "recordings" / "whoami.yaml"


@pytest.mark.parametrize("mode", ["none", "once"])
def test_none_and_once_replay_an_existing_recording(pytester: pytest.Pytester, recorded: Path, mode: str) -> None:
    before = recorded.read_text()
    result = pytester.runpytest("-s", f"--mockmx-record-mode={mode}", f"--mockmx-upstream={NOBODY}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE replaying*"])
    assert recorded.read_text() == before


def test_a_replayed_session_delivers_the_recorded_notifications(
    pytester: pytest.Pytester, upstream: MockmxServer
) -> None:
    pytester.makepyfile(PUSH_TEST)
    pytester.runpytest("--mockmx-record-mode=once", f"--mockmx-upstream={upstream.url}").assert_outcomes(passed=1)
    result = pytester.runpytest("-s", "--mockmx-strict")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODE replaying*"])


def test_strict_replay_fails_a_test_that_asks_for_what_was_not_recorded(
    pytester: pytest.Pytester, recorded: Path
) -> None:
    pytester.makepyfile(EXTRA_TEST.format(extra=True, late=False))
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)  # not strict: the miss is answered 404 M_UNRECOGNIZED, and the test goes on
    result.stdout.fnmatch_lines(["*EXTRA 404 *M_UNRECOGNIZED*"])
    result = pytester.runpytest("--mockmx-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*strict replay of {recorded}: 1 failure during the test:",
            "GET /_matrix/client/v3/joined_rooms matched no recorded request (answered 404)*",
        ]
    )


def test_strict_replay_fails_on_misses_after_the_test_at_teardown(pytester: pytest.Pytester, recorded: Path) -> None:
    pytester.makepyfile(EXTRA_TEST.format(extra=False, late=True))
    result = pytester.runpytest("--mockmx-strict")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*strict replay of {recorded}: 1 failure after the test:",
            "GET /_matrix/client/v3/capabilities matched no recorded request*",
        ]
    )


def test_new_passes_what_the_recording_lacks_to_the_homeserver_and_adds_it(
    pytester: pytest.Pytester, recorded: Path, upstream: MockmxServer
) -> None:
    before = recorded.read_text()
    pytester.makepyfile(EXTRA_TEST.format(extra=False, late=False))
    new = ["-s", "--mockmx-strict", "--mockmx-record-mode=new", f"--mockmx-upstream={upstream.url}"]
    pytester.runpytest(*new).assert_outcomes(passed=1)
    assert recorded.read_text() == before, "nothing new: the recording is left as it was"

    pytester.makepyfile(EXTRA_TEST.format(extra=True, late=False))
    result = pytester.runpytest(*new)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(['*EXTRA 200 {"joined_rooms":[[]"!*'])
    assert recorded.read_text().startswith(before)
    assert recorded_paths(recorded) == [(Leg.CLIENT, "GET", WHOAMI), (Leg.CLIENT, "GET", f"{CS}/joined_rooms")]
    assert "alice-token" not in recorded.read_text()
    assert not list(recorded.parent.glob("*.partial.yaml"))

    # Every later run replays the new request too, with no homeserver at all.
    result = pytester.runpytest("-s", "--mockmx-strict", f"--mockmx-upstream={NOBODY}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(['*EXTRA 200 {"joined_rooms":[[]"!*'])

    result = pytester.runpytest("--mockmx-record-mode=new")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*record mode new passes what */whoami.yaml does not hold on to a homeserver: *"])


def test_new_keeps_what_a_failed_test_added_aside(
    pytester: pytest.Pytester, recorded: Path, upstream: MockmxServer
) -> None:
    before = recorded.read_text()
    pytester.makepyfile(EXTRA_TEST.format(extra=True, late=False) + "    assert False, 'the test fails'\n")
    result = pytester.runpytest("--mockmx-record-mode=new", f"--mockmx-upstream={upstream.url}")
    result.assert_outcomes(failed=1)
    assert recorded.read_text() == before
    partial = recorded.with_name("whoami.partial.yaml")
    assert recorded_paths(partial)[-1] == (Leg.CLIENT, "GET", f"{CS}/joined_rooms")
