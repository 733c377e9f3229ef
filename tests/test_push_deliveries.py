"""Pushes never stall: a push no gateway takes is given up on after `push.max_attempts` and the next one goes; a
pusher's backlog is bounded; both are counted and listed by `GET /_mockmx/pushes`."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import httpx
import pytest

from tests.conftest import LiveServer

SCENARIO = """
server_name: localhost
push: {{backoff: 0.01s, max_backoff: 0.02s, max_attempts: 3{extra}}}
users:
  - id: alice
    devices: [{{id: A, access_token: alice-token}}]
  - id: bob
    devices: [{{id: B, access_token: bob-token}}]
    pushers:
      - {{app_id: org.example, pushkey: BOBKEY, url: "{url}"}}
rooms:
  - {{id: "!room:localhost", members: [alice, bob]}}
"""


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A gateway that refuses (500) every push whose message says "poison", and takes the rest."""

    taken: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["notification"].get("content", {}).get("body", "")
        if text == "poison":
            self.send_response(500)
            self.end_headers()
            return
        type(self).taken.append(text)
        answer = b'{"rejected":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[str]]]:
    handler = type("Gateway", (_Gateway,), {"taken": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/_matrix/push/v1/notify", handler.taken
    finally:
        server.shutdown()
        server.server_close()


def _send(live: LiveServer, body: str, txn: str) -> None:
    with live.client("alice-token") as alice:
        r = alice.put(f"/_matrix/client/v3/rooms/!room:localhost/send/m.room.message/{txn}", json={"body": body})
    assert r.status_code == 200, r.text


def _pushes_once(live: LiveServer, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        r = httpx.get(live.url + "/_mockmx/pushes")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.01)


def test_a_push_no_gateway_takes_is_given_up_on_and_the_next_one_goes(
    serve_yaml: Callable[[str], LiveServer], gateway: tuple[str, list[str]]
) -> None:
    url, taken = gateway
    live = serve_yaml(SCENARIO.format(url=url, extra=""))
    _send(live, "poison", "t1")
    _send(live, "after", "t2")
    body = _pushes_once(live, lambda body: body["totals"]["sent"] == 1 and body["totals"]["failed"] == 1)
    assert taken == ["after"]
    assert body["totals"] == {"sent": 1, "failed": 1, "dropped": 0, "attempts_failed": 3}
    [failed] = body["failed"]
    assert failed["pushkey"] == "BOBKEY" and failed["user_id"] == "@bob:localhost", failed
    assert failed["attempts"] == 3 and failed["error"].startswith("500"), failed
    [pusher] = body["pushers"]
    assert pusher["queued"] == 0 and pusher["failed"] == 1, pusher


def test_a_full_backlog_drops_its_oldest_push_and_counts_it(serve_yaml: Callable[[str], LiveServer]) -> None:
    # A gateway that is never there, and a long wait before the retry: the backlog fills behind the first push.
    scenario = SCENARIO.replace("backoff: 0.01s, max_backoff: 0.02s", "backoff: 30s, max_backoff: 30s")
    live = serve_yaml(scenario.format(url="http://127.0.0.1:9/_matrix/push/v1/notify", extra=", max_backlog: 2"))
    for index in range(6):
        _send(live, f"m{index}", f"t{index}")
    body = _pushes_once(live, lambda body: body["totals"]["dropped"] >= 3)
    [pusher] = body["pushers"]
    # One push waits for its retry; of the five behind it, the backlog keeps the last two.
    assert pusher["queued"] == 2 and pusher["dropped"] == 3, pusher


def test_the_scenario_checks_the_new_push_settings(serve_yaml: Callable[[str], LiveServer]) -> None:
    from mockmx.problems import ScenarioError
    from mockmx.scenario.loader import load_scenario_text

    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("server_name: localhost\npush: {max_attempts: 0}\n", "p.yaml")
    assert "p.yaml:2:" in str(caught.value) and "max_attempts" in str(caught.value), caught.value
