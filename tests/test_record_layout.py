"""A recording in the recorder's layout is read flow by flow, its response bodies left as text until read: the
same recording as reading the whole document gives, with every problem still placed by line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench.chat_recording import write_chat
from mockmx.record import RecordingError, layout, load_recording_text
from mockmx.record.layout import LazyBody
from mockmx.record.model import Message
from mockmx.record.writer import HEADER_COMMENT, dump_yaml, flow_end
from mockmx.replay import create_replay_app

ROOT = Path(__file__).resolve().parents[1]
HEADER = {"mockmx_recording": 1, "started_at": "2026-01-01T00:00:00.000Z", "upstreams": {"client": "http://hs"}}


def recorded(*responses: dict[str, Any]) -> str:
    """A recording as `mockmx record` writes it, one GET flow per response."""
    text = HEADER_COMMENT + dump_yaml(HEADER) + "flows:\n"
    for number, response in enumerate(responses, 1):
        request = {"method": "GET", "path": f"/_matrix/client/v3/x/{number}", "headers": {"user-agent": "t"}}
        flow = {"id": number, "leg": "client", "at": number / 10, "request": request, "response": response}
        text += dump_yaml([flow]) + flow_end(number)
    return text


def answer(**body: Any) -> dict[str, Any]:
    return {"status": 200, "headers": {"content-type": "application/json"}, **body}


BODIES = recorded(
    answer(body={"user_id": "@a:x", "rooms": {"join": {"!r:x": {"timeline": {"events": [{"type": "m.x"}]}}}}}),
    answer(body=[{"a": 1}, [2, 3], "four"]),
    answer(body={}),
    answer(body="just a string"),
    answer(text="two\nlines\n"),
    answer(base64="AAEC/w=="),
    answer(),
    {"status": 204, "headers": {}},
)


def whole_document(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(layout, "split", lambda text, source: None)
        return load_recording_text(text, "<t>")


@pytest.mark.parametrize("name", ["bodies", "chat", "synapse-session"])
def test_a_recorded_file_loads_as_the_whole_document_does(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name == "bodies":
        text = BODIES
    elif name == "chat":
        text = write_chat(tmp_path / "chat.yaml", 120).read_text()
    else:
        text = (ROOT / "recordings" / f"{name}.yaml").read_text()
    assert layout.split(text, "<t>") is not None
    assert load_recording_text(text, "<t>") == whole_document(text, monkeypatch)


def test_response_bodies_stay_text_until_read() -> None:
    flow = load_recording_text(BODIES).flows[0]
    assert flow.response is not None
    assert isinstance(flow.response.__dict__["_body"], LazyBody)
    body = flow.response.body
    assert body["user_id"] == "@a:x"
    assert flow.response.body is body  # built once


@pytest.mark.parametrize(("key", "expected"), [("user_id", True), ("rooms", True), ("join", False), ("type", False)])
def test_a_body_may_have_a_key_without_being_built(key: str, expected: bool) -> None:
    response = load_recording_text(BODIES).flows[0].response
    assert isinstance(response, Message)
    assert response.may_have_key(key) is expected
    assert isinstance(response.__dict__["_body"], LazyBody)


def test_a_broken_body_is_placed_by_its_line_when_read() -> None:
    text = BODIES.replace("- type: m.x\n", "- type: [m.x\n")
    with pytest.raises(yaml.MarkedYAMLError) as whole:
        yaml.safe_load(text)
    assert whole.value.problem_mark is not None
    recording = load_recording_text(text, "<t>")
    with pytest.raises(RecordingError) as raised:
        _ = recording.flows[0].response.body  # type: ignore[union-attr]
    (problem,) = raised.value.problems
    broken = text.count("\n", 0, text.index("[m.x")) + 1
    # Between the broken line and where libyaml, reading the whole file, gives up: the end of the body here.
    assert broken <= problem.line <= whole.value.problem_mark.line + 1, str(raised.value)
    assert "YAML syntax error" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("  leg: client\n", "  leg: server\n", "flows[99].leg: 'server' is not one of"),
        ("    method: GET\n", "    method: [GET\n", "YAML syntax error"),
    ],
)
def test_a_problem_in_a_late_flow_names_its_line(old: str, new: str, problem: str, tmp_path: Path) -> None:
    text = write_chat(tmp_path / "chat.yaml", 120).read_text()
    flow_100 = text.index("- id: 100\n")
    at = text.index(old, flow_100)
    text = text[:at] + new + text[at + len(old) :]
    line = text.count("\n", 0, at) + 1
    with pytest.raises(RecordingError) as raised:
        load_recording_text(text, "<t>")
    assert str(raised.value).startswith(f"<t>:{line}:") or str(raised.value).startswith(f"<t>:{line + 1}:")
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        HEADER_COMMENT + "flows:\n- id: 1\nsecrets: kept\n",  # a key after the flows
        HEADER_COMMENT + "flows:\n- &a {id: 1}\n- *a\n",  # an alias
        HEADER_COMMENT + "flows:\n---\n",  # a second document
        "flows: []\n",  # no flow items
        HEADER_COMMENT + "flows:\r\n- id: 1\r\n",  # carriage returns: the cut reads lines by line feeds
    ],
)
def test_a_file_laid_out_otherwise_is_read_whole(text: str) -> None:
    cut = layout.split(text, "<t>")
    assert cut is None or not cut[1]


def test_a_replay_answers_a_broken_body_with_where_it_is_broken() -> None:
    text = recorded(answer(body={"a": {"b": [1, 2]}})).replace("      - 1\n", "      - [1\n")
    app = create_replay_app(load_recording_text(text, "broken.yaml"))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://replay") as client:
            return await client.get("/_matrix/client/v3/x/1")

    r = asyncio.run(get())
    assert r.status_code == 500, r.text
    assert r.json()["errcode"] == "M_UNKNOWN"
    assert "the recording cannot answer this request: broken.yaml:" in r.json()["error"], r.text
    assert "YAML syntax error" in r.json()["error"], r.text
