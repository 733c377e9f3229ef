"""The direct lane (mockmx/control/lane.py) answers as the layers do: the same requests sent both ways, over the wire.

A browser's `Origin` header sends a request through the layers (CORS, the control middleware, Starlette's router);
without it, the same request takes the lane. Everything but the CORS headers must come out the same, in the
answer and in the request journal.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.responses import Response

from mockmx.hosting import hosted_as
from mockmx.web.json_answer import JsonBytes
from mockmx.world import Mock
from tests.conftest import ALICE, ALICE_TOKEN, LiveServer

CS = "/_matrix/client/v3"
LAYERS = {"Origin": "http://app.example"}  # makes a request a browser's: it goes through the layers
AUTH = {"Authorization": f"Bearer {ALICE_TOKEN}"}

# (method, path, body, headers): answers that do not change from one request to the next.
REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("GET", f"{CS}/account/whoami", None, AUTH),
    ("GET", f"{CS}/account/whoami", None, {"Authorization": "Bearer nope"}),
    ("GET", f"{CS}/account/whoami", None, {}),
    ("GET", f"{CS}/rooms/%21lobby%3Alocalhost/state/m.room.create/", None, AUTH),
    ("GET", f"{CS}/rooms/%21lobby%3Alocalhost/state/m.room.create", None, AUTH),
    ("GET", f"{CS}/directory/room/%23no%2Fsuch%3Alocalhost", None, AUTH),
    ("GET", f"{CS}/profile/%40alice%3Alocalhost/displayname", None, {}),
    ("PUT", f"{CS}/rooms/%21lobby%3Alocalhost/send/m.room.message/lane-bad", b"{not json", AUTH),
    ("PUT", f"{CS}/rooms/%21lobby%3Alocalhost/send/m.room.message/lane-list", b"[]", AUTH),
    ("PUT", f"{CS}/rooms/%21nowhere%3Alocalhost/send/m.room.message/lane-x", b"{}", AUTH),
    ("GET", f"{CS}/no/such/endpoint", None, AUTH),
    ("DELETE", f"{CS}/account/whoami", None, AUTH),
    ("GET", "/_matrix/client/versions", None, {}),
    ("POST", "/_matrix/push/v1/notify", b'{"notification": 5}', {}),
]


def answer(mock: LiveServer, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.request(method, mock.url + path, content=body, headers=headers, timeout=10)


def last_entry(mock: LiveServer, method: str | None = None) -> dict[str, Any]:
    r = httpx.get(mock.url + "/_mockmx/requests", params={"method": method} if method else {}, timeout=10)
    assert r.status_code == 200, r.text
    entry: dict[str, Any] = r.json()["requests"][-1]
    for varying in ("id", "time", "duration_ms"):
        entry.pop(varying)
    return entry


@pytest.mark.parametrize(("method", "path", "body", "headers"), REQUESTS)
def test_the_lane_answers_and_journals_as_the_layers_do(
    shared: LiveServer, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    direct = answer(shared, method, path, body, headers)
    direct_entry = last_entry(shared)
    layered = answer(shared, method, path, body, {**headers, **LAYERS})
    layered_entry = last_entry(shared)
    assert (direct.status_code, direct.content) == (layered.status_code, layered.content), direct.text
    assert direct.headers["content-type"] == layered.headers["content-type"]
    assert direct.headers.get("allow") == layered.headers.get("allow")
    assert "access-control-allow-origin" not in direct.headers
    assert layered.headers["access-control-allow-origin"] == "*"
    assert direct_entry == layered_entry


def test_a_send_on_the_lane_is_journaled_with_its_bodies_and_sender(mock: LiveServer) -> None:
    path = f"{CS}/rooms/%21lobby%3Alocalhost/send/m.room.message/lane-1"
    r = answer(mock, "PUT", path, b'{"msgtype": "m.text", "body": "hi"}', AUTH)
    assert r.status_code == 200, r.text
    entry = last_entry(mock, "PUT")  # the send, not the push it made to the mock's own gateway
    assert entry["path"] == "/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/lane-1"
    assert entry["route"] == "/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{txn_id}"
    assert (entry["status"], entry["user_id"]) == (200, ALICE)
    assert entry["request_body"] == {"msgtype": "m.text", "body": "hi"}
    assert entry["response_body"] == r.json()


def test_a_bug_on_the_lane_is_a_500_matrix_error_and_the_mock_serves_on(
    mock: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    homeserver = hosted_as(mock.app, Mock).world.homeserver

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(homeserver, "send_message", broken)
    for txn, extra in (("lane-bug-1", {}), ("lane-bug-2", LAYERS)):
        path = f"{CS}/rooms/%21lobby%3Alocalhost/send/m.room.message/{txn}"
        r = answer(mock, "PUT", path, b"{}", {**AUTH, **extra})
        assert r.status_code == 500, r.text
        assert r.json() == {"errcode": "M_UNKNOWN", "error": "Internal server error"}
        entry = last_entry(mock, "PUT")
        assert (entry["status"], entry["user_id"]) == (500, ALICE)
    monkeypatch.undo()
    r = answer(mock, "GET", f"{CS}/account/whoami", None, AUTH)
    assert r.status_code == 200, r.text


def test_json_bytes_has_the_headers_starlette_would_give_it() -> None:
    # JsonBytes makes its headers itself; they must be those Starlette's Response works out for the same body.
    for body, status in ((b'{"event_id":"$x"}', 200), (b"{}", 200), (b'{"errcode":"M_FORBIDDEN"}', 403)):
        ours = JsonBytes(body, status)
        theirs = Response(body, status_code=status, media_type="application/json")
        assert (ours.status_code, ours.body, ours.raw_headers, ours.media_type, ours.background) == (
            theirs.status_code,
            theirs.body,
            theirs.raw_headers,
            theirs.media_type,
            theirs.background,
        )
