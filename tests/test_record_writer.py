"""The recording file is valid YAML after every flow, keeps every body as it was, and survives a failed write."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mockmx.record import load_recording, load_recording_text
from mockmx.record.writer import RecordingWriter, dump_yaml

HEADER = {
    "mockmx_recording": 1,
    "started_at": "2025-01-01T00:00:00.000Z",
    "upstreams": {"client": "http://127.0.0.1:8008"},
}


def _flow(flow_id: int, **request: Any) -> dict[str, Any]:
    return {
        "id": flow_id,
        "leg": "client",
        "at": 0.5 * flow_id,
        "took": 0.01,
        "request": {"method": "GET", "path": "/_matrix/client/versions", "headers": {}, **request},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"versions": ["v1.11"]}},
    }


def test_an_empty_recording_loads(tmp_path: Path) -> None:
    RecordingWriter(tmp_path / "r.yaml", HEADER).close()
    recording = load_recording(tmp_path / "r.yaml")
    assert recording.flows == []
    assert recording.upstreams == {"client": "http://127.0.0.1:8008"}


def test_the_file_cut_after_any_flow_loads_with_every_flow_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    writer = RecordingWriter(path, HEADER)
    sizes = [path.stat().st_size]
    for flow_id in range(1, 6):
        writer.append(_flow(flow_id, query={"n": str(flow_id)}))
        sizes.append(path.stat().st_size)
    writer.close()
    text = path.read_bytes()
    for count, size in enumerate(sizes):
        recording = load_recording_text(text[:size].decode(), "cut")
        assert [flow.id for flow in recording.flows] == list(range(1, count + 1))


def test_a_flow_torn_anywhere_by_a_kill_is_left_out_and_the_rest_loads(tmp_path: Path) -> None:
    # Linux can cut a write short when the writer is killed in the middle of it (between pages).
    path = tmp_path / "r.yaml"
    writer = RecordingWriter(path, HEADER)
    writer.append(_flow(1))
    before = path.stat().st_size
    writer.append(_flow(2, body={"text": "a long body " * 20, "n": 1.5}))
    writer.close()
    text = path.read_bytes().decode()
    for cut in range(before + 1, len(text)):
        recording = load_recording_text(text[:cut], "torn")
        assert [flow.id for flow in recording.flows] == [1], cut
        assert recording.torn_tail == text.count("\n", 0, before) + 1
    assert load_recording_text(text).torn_tail is None
    first_torn = text[: text.index("- id: 1")] + "- id: 1\n  leg: cli"
    assert load_recording_text(first_torn).flows == []


def test_keys_keep_their_order_and_long_lines_stay_whole(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    long_value = "x" * 500
    with_body = _flow(1, body={"zebra": 1, "apple": long_value, "multi": "line one\nline two\n"})
    writer = RecordingWriter(path, HEADER)
    writer.append(with_body)
    writer.close()
    text = path.read_text()
    assert text.index("zebra") < text.index("apple")
    assert f"apple: {long_value}\n" in text
    assert "multi: |\n        line one\n        line two\n" in text
    assert load_recording(path).flows[0].request.body == with_body["request"]["body"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(body=_json, text=st.text())
def test_any_json_body_and_any_text_round_trips(body: Any, text: str) -> None:
    data = [{"body": body, "text": text}]
    assert yaml.safe_load(dump_yaml(data)) == data


def test_a_failed_write_is_cut_back_to_the_last_whole_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.yaml"
    writer = RecordingWriter(path, HEADER)
    writer.append(_flow(1))
    real_write = os.write

    def half_then_full_disk(fd: int, data: bytes | memoryview) -> int:
        if len(data) > 20:
            real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        writer.append(_flow(2))
    monkeypatch.undo()
    assert [flow.id for flow in load_recording(path).flows] == [1]
    writer.append(_flow(2))  # what comes next lands at the cut, not after a hole
    writer.close()
    assert [flow.id for flow in load_recording(path).flows] == [1, 2]


def test_flows_written_together_are_cut_back_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.yaml"
    writer = RecordingWriter(path, HEADER)
    writer.append(_flow(1))
    real_write = os.write

    def most_then_full_disk(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[: len(data) * 3 // 4]))  # past the end of flow 2, into flow 3
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", most_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        writer.append_many([_flow(2), _flow(3)])
    monkeypatch.undo()
    cut_back = load_recording(path)
    assert [flow.id for flow in cut_back.flows] == [1] and cut_back.torn_tail is None  # flow 2 went with flow 3
    writer.append_many([_flow(2), _flow(3)])
    writer.close()
    text = path.read_text()
    assert text.index("# end of flow 2\n") < text.index("- id: 3") < text.index("# end of flow 3\n")
    assert [flow.id for flow in load_recording(path).flows] == [1, 2, 3]


def test_the_file_is_overwritten_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("old contents\n" * 100)
    RecordingWriter(path, HEADER).close()
    assert "old contents" not in path.read_text()
