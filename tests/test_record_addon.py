"""The recorder addon in-process, on mitmproxy's test flows: legs, redaction, options, and a failed write."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from mitmproxy import exceptions, http
from mitmproxy.proxy.mode_specs import ProxyMode

with warnings.catch_warnings():
    # mitmproxy's addons import ldap3 and passlib, which use deprecated pyasn1 and crypt APIs when imported.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import taddons, tflow

import mockmx.record.addon
from mockmx.record import load_recording
from mockmx.record.addon import Recorder
from mockmx.record.writer_process import WriterProcess

CLIENT_MODE = "reverse:http://127.0.0.1:8008@127.0.0.1:18080"
PUSH_MODE = "reverse:http://127.0.0.1:9000@127.0.0.1:18091"
TOKEN = "syt_cmVj_QWxpY2VUb2tlbg_0a1b2c"


def _flow(
    url: str,
    *,
    mode: str = CLIENT_MODE,
    method: str = "GET",
    body: object = None,
    headers: dict[str | bytes, str | bytes] | None = None,
    answer: object = None,
    status: int = 200,
) -> http.HTTPFlow:
    content = json.dumps(body).encode() if body is not None else b""
    all_headers: dict[str | bytes, str | bytes] = {"content-type": "application/json", **(headers or {})}
    request = http.Request.make(method, url, content, all_headers)
    response = None
    if answer is not None:
        response = http.Response.make(status, json.dumps(answer).encode(), {"content-type": "application/json"})
    flow = tflow.tflow(req=request, resp=response or False)
    flow.client_conn.proxy_mode = ProxyMode.parse(mode)
    return flow


def _run(test: Callable[[taddons.context, Recorder], Awaitable[None]]) -> None:
    async def main() -> None:
        recorder = Recorder()
        with taddons.context(recorder) as context:
            await test(context, recorder)

    asyncio.run(main())


def test_flows_are_recorded_per_leg_with_secrets_out(tmp_path: Path) -> None:
    out = tmp_path / "r.yaml"

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE, PUSH_MODE], mockmx_out=str(out))
        login = _flow(
            "http://127.0.0.1:8008/_matrix/client/v3/login",
            method="POST",
            body={"type": "m.login.password", "user": "alice", "password": "alice-Secret-1"},
            answer={"user_id": "@alice:localhost", "access_token": TOKEN, "device_id": "D"},
        )
        whoami = _flow(
            f"http://127.0.0.1:8008/_matrix/client/v3/account/whoami?access_token={TOKEN}",
            answer={"user_id": "@alice:localhost"},
        )
        push = _flow(
            "http://127.0.0.1:9000/_matrix/push/v1/notify",
            mode=PUSH_MODE,
            method="POST",
            body={"notification": {"event_id": "$e", "devices": [{"pushkey": "PK"}]}},
            answer={"rejected": []},
        )
        for flow in (login, whoami, push):
            recorder.request(flow)
            await recorder.response(flow)
        recorder.done()

    _run(test)
    text = out.read_text()
    assert TOKEN not in text and "alice-Secret-1" not in text
    recording = load_recording(out)
    assert recording.upstreams == {"client": "http://127.0.0.1:8008", "push": "http://127.0.0.1:9000"}
    assert recording.secrets == "redacted"
    assert [(flow.id, flow.leg) for flow in recording.flows] == [(1, "client"), (2, "client"), (3, "push")]
    login, whoami, push = recording.flows
    assert login.request.body["password"] == "<password:1>"
    assert login.response is not None and login.response.body["access_token"] == "<token:1>"
    assert whoami.request.query == {"access_token": "<token:1>"}
    assert push.request.body == {"notification": {"event_id": "$e", "devices": [{"pushkey": "PK"}]}}
    assert push.links.events == ["$e"]


def test_keep_secrets_records_them_verbatim(tmp_path: Path) -> None:
    out = tmp_path / "r.yaml"

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE], mockmx_keep_secrets=True, mockmx_out=str(out))
        flow = _flow(
            "http://127.0.0.1:8008/_matrix/client/v3/sync", headers={"Authorization": f"Bearer {TOKEN}"}, answer={}
        )
        await recorder.response(flow)
        recorder.done()

    _run(test)
    recording = load_recording(out)
    assert recording.secrets == "kept"
    assert recording.flows[0].request.header("Authorization") == f"Bearer {TOKEN}"


def test_options_are_checked(tmp_path: Path) -> None:
    async def test(context: taddons.context, recorder: Recorder) -> None:
        with pytest.raises(exceptions.OptionsError, match="not a default secret field: pushkey"):
            context.configure(recorder, mockmx_keep_fields=["pushkey"])
        with pytest.raises(exceptions.OptionsError, match="must not be empty"):
            context.configure(recorder, mockmx_redact_fields=[""])
        with pytest.raises(exceptions.OptionsError, match="cannot write the recording"):
            context.configure(recorder, mockmx_out=str(tmp_path / "no" / "such" / "dir.yaml"))

    _run(test)


def _small_files_writer(limit: int) -> functools.partial[WriterProcess]:
    """WriterProcess whose writer cannot grow a file past `limit` bytes: its writes fail with EFBIG."""
    script = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from mockmx.record.writer_process import main; sys.exit(main())"
    )
    return functools.partial(WriterProcess, command=[sys.executable, "-c", script])


def test_a_failed_write_kills_every_flow_not_on_disk_and_stops_the_recorder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("resource")
    monkeypatch.setattr(mockmx.record.addon, "WriterProcess", _small_files_writer(3000))
    out = tmp_path / "r.yaml"
    first = [_flow(f"http://127.0.0.1:8008/_matrix/client/versions?n={n}", answer={"versions": []}) for n in range(3)]
    burst = [_flow(f"http://127.0.0.1:8008/_matrix/client/versions?m={n}", answer={"versions": []}) for n in range(20)]
    exits: list[str | int | None] = []

    async def answer(recorder: Recorder, flow: http.HTTPFlow) -> None:
        try:
            await recorder.response(flow)
        except SystemExit as exc:
            exits.append(exc.code)

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE], mockmx_out=str(out))
        for flow in first:
            await answer(recorder, flow)
        await asyncio.gather(*(answer(recorder, flow) for flow in burst))  # far more than the file can take
        recorder.done()

    _run(test)
    assert exits and set(exits) == {1}
    killed = [flow for flow in first + burst if flow.error is not None and flow.error.msg == "Connection killed."]
    assert killed and not any(flow in killed for flow in first)
    # Answered if and only if on disk: the failed write was cut back to the last whole flow, all of its group out.
    on_disk = [flow.request.query for flow in load_recording(out).flows]
    assert on_disk == [dict(flow.request.query) for flow in first + burst if flow not in killed]
    assert "mockmx record: cannot write to" in capsys.readouterr().err


def test_flows_answered_together_are_each_on_disk_when_answered(tmp_path: Path) -> None:
    out = tmp_path / "r.yaml"
    sends = [
        _flow(
            f"http://127.0.0.1:8008/_matrix/client/v3/rooms/!r:localhost/send/m.room.message/txn{n}",
            method="PUT",
            body={"msgtype": "m.text", "body": f"message {n}"},
            answer={"event_id": f"$event{n}"},
        )
        for n in range(40)
    ]

    async def answer(recorder: Recorder, flow: http.HTTPFlow) -> set[str]:
        await recorder.response(flow)
        return {recorded.links.txn_id or "" for recorded in load_recording(out).flows}

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE], mockmx_out=str(out))
        on_disk_when_answered = await asyncio.gather(*(answer(recorder, flow) for flow in sends))
        for n, on_disk in enumerate(on_disk_when_answered):
            assert f"txn{n}" in on_disk
        recorder.done()

    _run(test)
    flows = load_recording(out).flows
    assert [flow.id for flow in flows] == list(range(1, 41))  # numbered in the order the flows completed
    assert [flow.links.txn_id for flow in flows] == [f"txn{n}" for n in range(40)]


def test_a_writer_that_dies_stops_the_recorder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dies_when_ready = [sys.executable, "-c", "print('ready')"]
    monkeypatch.setattr(mockmx.record.addon, "WriterProcess", functools.partial(WriterProcess, command=dies_when_ready))
    flow = _flow("http://127.0.0.1:8008/_matrix/client/versions", answer={"versions": []})

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE], mockmx_out=str(tmp_path / "r.yaml"))
        with pytest.raises(SystemExit) as exited:
            await recorder.response(flow)
        assert exited.value.code == 1
        recorder.done()

    _run(test)
    assert flow.error is not None and flow.error.msg == "Connection killed."
    assert "the writer process ended unexpectedly" in capsys.readouterr().err


def test_errors_and_unfinished_requests_are_recorded_once(tmp_path: Path) -> None:
    out = tmp_path / "r.yaml"

    async def test(context: taddons.context, recorder: Recorder) -> None:
        context.configure(recorder, mode=[CLIENT_MODE], mockmx_out=str(out))
        refused = _flow("http://127.0.0.1:8008/_matrix/client/versions")
        refused.error = tflow.terr("Connection refused")
        answered = _flow("http://127.0.0.1:8008/_matrix/client/v3/sync", answer={"next_batch": "s1"})
        polling = _flow("http://127.0.0.1:8008/_matrix/client/v3/sync?since=s1&timeout=30000")
        for flow in (refused, answered, polling):
            recorder.request(flow)
        await recorder.error(refused)
        await recorder.response(answered)
        await recorder.error(answered)  # the client went away after its answer: already on record
        recorder.done()

    _run(test)
    flows = load_recording(out).flows
    assert [(flow.request.path, flow.error) for flow in flows] == [
        ("/_matrix/client/versions", "Connection refused"),
        ("/_matrix/client/v3/sync", None),
        ("/_matrix/client/v3/sync", "unfinished: the recorder stopped before the response"),
    ]
    assert flows[2].links.passed == {"since": 2}
