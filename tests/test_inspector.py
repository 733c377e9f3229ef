"""The inspector page in a real headless browser (tests/browser.py): it loads cleanly, and what happens on the
mock shows up live, without a reload: requests and their bodies, room messages, notifications, a replay's misses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser import browser
from tests.conftest import ALICE_TOKEN, LOBBY, LiveServer, send_text
from tests.test_replay_app import flows_yaml, serve_replay

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

__all__ = ["browser"]  # the fixture, used by name
TIMEOUT_MS = 5000  # for what the page should show: a second is the goal, this is the failure


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; any console error or uncaught exception in it fails the test. Ask for the server's fixture
    before this one, so that the page closes before the server stops."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    opened.on("console", console)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors


def open_inspector(page: Page, url: str) -> None:
    page.goto(f"{url}/_mockmx/")
    from playwright.sync_api import expect

    expect(page.get_by_role("status", name="Connection")).to_have_text("live")


def test_the_page_loads_with_every_view_and_no_console_error(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    expect(page.get_by_role("tab", name=re.compile("^Requests"))).to_have_attribute("aria-selected", "true")
    for view in ("Rooms", "To-device", "Push", "Faults", "Script", "Requests"):
        page.get_by_role("tab", name=re.compile(f"^{view}")).click()
        expect(page.get_by_role("tabpanel")).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile("^Replay"))).to_be_hidden()


def test_a_message_sent_with_httpx_shows_up_without_a_reload(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    page.get_by_role("tab", name=re.compile("^Rooms")).click()
    expect(page.get_by_role("article", name="Room Lobby")).to_be_visible()
    with mock.client(ALICE_TOKEN) as alice:
        send_text(alice, "seen live in the inspector", "live-1")
    expect(page.get_by_role("table", name="Timeline").first).to_contain_text("seen live in the inspector")
    page.keyboard.press("1")
    expect(page.get_by_role("row", name="/send/m.room.message/live-1 200")).to_be_visible()


def test_a_requests_bodies_open_on_click(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    with mock.client(ALICE_TOKEN) as alice:
        event_id = send_text(alice, "open my bodies", "bodies-1")
    page.get_by_role("row", name="/send/m.room.message/bodies-1").click()
    details = page.get_by_role("region", name="Request details")
    expect(details.get_by_role("region", name="Request body")).to_contain_text('"body": "open my bodies"')
    expect(details.get_by_role("region", name="Response body")).to_contain_text(event_id)
    expect(details).to_contain_text("@alice:localhost (ALICEDEV)")


def test_a_filter_narrows_the_log(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    with mock.client(ALICE_TOKEN) as alice:
        send_text(alice, "one", "filter-1")
        assert alice.get("/_matrix/client/v3/account/whoami").status_code == 200
    whoami = page.get_by_role("row", name="GET /_matrix/client/v3/account/whoami")
    expect(whoami).to_be_visible()
    page.get_by_role("combobox", name="Method").select_option("PUT")
    expect(whoami).to_be_hidden()
    expect(page.get_by_role("row", name="/send/m.room.message/filter-1")).to_be_visible()


def test_a_notification_appears(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    page.get_by_role("tab", name=re.compile("^Push")).click()
    with mock.client(ALICE_TOKEN) as alice:
        send_text(alice, "push me", "push-1")  # bob's pusher pushes to this mock's own gateway
    received = page.get_by_role("article", name="Notifications received")
    expect(received).to_contain_text("@alice:localhost: push me")
    expect(page.get_by_role("article", name="Pushes sent")).to_contain_text("sent")


def test_a_reset_empties_the_log(mock: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    open_inspector(page, mock.url)
    with mock.client(ALICE_TOKEN) as alice:
        send_text(alice, "before", "reset-1")
    expect(page.get_by_role("row", name="/send/m.room.message/reset-1")).to_be_visible()
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_role("row", name="/send/m.room.message/reset-1")).to_have_count(0)
    expect(page.locator("#server")).to_contain_text("resets: 1")


def test_a_replays_miss_shows_its_differences(page: Page) -> None:
    from playwright.sync_api import expect

    recording = flows_yaml(
        {
            "request": {"method": "GET", "path": f"/_matrix/client/v3/rooms/{LOBBY}/messages", "query": {"dir": "b"}},
            "response": {"status": 200, "body": {"chunk": [], "start": "s1"}},
        },
        {
            "request": {"method": "GET", "path": "/_matrix/client/versions"},
            "response": {"status": 200, "body": {"versions": ["v1.11"]}},
        },
    )
    with serve_replay(recording) as live:
        open_inspector(page, live.url)
        page.get_by_role("tab", name=re.compile("^Replay")).click()
        expect(page.get_by_role("article", name="Not yet played")).to_contain_text("GET /_matrix/client/versions")
        r = httpx.get(f"{live.url}/_matrix/client/v3/rooms/{LOBBY}/messages", params={"dir": "f"})
        assert r.status_code == 404, r.text
        misses = page.get_by_role("article", name="Misses")
        expect(misses).to_contain_text("Missed (1)")
        expect(misses).to_contain_text("dir: recorded 'b', got 'f'")
        page.close()  # before the replay stops, which its event stream would report as an error
