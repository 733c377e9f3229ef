"""Loading recordings: every committed one loads, and a broken one says what is wrong and where."""

from __future__ import annotations

import contextlib
import gc
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockmx.record import RecordingError, load_recording, load_recording_text
from mockmx.record.fastyaml import Loader, load_yaml

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


# The same flow twice: written out, and through an anchor with a merge key, which only PyYAML's constructor builds.
SPELLED_OUT = HEADER + FLOW + FLOW.replace("id: 1", "id: 2").replace("at: 0.1", "at: 0.2")
THROUGH_ALIASES = HEADER + FLOW.replace("- id: 1\n", "- &first\n  id: 1\n") + "- <<: *first\n  id: 2\n  at: 0.2\n"


def test_a_recording_built_by_pyyamls_constructor_is_the_one_built_fast() -> None:
    assert load_recording_text(THROUGH_ALIASES) == load_recording_text(SPELLED_OUT)


@pytest.mark.parametrize("text", [*(path.read_text("utf-8") for path in RECORDINGS), SPELLED_OUT, THROUGH_ALIASES])
def test_recordings_load_into_the_data_pyyaml_gives(text: str) -> None:
    assert load_yaml(text) == yaml.load(text, Loader=Loader)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a: yes\nb: No\nc: on\nd: off\ne: ~\nf:\ng: 'true'\n",
        "a: 0o17\nb: 017\nc: 0x1F\nd: 1_000\ne: 1:30\nf: 1.5e3\ng: 1.5\nh: -.inf\ni: 1:30.5\n",
        "a: 2025-01-01T00:00:00Z\nb: 2025-01-01\nc: '2025-01-01T00:00:00Z'\n",
        "a: |\n  two\n  lines\nb: >\n  folded\n  text\nc: 'h\u00e9llo \u2713'\nd: \"\\u00e9\\n\"\n",
        "1: a\n2.5: b\ntrue: c\n~: d\nk: 1\nk: 2\n",
        "a: &x {k: [v]}\nb: *x\n",
        "a: !!str 12\nb: !!int '12'\nc: !!binary AAEC\nd: !!set {x}\ne: !!omap [x: 1]\n",
        "? [1, 2]\n: x\n",
    ],
    ids=["empty", "booleans", "numbers", "timestamps", "strings", "keys", "alias", "tags", "unhashable"],
)
def test_yaml_loads_as_pyyaml_loads_it(text: str) -> None:
    def outcome(load: Any) -> Any:
        try:
            return load(text)
        except yaml.YAMLError as exc:
            return str(exc)

    assert repr(outcome(load_yaml)) == repr(outcome(lambda text: yaml.load(text, Loader=Loader)))  # 1 is not True


def test_yaml_nested_deeper_than_python_recurses_loads() -> None:
    data = load_yaml("[" * 2000 + "]" * 2000)
    for _ in range(1999):
        (data,) = data
    assert data == []


def test_an_alias_is_the_very_object_it_names() -> None:
    data = load_yaml("a: &x {k: v}\nb: *x\n")
    assert data["a"] is data["b"]


def test_special_floats_load() -> None:
    data = load_yaml("a: .nan\nb: .Inf\n")
    assert math.isnan(data["a"]) and data["b"] == math.inf


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SPELLED_OUT.replace("at: 0.2", "at: -1"), "<t>:21:7: flows[1].at: -1 is less than the minimum of 0"),
        (THROUGH_ALIASES.replace("id: 2", "id: 3"), "<t>:21:7: flows[1].id: expected id 2 (ids count up from 1)"),
        (THROUGH_ALIASES.replace("  at: 0.2", "  at: x"), "<t>:22:7: flows[1].at: 'x' is not of type 'number'"),
    ],
)
def test_problems_in_a_later_flow_name_its_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(RecordingError) as raised:
        load_recording_text(text, "<t>")
    assert str(raised.value).startswith(expected), str(raised.value)


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("text", [HEADER + FLOW, HEADER + FLOW + "- id: [\n"])
def test_loading_leaves_the_garbage_collector_as_it_found_it(enabled: bool, text: str) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        with contextlib.suppress(RecordingError):
            load_recording_text(text)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_an_alias_bomb_is_refused_at_its_line_before_anything_expands() -> None:
    lines = ["mockmx_recording: 1", "started_at: '2025-06-01T09:30:00.000Z'", "upstreams: {client: 'http://h'}"]
    lines.append("bomb: &a0 [x, x, x, x, x, x, x, x, x, x]")
    for level in range(1, 10):  # nine levels of ten aliases each: 10**10 strings once expanded
        lines.append(f"b{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append("flows: []")
    with pytest.raises(RecordingError) as caught:
        load_recording_text("\n".join(lines) + "\n", "bomb.yaml")
    [problem] = caught.value.problems
    assert (problem.source, problem.line) == ("bomb.yaml", 5)
    assert "more than 8 YAML aliases: mockmx record writes none" in problem.message


def test_a_few_aliases_are_a_hand_edited_file_s_right() -> None:
    recording = load_recording_text(
        "mockmx_recording: 1\nstarted_at: '2025-06-01T09:30:00.000Z'\nupstreams: {client: &u 'http://h', push: *u}\n"
        "flows: []\n",
        "few.yaml",
    )
    assert recording.upstreams == {"client": "http://h", "push": "http://h"}


def test_bytes_that_are_not_utf_8_are_reported_at_their_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"mockmx_recording: 1\nstarted_at: 'x'\nupstreams: {client: 'caf\xe9'}\nflows: []\n")
    with pytest.raises(RecordingError) as caught:
        load_recording(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (3, 25)
    assert problem.message.startswith("not UTF-8 text")
