"""Links between flows: transaction ids, what a response introduced, which flow returned a token passed back."""

from __future__ import annotations

from typing import Any

import pytest

from mockmx.record.links import Linker, transaction_id

ROOM = "!room:localhost"


def _flow(
    flow_id: int,
    path: str,
    *,
    leg: str = "client",
    query: dict[str, Any] | None = None,
    body: Any = None,
    status: int = 200,
    answer: Any = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "GET", "path": path, "headers": {}}
    if query:
        request["query"] = query
    if body is not None:
        request["body"] = body
    response: dict[str, Any] = {"status": status, "headers": {}}
    if answer is not None:
        response["body"] = answer
    return {"id": flow_id, "leg": leg, "at": 0.0, "request": request, "response": response}


@pytest.mark.parametrize(
    ("path", "txn_id"),
    [
        ("/_matrix/client/v3/rooms/%21room%3Alocalhost/send/m.room.message/m1.2", "m1.2"),
        ("/_matrix/client/r0/rooms/!room:localhost/redact/$ev/t%2F1", "t/1"),
        ("/_matrix/client/v3/sendToDevice/org.example.ping/abc", "abc"),
        ("/_matrix/client/v3/rooms/!room:localhost/state/m.room.name/", None),
        ("/_matrix/client/v3/sync", None),
    ],
)
def test_transaction_ids_come_from_send_paths(path: str, txn_id: str | None) -> None:
    from urllib.parse import unquote

    assert transaction_id([unquote(segment) for segment in path.split("/")]) == txn_id


def test_a_sync_token_passed_back_names_the_flow_that_returned_it() -> None:
    linker = Linker()
    first = linker.links(
        _flow(
            1,
            "/_matrix/client/v3/sync",
            answer={"next_batch": "s1", "rooms": {"join": {ROOM: {"timeline": {"events": [], "prev_batch": "p0"}}}}},
        )
    )
    assert first == {"returned": {"next_batch": "s1", "rooms.join['!room:localhost'].timeline.prev_batch": "p0"}}
    second = linker.links(_flow(2, "/_matrix/client/v3/sync", query={"since": "s1", "timeout": "30000"}))
    assert second == {"passed": {"since": 1}}
    messages = linker.links(_flow(3, f"/_matrix/client/v3/rooms/{ROOM}/messages", query={"from": "p0", "dir": "b"}))
    assert messages == {"passed": {"from": 1}}
    unknown = linker.links(_flow(4, "/_matrix/client/v3/events", query={"from": "s0"}))
    assert unknown == {"passed": {"from": None}}


def test_a_filter_id_links_only_when_this_recording_uploaded_it() -> None:
    linker = Linker()
    linker.links(_flow(1, "/_matrix/client/v3/user/@a:localhost/filter", answer={"filter_id": "7"}))
    assert linker.links(_flow(2, "/_matrix/client/v3/sync", query={"filter": "7"})) == {"passed": {"filter": 1}}
    inline = linker.links(_flow(3, "/_matrix/client/v3/sync", query={"filter": '{"room":{}}'}))
    assert inline == {}


def test_a_send_returns_its_event_id_and_later_flows_mention_it() -> None:
    linker = Linker()
    send = linker.links(
        _flow(
            1,
            f"/_matrix/client/v3/rooms/{ROOM}/send/m.room.message/t1",
            body={"msgtype": "m.text", "body": "hi", "m.relates_to": {"m.in_reply_to": {"event_id": "$older"}}},
            answer={"event_id": "$new"},
        )
    )
    assert send == {"txn_id": "t1", "returned": {"event_id": "$new"}, "events": ["$older"]}
    push = linker.links(
        _flow(2, "/_matrix/push/v1/notify", leg="push", body={"notification": {"event_id": "$new"}}, answer={})
    )
    assert push == {"events": ["$new"]}
    context = linker.links(_flow(3, f"/_matrix/client/v3/rooms/{ROOM}/context/%24new"))
    assert context == {"events": ["$new"]}


def test_failures_and_the_push_leg_return_nothing() -> None:
    linker = Linker()
    assert linker.links(_flow(1, "/_matrix/client/v3/sync", status=500, answer={"next_batch": "x"})) == {}
    assert linker.links(_flow(2, "/_matrix/push/v1/notify", leg="push", answer={"next_batch": "y"})) == {}
    error = {"id": 3, "leg": "client", "at": 0.0, "request": {"method": "GET", "path": "/x", "headers": {}}}
    assert linker.links(error) == {}
