"""The JavaScript SDKs against the mock: matrix-js-sdk's client flow and matrix-bot-sdk's bot flow, run by Node.js 22
from tests/js (installed there by `python3 dev.py test`), with nothing but the SDKs' own API."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mockmx.scenario.loader import default_scenario, load_scenario_text
from tests.conftest import ALICE, ALICE_TOKEN, BOB, LOBBY
from tests.sdk_outcomes import observed_mock

JS = Path(__file__).resolve().parent / "js"
NODE = JS / "node_modules" / ".bin" / ("node.cmd" if os.name == "nt" else "node")
SCRIPT_TIMEOUT = 120  # seconds; each script also stops itself, naming its step, before this

# Requests a gap may be allowed for: none (matrix-js-sdk's MSC4143 probe for RTC transports gets an empty list).
JS_SDK_PROBES: list[tuple[str, str, int]] = []

BOT_SCENARIO = """
mockmx: 1
server_name: localhost
users:
  - id: alice
    password: alice-pass
    devices: [{id: ALICEDEV, access_token: alice-token}]
  - id: echobot
    display_name: Echo bot
    devices: [{id: ECHOBOT, access_token: echobot-token}]
"""


def run_node(script: str, *args: str) -> dict[str, Any]:
    """Run tests/js/`script` with the pinned Node.js; its JSON result, or a failure with the script's own account."""
    __tracebackhide__ = True
    if not NODE.exists():
        pytest.fail(
            f"no Node.js 22 at {NODE}: `python3 dev.py test` installs it (or `npm ci --ignore-scripts` in {JS})"
        )
    try:
        done = subprocess.run(
            [str(NODE), script, *args], cwd=JS, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as timeout:
        stderr = timeout.stderr.decode() if isinstance(timeout.stderr, bytes) else timeout.stderr or ""
        pytest.fail(f"{script} ran over {SCRIPT_TIMEOUT} s; its stderr ends:\n{stderr[-4000:]}")
    if done.returncode != 0:
        pytest.fail(f"{script} exited {done.returncode}; its stderr ends:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.timeout(SCRIPT_TIMEOUT + 30)
def test_matrix_js_sdk_client_flow() -> None:
    with observed_mock(default_scenario()) as (mock, log), log.blamed(allowed=JS_SDK_PROBES):
        seen = run_node("client_flow.mjs", mock.url)
    log.assert_no_gaps(allowed=JS_SDK_PROBES)

    assert seen["login"]["alice"] == ALICE
    assert seen["login"]["bob"] == BOB
    assert seen["login"]["alice_device"] != seen["login"]["bob_device"]
    assert LOBBY in seen["prepared"]["alice_rooms"]
    assert seen["prepared"]["bob_lobby_name"] == "Lobby"

    message = seen["message"]
    assert message["bob_saw"] == {"event_id": message["sent"], "sender": ALICE, "body": "hello bob"}

    everyone = [[ALICE, "Alice"], [BOB, "Bob"]]
    assert seen["members"] == {"loaded": everyone, "joined": everyone}

    history = [f"history {n}" for n in range(1, 13)]
    assert "history 1" not in seen["scrollback"]["before"], seen["scrollback"]
    after = seen["scrollback"]["after"]
    assert after[-len(history) :] == history, after
    assert after[: -len(history)][-1] == "hello bob", after

    assert seen["typing"] == {"started": True, "stopped": True}

    assert seen["receipt"]["alice_sees_bob_read_up_to"] == message["sent"]
    assert BOB in seen["receipt"]["readers"]

    assert seen["state"] == {
        "bob_sees_name": "Lobby (js)",
        "bob_sees_topic": "Topic from js-sdk",
        "fetched_topic": "Topic from js-sdk",
        "fetched_name": "Lobby (js)",
    }
    assert seen["profile"] == {"bob_sees_member_name": "Alice Liddell", "fetched": "Alice Liddell"}
    assert seen["membership"] == {
        "bob_after_leave": "leave",
        "bob_after_rejoin": "join",
        "alice_sees_bob": "join",
        "bob_got_message_after_rejoin": True,
    }

    media = seen["media"]
    assert media["content_uri"].startswith("mxc://localhost/"), media
    assert media["download_path"].startswith("/_matrix/client/v1/media/download/localhost/"), media
    assert (media["status"], media["body"]) == (200, "hello media"), media
    assert media["content_type"].startswith("text/plain"), media


@pytest.mark.timeout(SCRIPT_TIMEOUT + 30)
def test_matrix_bot_sdk_echo_bot_autojoins_and_replies(tmp_path: Path) -> None:
    scenario = load_scenario_text(BOT_SCENARIO, "<bot scenario>")
    with observed_mock(scenario) as (mock, log), log.blamed():
        seen = run_node("bot_flow.mjs", mock.url, "echobot-token", ALICE_TOKEN, str(tmp_path))
        room_id = seen["joined"]["room_id"]
        stored = mock.room_events(room_id, type="m.room.message")
    log.assert_no_gaps()

    assert seen["users"] == {"bot": "@echobot:localhost", "alice": ALICE}
    assert room_id in seen["joined"]["bot_rooms"]
    echo = seen["echo"]
    assert echo["reply"]["msgtype"] == "m.notice"
    assert echo["reply"]["body"].endswith("hi"), echo  # a reply may quote the question first (fallback)
    assert echo["reply"]["in_reply_to"] == echo["asked"]
    assert echo["bot_sent"] == [echo["reply"]["event_id"]]
    assert [(e["sender"], e["content"]["msgtype"]) for e in stored] == [
        (ALICE, "m.text"),
        ("@echobot:localhost", "m.notice"),
    ]
