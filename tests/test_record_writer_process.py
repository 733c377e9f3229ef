"""The writer process: flows reach it whole, in order, however large, and it says why when it cannot write."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from mitmproxy import http

with warnings.catch_warnings():
    # mitmproxy's addons import ldap3 and passlib, which use deprecated pyasn1 and crypt APIs when imported.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow

from mockmx.record import Leg, load_recording
from mockmx.record.capture import capture
from mockmx.record.links import Linker
from mockmx.record.redact import DEFAULT_FIELDS, Redactor
from mockmx.record.writer_process import Setup, Snapshot, WriterProcess

HEADER = {
    "mockmx_recording": 1,
    "started_at": "2025-01-01T00:00:00.000Z",
    "upstreams": {"client": "http://127.0.0.1:8008"},
    "secrets": "redacted",
}
STARTED = time.time()


def _setup(path: Path) -> Setup:
    return Setup(str(path), HEADER, STARTED, dict(DEFAULT_FIELDS))


def _flow(url: str, *, answer: bytes) -> http.HTTPFlow:
    headers: dict[str | bytes, str | bytes] = {"authorization": "Bearer syt_secret_token_1"}
    request = http.Request.make("GET", url, b"", headers)
    response = http.Response.make(200, answer, {"content-type": "application/json"})
    return tflow.tflow(req=request, resp=response)


def _write(path: Path, flows: list[http.HTTPFlow], *, unfinished: list[http.HTTPFlow] | None = None) -> None:
    async def main() -> None:
        writer = WriterProcess(_setup(path))
        snapshots = [Snapshot.of(flow, flow_id=n, leg=Leg.CLIENT) for n, flow in enumerate(flows, start=1)]
        await asyncio.gather(*(writer.append(snapshot) for snapshot in snapshots))
        last = [
            Snapshot.of(flow, flow_id=n, leg=Leg.CLIENT, error="unfinished")
            for n, flow in enumerate(unfinished or [], start=len(flows) + 1)
        ]
        writer.finish(last)

    asyncio.run(main())


def test_a_flow_is_recorded_as_the_recorder_captured_it(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    body = json.dumps({"next_batch": "s1", "rooms": {}}).encode()
    flow = _flow("http://127.0.0.1:8008/_matrix/client/v3/sync?since=s0", answer=gzip.compress(body))
    flow.response.headers["content-encoding"] = "gzip"  # type: ignore[union-attr]
    expected: dict[str, Any] = Redactor().redact(capture(flow, flow_id=1, leg=Leg.CLIENT, started=STARTED))
    expected["links"] = Linker().links(expected)

    _write(path, [flow])

    (recorded,) = yaml.safe_load(path.read_text())["flows"]
    assert recorded == expected
    assert recorded["request"]["headers"]["authorization"] == "Bearer <token:1>"
    assert recorded["response"]["body"] == {"next_batch": "s1", "rooms": {}}  # decoded, as the client read it


def test_flows_larger_than_a_pipe_holds_get_through_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    large = json.dumps({"chunk": ["x" * 1000] * 3000}).encode()  # 3 MB: many times a pipe's buffer
    url = "http://127.0.0.1:8008/_matrix/client/v3/x?n={}"
    flows = [_flow(url.format(n), answer=large if n % 2 else b"{}") for n in range(6)]

    _write(path, flows, unfinished=[_flow("http://127.0.0.1:8008/_matrix/client/v3/y", answer=b"{}")])

    recording = load_recording(path)
    assert [flow.id for flow in recording.flows] == [1, 2, 3, 4, 5, 6, 7]
    assert [flow.request.query for flow in recording.flows[:6]] == [{"n": str(n)} for n in range(6)]
    assert recording.flows[1].response is not None and len(recording.flows[1].response.body["chunk"]) == 3000
    assert recording.flows[6].error == "unfinished"


def test_a_writer_that_cannot_write_the_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir.yaml"
    with pytest.raises(RuntimeError, match=f"cannot write the recording {path}: .*No such file"):
        WriterProcess(_setup(path))
