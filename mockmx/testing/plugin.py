"""The pytest plugin, registered through the `pytest11` entry point: fixtures that run the mock, or record and
replay a session with a real homeserver, and assert the notifications sent.

Settings come from three places, the first that gives one winning:

1. the `mockmx` marker: `@pytest.mark.mockmx(scenario="world.yaml", recording="session.yaml", ...)`;
2. the command line: `--mockmx-scenario`, `--mockmx-record-mode`, `--mockmx-upstream`, `--mockmx-push-to`,
   `--mockmx-strict`;
3. the `mockmx_config` fixture (override it in a conftest.py: it returns a dict of the same names).

Nothing here runs unless a test asks for a fixture.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from mockmx.problems import ScenarioError
from mockmx.testing.config import NAMES, LoadCache, MockmxConfig, ScenarioSource, default_recording, merge, settings
from mockmx.testing.record_mode import RecordMode

# The mock, the recorder and replay are imported by the fixtures that use them: a pytest run that never does
# should not pay for loading them (see bench/startup.py).
if TYPE_CHECKING:
    from mockmx.testing.live import MockmxServer
    from mockmx.testing.session import RecordedSession

MARKER = "mockmx"
_COMMAND_LINE = pytest.StashKey[dict[str, Any]]()
_LOADED = pytest.StashKey[LoadCache]()
_PASSED = pytest.StashKey[dict[str, bool]]()  # "setup", "call" -> whether that phase passed
_REPLAY = pytest.StashKey["tuple[RecordedSession, MockmxConfig]"]()
_OPTIONS = {  # command-line option -> setting
    "mockmx_scenario": "scenario",
    "mockmx_record_mode": "record_mode",
    "mockmx_upstream": "upstream",
    "mockmx_push_to": "push_to",
    "mockmx_strict": "strict",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockmx", "mockmx: a mock Matrix homeserver; record and replay sessions")
    group.addoption(
        "--mockmx-scenario", metavar="FILE", default=None, help="scenario for mockmx_server (default: the built-in one)"
    )
    group.addoption(
        "--mockmx-record-mode",
        choices=[mode.value for mode in RecordMode],
        default=None,
        help="when mockmx_replay records against --mockmx-upstream: none (never, the default), once (when the "
        "recording is missing), new (as once, and requests the recording lacks go to the homeserver and are added to "
        "it), all (always)",
    )
    group.addoption("--mockmx-upstream", metavar="URL", default=None, help="the real homeserver to record against")
    group.addoption(
        "--mockmx-push-to",
        metavar="URL",
        default=None,
        help="the push gateway that replayed (and recorded) pushes go to (default: a mock gateway per test)",
    )
    group.addoption(
        "--mockmx-strict",
        action="store_const",
        const=True,
        default=None,
        help="a request a replayed recording does not hold fails the test",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}({'=..., '.join(NAMES)}=...): settings for the mockmx fixtures; they win over the command line "
        "and the mockmx_config fixture",
    )
    given = {name: config.getoption(option) for option, name in _OPTIONS.items()}
    try:
        config.stash[_COMMAND_LINE] = settings(
            {name: value for name, value in given.items() if value is not None},
            config.invocation_params.dir,
            "command line",
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_LOADED] = LoadCache()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Mistakes in markers are found before anything runs, as --strict-markers finds unknown markers.
    problems = []
    for item in items:
        for mark in item.iter_markers(MARKER):
            where = f"{item.nodeid}: @pytest.mark.{MARKER}"
            if mark.args:
                problems.append(f"{where}: takes keyword arguments only ({', '.join(NAMES)})")
                continue
            try:
                settings(mark.kwargs, item.path.parent, where)
            except ValueError as exc:
                problems.append(str(exc))
    if problems:
        raise pytest.UsageError("\n".join(problems))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Kept so that mockmx_replay knows at teardown whether the test passed (a new recording is kept only then).
    report = yield
    item.stash.setdefault(_PASSED, {})[report.when] = report.passed
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield
    # Only a test that passed gets here: strict replay's misses are its failure.
    replay = item.stash.get(_REPLAY, None)
    if replay is not None:
        _fail_if_strict(*replay, when="during the test")


@pytest.fixture
def mockmx_config() -> dict[str, Any]:
    """Defaults for the mockmx fixtures, weakest of the three places settings come from (the mockmx marker, then the
    command line, then this). Override it in a conftest.py, using other fixtures if need be:
    `return {"scenario": "world.yaml", "push_to": my_gateway.url}`. Names: scenario, recording, record_mode,
    upstream, push_to, strict, unmatched, tokens."""
    return {}


@pytest.fixture
def mockmx_settings(request: pytest.FixtureRequest, mockmx_config: dict[str, Any]) -> MockmxConfig:
    """The settings this test runs with: `mockmx_config`, overridden by the command line, overridden by the mockmx
    marker (the closest marker first)."""
    base = request.path.parent
    try:
        layers = [settings(mockmx_config, base, "mockmx_config"), request.config.stash[_COMMAND_LINE]]
        layers += [settings(mark.kwargs, base, MARKER) for mark in reversed(list(request.node.iter_markers(MARKER)))]
    except ValueError as exc:
        problem = str(exc)
    else:
        return merge(*layers)
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def mockmx_serve(request: pytest.FixtureRequest) -> Iterator[Callable[..., MockmxServer]]:
    """Start mock homeservers: `mockmx_serve(scenario)` with a scenario file (relative to the test's file), YAML
    text or a `Scenario`; `mockmx_serve()` for the built-in one. Each listens on a free loopback port and stops
    after the test."""
    from mockmx.testing.live import running_mock

    loaded = request.config.stash[_LOADED]
    base = request.path.parent
    with contextlib.ExitStack() as stack:

        def serve(scenario: ScenarioSource | None = None) -> MockmxServer:
            try:
                source = settings({"scenario": scenario}, base, "mockmx_serve")["scenario"]
                world = loaded.scenario(source)
            except (ValueError, ScenarioError) as exc:
                problem = str(exc)
            else:
                return stack.enter_context(running_mock(world))
            pytest.fail(problem, pytrace=False)

        yield serve


@pytest.fixture
def mockmx_server(mockmx_settings: MockmxConfig, mockmx_serve: Callable[..., MockmxServer]) -> MockmxServer:
    """A mock homeserver for this test on a free loopback port, serving the scenario of the mockmx marker,
    --mockmx-scenario or mockmx_config (default: the built-in one, alice and bob in #lobby:localhost and a pusher for
    bob at the mock's own gateway). `.url`, `.client(token)`, `.notifications()`, `.to_device_messages(user)`,
    `.room_events(room)`, `.assert_notified(...)`, `.assert_notifications(expected)`."""
    return mockmx_serve(mockmx_settings.scenario)


@pytest.fixture
def mockmx_replay(request: pytest.FixtureRequest, mockmx_settings: MockmxConfig) -> Iterator[RecordedSession]:
    """A recorded session for this test, at `.url`: the recording of the mockmx marker or mockmx_config (default:
    recordings/<module>/<test>.yaml beside the test's file) replayed, or, as --mockmx-record-mode says, recorded
    afresh through `mockmx record` against --mockmx-upstream (a new recording is kept when the test passes).
    `.recording` says which; give `.push_url` to a pusher as its data.url; pushes go to `push_to`, else to the mock
    gateway at `.gateway`. With strict, a request the recording does not hold fails the test."""
    from mockmx.testing.session import SessionError, recorded_session

    config = mockmx_settings
    path = config.recording or default_recording(request.path, request.node.name)
    node = request.node
    problem = None
    try:
        loaded = request.config.stash[_LOADED]
        with recorded_session(config, path, keep=lambda: _passed(node), load=loaded.recording) as session:
            node.stash[_REPLAY] = (session, config)
            yield session
            del node.stash[_REPLAY]
            if _passed(node):  # misses during the test failed it already; these came later (other teardowns)
                _fail_if_strict(session, config, when="after the test")
    except SessionError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def _fail_if_strict(session: RecordedSession, config: MockmxConfig, *, when: str) -> None:
    if not config.strict:
        return
    failures = session.failures()
    if failures:
        count = f"{len(failures)} failure{'s' * (len(failures) != 1)}"
        pytest.fail(f"strict replay of {session.path}: {count} {when}:\n" + "\n".join(failures), pytrace=False)


def _passed(item: pytest.Item) -> bool:
    passed = item.stash.get(_PASSED, {})
    return "call" in passed and all(passed.values())
