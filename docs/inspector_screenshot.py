"""Take docs/inspector.png, the README's picture of the inspector: `.venv/bin/python docs/inspector_screenshot.py`.

A mock with some traffic (a login, syncs, messages, a to-device message, a fault rule that acts), the page in the
same headless chromium the tests use, one request opened.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from mockmx.testing.live import running_mock  # noqa: E402
from tests.browser import ARGS, ensure_chromium  # noqa: E402

CS = "/_matrix/client/v3"
LOBBY = "!lobby:localhost"


def traffic(url: str) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=10) as client:
        login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"}}
        token = client.post(f"{CS}/login", json={**login, "password": "alice-pass"}).json()["access_token"]
        alice = {"Authorization": f"Bearer {token}"}
        bob = {"Authorization": "Bearer bob-phone-token"}
        since = client.get(f"{CS}/sync", headers=bob).json()["next_batch"]
        client.get(f"{CS}/joined_rooms", headers=alice)
        for n, text in enumerate(["hello bob", "are you there?", "lunch at 12?"], 1):
            message = {"msgtype": "m.text", "body": text}
            client.put(f"{CS}/rooms/{LOBBY}/send/m.room.message/m{n}", json=message, headers=alice)
        client.get(f"{CS}/sync", params={"since": since}, headers=bob)
        client.put(
            f"{CS}/rooms/{LOBBY}/send/m.room.message/r1", json={"msgtype": "m.text", "body": "yes!"}, headers=bob
        )
        client.put(f"{CS}/sendToDevice/m.room_key_request/k1", json={"messages": {"@alice:localhost": {"*": {}}}},
                   headers=bob)  # fmt: skip
        client.post("/_mockmx/faults", content=f"path: {CS}/keys/query\nstatus: 502\ntimes: 1\n")
        client.post(f"{CS}/keys/query", json={"device_keys": {"@bob:localhost": []}}, headers=alice)
        client.get(f"{CS}/rooms/{LOBBY}/state", headers={"Authorization": "Bearer nope"})
        client.post("/_mockmx/script", content="sender: bob\nroom: lobby\nsay: sent by the script\n")


def main() -> None:
    out = ROOT / "docs" / "inspector.png"
    with running_mock() as mock, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 860})
        page.goto(f"{mock.url}/_mockmx/")
        expect(page.get_by_role("status", name="Connection")).to_have_text("live")
        traffic(mock.url)
        row = page.get_by_role("row", name="/send/m.room.message/m3")
        row.click()
        expect(page.get_by_role("region", name="Response body")).to_contain_text("event_id")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out))
        page.close()
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
