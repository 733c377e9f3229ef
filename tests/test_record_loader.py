"""Loading recordings: every committed one loads, and a broken one says what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockmx.record import RecordingError, load_recording, load_recording_text

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = sorted((ROOT / "recordings").glob("*.yaml"))

HEADER = """\
mockmx_recording: 1
started_at: '2025-01-01T00:00:00.000Z'
upstreams: {client: 'http://127.0.0.1:8008'}
flows:
"""
FLOW = """\
- id: 1
  leg: client
  at: 0.1
  took: 0.01
  request:
    method: PUT
    path: /_matrix/client/v3/sendToDevice/m.x/t1
    headers: {authorization: Bearer <token:1>, content-type: application/json}
    body: {messages: {}}
  response:
    status: 200
    headers: {content-type: application/json}
    body: {}
  links: {txn_id: t1}
"""


def test_there_is_a_committed_recording() -> None:
    assert RECORDINGS, "recordings/ holds no example recording"


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.name)
def test_every_committed_recording_loads(path: Path) -> None:
    recording = load_recording(path)
    assert recording.flows
    assert recording.secrets == "redacted"


def test_a_flow_loads_into_the_model() -> None:
    (flow,) = load_recording_text(HEADER + FLOW).flows
    assert flow.leg == "client" and flow.links.txn_id == "t1"
    assert flow.request.header("Authorization") == "Bearer <token:1>"
    assert flow.request.content() == b'{"messages":{}}'
    assert flow.response is not None and flow.response.content() == b"{}"


def test_text_and_binary_bodies_come_back_as_bytes() -> None:
    text = HEADER + FLOW.replace("body: {messages: {}}", "text: 'not json'").replace("body: {}", "base64: AAEC/w==")
    (flow,) = load_recording_text(text).flows
    assert flow.request.content() == b"not json"
    assert flow.response is not None and flow.response.content() == b"\x00\x01\x02\xff"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER.replace("mockmx_recording: 1", "mockmx_recording: 2") + FLOW, "<t>:1:19: mockmx_recording: expected 1"),
        (HEADER + FLOW.replace("leg: client", "leg: server"), "<t>:6:8: flows[0].leg: 'server' is not one of"),
        (HEADER + FLOW.replace("id: 1", "id: 3"), "<t>:5:7: flows[0].id: expected id 1 (ids count up from 1)"),
        (HEADER + FLOW.split("  response:")[0], "<t>:5:3: flows[0]: missing one of 'response', 'error'"),
        (HEADER + FLOW.replace("path: /_matrix", "path: _matrix"), "<t>:11:11: flows[0].request.path: '_matrix/"),
        (
            HEADER + FLOW.replace("body: {}", "body: {}\n    text: x"),
            "<t>:15:5: flows[0].response: a body is one of 'body', 'text' or 'base64', not several",
        ),
        (HEADER + FLOW + "- id: [\n", "<t>:20:1: YAML syntax error"),
        ("", "<t>:1:1: None is not of type 'object'"),
    ],
)
def test_problems_name_the_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(RecordingError) as raised:
        load_recording_text(text, "<t>")
    assert str(raised.value).startswith(expected), str(raised.value)


def test_a_missing_file_is_a_problem_too(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nope\.yaml:1:1: cannot read the file"):
        load_recording(tmp_path / "nope.yaml")
