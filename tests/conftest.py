"""Real servers for the tests: each fixture runs the mock on uvicorn, on a free loopback port, and stops it after."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

# httpx imports httpcore on first use and keeps a map of its exceptions from then on. Were that first use inside a
# pytester run in this process, pytester would drop httpcore from sys.modules after it, the next client would load
# it afresh, and its exceptions would escape the map unconverted (a RemoteProtocolError that is no
# httpx.TransportError): loaded here, before any test runs, it stays.
import httpcore  # noqa: F401
import httpx
import pytest

from mockmx.scenario.loader import default_scenario, load_scenario_text
from mockmx.testing.live import MockmxServer, running_mock
from tests.pythons import ensure_python_venv, other_pythons
from tests.synapse import SynapseServer, ensure_synapse_venv, running_synapse

ROOT = Path(__file__).resolve().parents[1]

ALICE = "@alice:localhost"
BOB = "@bob:localhost"
LOBBY = "!lobby:localhost"
BACKSTAGE = "!backstage:localhost"
ALICE_TOKEN = "alice-token"
BOB_PHONE_TOKEN = "bob-phone-token"
BOB_LAPTOP_TOKEN = "bob-laptop-token"


# The tests' mock is the one the plugin's `mockmx_server` fixture gives a user.
LiveServer = MockmxServer
serve = running_mock


@pytest.fixture
def mock() -> Iterator[LiveServer]:
    """A fresh mock homeserver running the default scenario (alice and bob in #lobby:localhost)."""
    with serve(default_scenario()) as live:
        yield live


@pytest.fixture(scope="module")
def shared() -> Iterator[LiveServer]:
    """One default mock for a module's tests that change nothing (error cases): it saves a server per test."""
    with serve(default_scenario()) as live:
        yield live


@pytest.fixture
def shared_alice(shared: LiveServer) -> Iterator[httpx.Client]:
    """alice's client on the module's shared mock."""
    with shared.client(ALICE_TOKEN) as client:
        yield client


@pytest.fixture
def shared_bob(shared: LiveServer) -> Iterator[httpx.Client]:
    """bob's client (BOBPHONE) on the module's shared mock."""
    with shared.client(BOB_PHONE_TOKEN) as client:
        yield client


def assert_error(r: httpx.Response, status: int, errcode: str) -> dict[str, Any]:
    """`r` is a Matrix error: that status, that errcode, a string `error`, served as JSON; returns its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["errcode"] == errcode, r.text
    assert isinstance(body["error"], str), r.text
    return body


def send_text(client: httpx.Client, body: str, txn_id: str, room_id: str = LOBBY) -> str:
    """A text message sent as `client`'s user; its event id."""
    r = client.put(
        f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn_id}",
        json={"msgtype": "m.text", "body": body},
    )
    assert r.status_code == 200, r.text
    event_id: str = r.json()["event_id"]
    return event_id


def long_poll_waiters(mock: LiveServer) -> int:
    """How many long polls the mock holds waiting right now."""
    while True:
        try:
            return mock.homeserver.notifier.waiting()
        except RuntimeError:  # the server's thread changed the waiters while we counted: look again
            continue


@contextlib.contextmanager
def polling(mock: LiveServer, request: Callable[[], Any], *, waiters: int = 1) -> Iterator[Future[Any]]:
    """Send `request` (a long poll) from another thread; the block runs once the mock holds `waiters` more polls
    waiting, so what it does happens while the poll waits. The future holds the poll's answer."""
    before = long_poll_waiters(mock)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(request)
        deadline = time.monotonic() + 10
        while long_poll_waiters(mock) < before + waiters:
            if future.done():
                raise AssertionError(f"the long poll answered without waiting: {future.result()!r}")
            if time.monotonic() > deadline:
                raise AssertionError("the long poll never started waiting")
            time.sleep(0.001)
        yield future


def sync(client: httpx.Client, since: str | None = None, **params: Any) -> dict[str, Any]:
    """`client`'s `/sync` (after `since`, with any other query parameters, such as `timeout`); its body."""
    if since is not None:
        params["since"] = since
    r = client.get("/_matrix/client/v3/sync", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def stream_end(client: httpx.Client) -> str:
    """The event stream's current end, to read only what comes after it."""
    r = client.get("/_matrix/client/v3/events", params={"timeout": 0})
    assert r.status_code == 200, r.text
    end: str = r.json()["end"]
    return end


def events_since(client: httpx.Client, token: str) -> list[dict[str, Any]]:
    """The events of the event stream after `token`, without waiting."""
    r = client.get("/_matrix/client/v3/events", params={"from": token, "timeout": 0, "limit": 1000})
    assert r.status_code == 200, r.text
    chunk: list[dict[str, Any]] = r.json()["chunk"]
    return chunk


@pytest.fixture
def serve_yaml() -> Iterator[Callable[[str], LiveServer]]:
    """Start a mock homeserver from scenario YAML text; every server started is stopped after the test."""
    with contextlib.ExitStack() as stack:

        def start(text: str) -> LiveServer:
            return stack.enter_context(serve(load_scenario_text(text, "<test>")))

        yield start


@pytest.fixture
def alice(mock: LiveServer) -> Iterator[httpx.Client]:
    """alice's client (device ALICEDEV) on the default mock."""
    with mock.client(ALICE_TOKEN) as client:
        yield client


@pytest.fixture
def bob(mock: LiveServer) -> Iterator[httpx.Client]:
    """bob's client (device BOBPHONE) on the default mock."""
    with mock.client(BOB_PHONE_TOKEN) as client:
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Under xdist (`--dist loadgroup`), every Synapse test goes to the same worker: one Synapse for the run.
    for item in items:
        if item.get_closest_marker("synapse"):
            item.add_marker(pytest.mark.xdist_group("synapse"))


def pytest_collection_finish(session: pytest.Session) -> None:
    # Install Synapse (tens of seconds, once) before any test runs, so no test's timeout pays for it.
    if any(item.get_closest_marker("synapse") for item in session.items):
        ensure_synapse_venv(ROOT)
    # And the venvs of the other supported Pythons, likewise.
    if any(item.get_closest_marker("pythons") for item in session.items):
        for version in other_pythons():
            ensure_python_venv(version)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """A real Synapse 1.163.2 on loopback for the whole session, in its own .venv-synapse; tests mark themselves
    `@pytest.mark.synapse` and use localparts no other test uses."""
    with running_synapse(ROOT, tmp_path_factory.mktemp("synapse")) as server:
        yield server
