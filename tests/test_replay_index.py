"""Lookup cost does not grow with the recording: with 100 flows or 10,000, a request's answer is found after
looking at the same few recorded requests (counted, not timed), in recorded order or not."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from mockmx.record.model import Flow, Leg, Links, Recording, Request, Response
from mockmx.replay.replayer import Replayer
from mockmx.replay.state import ReplayState

CS = "/_matrix/client/v3"
USERS = 10
JSON: dict[str, str | list[str]] = {"content-type": "application/json"}


def synthetic(size: int) -> Recording:
    """`size` client flows from USERS sessions: sends to 50 rooms, sync chains, and one request repeated."""
    flows: list[Flow] = []
    last_sync: dict[int, tuple[int, str]] = {}
    for index in range(size):
        flow_id, user = index + 1, index % USERS
        headers: dict[str, str | list[str]] = {**JSON, "authorization": f"Bearer <token:{user + 1}>"}
        kind = (index // USERS) % 3
        query: dict[str, Any] = {}
        body: Any = None
        answer: dict[str, Any]
        links = Links()
        if kind == 0:
            method, path = "PUT", f"{CS}/rooms/!room{index % 50}:hs/send/m.room.message/txn{index}"
            body, answer = {"msgtype": "m.text", "body": f"message {index}"}, {"event_id": f"$e{index}"}
            links = Links(txn_id=f"txn{index}", returned={"event_id": f"$e{index}"})
        elif kind == 1:
            method, path, answer = "GET", f"{CS}/sync", {"next_batch": f"s{index}"}
            query = {"timeout": "30000"}
            passed: dict[str, int | None] = {}
            if user in last_sync:
                query["since"] = last_sync[user][1]
                passed = {"since": last_sync[user][0]}
            links = Links(returned={"next_batch": f"s{index}"}, passed=passed)
            last_sync[user] = (flow_id, f"s{index}")
        else:
            method, path, answer = "GET", f"{CS}/joined_rooms", {"joined_rooms": [f"!room{user}:hs"]}
        flows.append(
            Flow(
                id=flow_id,
                leg=Leg.CLIENT,
                at=float(index),
                took=0.001,
                request=Request(
                    method=method,
                    path=path,
                    query=query,
                    headers=headers,
                    body=body,
                    body_kind="body" if body else None,
                ),
                response=Response(status=200, headers=JSON, body=answer, body_kind="body"),
                error=None,
                links=links,
            )
        )
    return Recording(source=f"<{size} flows>", started_at="", upstreams={}, secrets="redacted", flows=flows)


def replay_order(recording: Recording) -> list[Flow]:
    """Sends newest first (out of recorded order), then every sync chain and repeated request in order."""
    sends = [flow for flow in recording.flows if flow.request.method == "PUT"]
    return sends[::-1] + [flow for flow in recording.flows if flow.request.method == "GET"]


def ask(replayer: Replayer, flow: Flow) -> tuple[int, int]:
    """Send what `flow` recorded, as a client with its own tokens and transaction ids would; (answered flow id, the
    recorded requests looked at)."""
    request = flow.request
    user = request.header("authorization").removeprefix("Bearer <token:").removesuffix(">")  # type: ignore[union-attr]
    path = request.path
    if flow.links.txn_id:
        path = path.rsplit("/", 1)[0] + "/" + uuid.uuid4().hex
    shape = replayer.live_shape(
        method=request.method,
        path=path,
        query={**request.query, "timeout": "0"},
        authorization=f"Bearer live-{user}",
        content=json.dumps(request.body).encode() if request.body is not None else b"",
        content_type="application/json",
    )
    before = replayer.index.inspected
    entry = replayer.match(shape)
    assert entry is not None, replayer.miss(shape, f"{request.method} {path}", "test")
    return entry.flow.id, replayer.index.inspected - before


@pytest.mark.parametrize("size", [100, 10_000])
def test_each_lookup_looks_at_the_same_few_recorded_requests_whatever_the_recordings_size(size: int) -> None:
    recording = synthetic(size)
    replayer = Replayer(recording, state=ReplayState(recording))
    order = replay_order(recording)
    # Each session's token is new to the replay at first: binding it looks among the sessions, not the flows.
    looked_at = {}
    for flow in order:
        answered, inspected = ask(replayer, flow)
        assert answered == flow.id
        looked_at[flow.id] = inspected
    assert sorted(replayer.state.answered) == list(range(1, size + 1))
    first_of_each_session = {flow.id for flow in recording.flows[:USERS]}
    bound = [count for flow_id, count in looked_at.items() if flow_id not in first_of_each_session]
    assert max(bound) == 1, "a lookup looked past the one recorded request it answered with"
    assert max(looked_at.values()) <= USERS


def test_a_miss_in_a_long_recording_compares_a_bounded_sample() -> None:
    recording = synthetic(10_000)
    replayer = Replayer(recording, state=ReplayState(recording))
    first = recording.flows[0]
    ask(replayer, first)  # binds session 1's token
    shape = replayer.live_shape(
        method="PUT",
        path=f"{CS}/rooms/!room30:hs/send/m.room.message/t",
        query={},
        authorization="Bearer live-1",
        content=b'{"msgtype":"m.text","body":"never sent"}',
        content_type="application/json",
    )
    before = replayer.index.inspected
    assert replayer.match(shape) is None
    miss = replayer.miss(shape, "PUT ...", "404")
    assert replayer.index.inspected - before <= 20 + 3  # a sample of its route, and the head of each other route
    assert [str(difference) for difference in miss.near[0].differences] == [
        "body field body: recorded 'message 30', got 'never sent'"
    ]
