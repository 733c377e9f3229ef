"""The same event sequence on a real Synapse (pushing to a mock gateway) and on the mock (pushing to a second mock):
the same notifications, with the same prio, tweaks and counts.

Where the spec and Synapse differ, the spec wins, and the comparison allows exactly that (see `_as_spec_says`):
- Synapse's copy of the default rules still adds `{"set_tweak": "highlight", "value": false}`; the spec's (v1.11)
  do not, and a missing highlight tweak means false.
- Synapse's badge-only pushes carry `"type": null`; the spec types `type` a string, so the mock leaves it out.
- Synapse sends `"unread": 0`; the push gateway spec says counts of zero are left out.
The mock counts unread rooms here (`push.unread_count: rooms`), as Synapse does by default.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import LiveServer
from tests.synapse import SynapseServer

pytestmark = pytest.mark.synapse

V3 = "/_matrix/client/v3"
NOTIFY = "/_matrix/push/v1/notify"
GATEWAY = "server_name: gateway.test\n"
PREFIX = "rs"  # localparts no other Synapse test uses
MOCK = f"""
server_name: localhost
push: {{unread_count: rooms}}
users:
  - id: {PREFIX}alice
    devices: [{{id: A, access_token: alice}}]
  - id: {PREFIX}bob
    devices: [{{id: B, access_token: bob}}]
  - id: {PREFIX}carol
    devices: [{{id: C, access_token: carol}}]
"""


@dataclass
class Homeserver:
    """One homeserver under test, reached with a logged-in client per user."""

    url: str
    tokens: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def call(self, who: str, method: str, path: str, body: Any = None, **params: str) -> Any:
        with self.client(who) as client:
            r = client.request(method, f"{V3}{path}", json=body, params=params)
        assert r.status_code == 200, f"{method} {path}: {r.text}"
        return r.json()

    def send(self, who: str, room_id: str, content: dict[str, Any]) -> str:
        path = f"/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4()}"
        event_id: str = self.call(who, "PUT", path, content)["event_id"]
        return event_id


def _wait(gateway: LiveServer, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        kept = [entry.notification for entry in gateway.gateway.notifications()]
        if len(kept) >= count or time.monotonic() > deadline:
            assert len(kept) == count, json.dumps(kept, indent=1)
            return kept
        time.sleep(0.05)


def _run(hs: Homeserver, gateway: LiveServer) -> list[dict[str, Any]]:
    """The sequence: bob's pusher and keyword rule, a group room and a two-member room, messages that do and do
    not notify, read receipts. Each step waits for its push, so that counts are taken at the same moments."""
    bob_id = f"@{PREFIX}bob:localhost"
    pusher = {
        "kind": "http",
        "app_id": "org.example.compare",
        "pushkey": "COMPARE",
        "app_display_name": "Compare",
        "device_display_name": "Phone",
        "lang": "en",
        "data": {"url": gateway.url + NOTIFY},
    }
    hs.call("bob", "POST", "/pushers/set", pusher)
    keyword = {"pattern": "cake", "actions": ["notify", {"set_tweak": "highlight"}]}
    hs.call("bob", "PUT", "/pushrules/global/content/cake", keyword)
    expected = 0

    def step(action: Callable[[], object], pushes: int = 1) -> None:
        nonlocal expected
        action()
        expected += pushes
        _wait(gateway, expected)

    invite = [bob_id, f"@{PREFIX}carol:localhost"]
    group = ""

    def create_group() -> None:
        nonlocal group
        group = hs.call("alice", "POST", "/createRoom", {"invite": invite})["room_id"]

    step(create_group)  # bob's invite
    hs.call("bob", "POST", f"/join/{quote(group)}", {})
    hs.call("carol", "POST", f"/join/{quote(group)}", {})
    pair = ""

    def create_pair() -> None:
        nonlocal pair
        pair = hs.call("alice", "POST", "/createRoom", {"invite": [bob_id], "is_direct": True})["room_id"]

    step(create_pair)
    hs.call("bob", "POST", f"/join/{quote(pair)}", {})
    text = {"msgtype": "m.text"}
    step(lambda: hs.send("alice", group, {**text, "body": "hello all"}))
    hs.send("alice", group, {"msgtype": "m.notice", "body": "a notice: no push"})
    step(lambda: hs.send("alice", group, {**text, "body": "who wants cake?"}))
    step(lambda: hs.send("alice", group, {**text, "body": f"hey {PREFIX}bob"}))
    step(lambda: hs.send("alice", group, {**text, "body": "@room look"}))
    mention = {**text, "body": "you", "m.mentions": {"user_ids": [bob_id]}}
    step(lambda: hs.send("alice", group, mention))
    unmentioned = hs.send("carol", group, {**text, "body": "Bob is not mentioned", "m.mentions": {}})
    last = hs.send("alice", pair, {**text, "body": "just us"})
    expected += 2
    _wait(gateway, expected)
    # Reading lowers the count: a badge-only push each time.
    step(lambda: hs.call("bob", "POST", f"/rooms/{quote(group)}/receipt/m.read/{quote(unmentioned)}", {}))
    step(lambda: hs.call("bob", "POST", f"/rooms/{quote(pair)}/receipt/m.read/{quote(last)}", {}))
    return _wait(gateway, expected)


def _as_spec_says(notification: dict[str, Any]) -> dict[str, Any]:
    """What is compared of one notification, with Synapse's departures from the spec (module docstring) undone."""
    [device] = notification["devices"]
    tweaks = {k: v for k, v in device.get("tweaks", {}).items() if not (k == "highlight" and v is False)}
    content = notification.get("content", {})
    return {
        "type": notification.get("type"),  # None for a badge-only push, `null` or absent
        "sender": notification.get("sender", "").split(":")[0] or None,
        "membership": notification.get("membership"),
        "body": content.get("body", content.get("membership")),
        "prio": notification.get("prio"),
        "tweaks": tweaks,
        "counts": {k: v for k, v in notification.get("counts", {}).items() if v},
        "has_event": bool(notification.get("event_id")),
    }


def test_push_rules_decide_the_same_pushes_as_synapse(
    synapse: SynapseServer, serve_yaml: Callable[[str], LiveServer]
) -> None:
    tokens = {}
    for who in ("alice", "bob", "carol"):
        tokens[who] = synapse.register_user(f"{PREFIX}{who}", "pass").access_token
    from_synapse = _run(Homeserver(synapse.url, tokens), serve_yaml(GATEWAY))
    mock = serve_yaml(MOCK)
    from_mock = _run(Homeserver(mock.url, {who: who for who in tokens}), serve_yaml(GATEWAY))
    synapse_view = [_as_spec_says(n) for n in from_synapse]
    mock_view = [_as_spec_says(n) for n in from_mock]
    assert mock_view == synapse_view, "\n".join(
        f"{'  ' if m == s else '!='} mock {json.dumps(m)}\n   synapse {json.dumps(s)}"
        for m, s in zip(mock_view, synapse_view, strict=False)
    )
    # The mock's own departures, checked rather than normalised away.
    badges = [n for n in from_mock if not n.get("event_id")]
    assert badges and all("type" not in n for n in badges)
    assert badges[-1]["counts"] == {}
    assert all(
        "highlight" not in n["devices"][0].get("tweaks", {}) or n["devices"][0]["tweaks"]["highlight"]
        for n in from_mock
    )
