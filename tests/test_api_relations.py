"""`GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]` over real sockets, and the
latest edit bundled with the event it replaces."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import BACKSTAGE, LOBBY, LiveServer, assert_error, send_text

V1 = "/_matrix/client/v1"
V3 = "/_matrix/client/v3"


def relations_path(parent: str, *rest: str, room_id: str = LOBBY) -> str:
    return "/".join([f"{V1}/rooms/{quote(room_id, safe='')}/relations", *(quote(p, safe="") for p in (parent, *rest))])


def relations(client: httpx.Client, parent: str, *rest: str, **params: Any) -> dict[str, Any]:
    r = client.get(relations_path(parent, *rest), params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def send(client: httpx.Client, event_type: str, content: dict[str, Any], txn_id: str) -> str:
    r = client.put(f"{V3}/rooms/{quote(LOBBY, safe='')}/send/{event_type}/{txn_id}", json=content)
    assert r.status_code == 200, r.text
    event_id: str = r.json()["event_id"]
    return event_id


def react(client: httpx.Client, parent: str, key: str, txn_id: str) -> str:
    relates = {"rel_type": "m.annotation", "event_id": parent, "key": key}
    return send(client, "m.reaction", {"m.relates_to": relates}, txn_id)


def edit(client: httpx.Client, parent: str, body: str, txn_id: str) -> str:
    content = {
        "msgtype": "m.text",
        "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": parent},
    }
    return send(client, "m.room.message", content, txn_id)


def thread_reply(client: httpx.Client, root: str, body: str, txn_id: str) -> str:
    content = {"msgtype": "m.text", "body": body, "m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    return send(client, "m.room.message", content, txn_id)


def ids(body: dict[str, Any]) -> list[str]:
    return [event["event_id"] for event in body["chunk"]]


def test_children_newest_first_filtered_by_rel_type_and_event_type(alice: httpx.Client, bob: httpx.Client) -> None:
    parent = send_text(alice, "parent", "p")
    send_text(alice, "unrelated", "u")
    thumbs = react(bob, parent, "👍", "r1")
    fixed = edit(alice, parent, "parent, fixed", "e1")
    reply = thread_reply(bob, parent, "in a thread", "t1")

    everything = relations(bob, parent)
    assert ids(everything) == [reply, fixed, thumbs]
    assert "next_batch" not in everything and "prev_batch" not in everything, everything
    assert all(event["room_id"] == LOBBY for event in everything["chunk"])
    assert ids(relations(bob, parent, "m.annotation")) == [thumbs]
    assert ids(relations(bob, parent, "m.annotation", "m.reaction")) == [thumbs]
    assert ids(relations(bob, parent, "m.annotation", "m.room.message")) == []
    assert ids(relations(bob, parent, "m.thread", "m.room.message")) == [reply]
    assert ids(relations(bob, parent, "org.example.nothing")) == []
    assert ids(relations(bob, parent, dir="f")) == [thumbs, fixed, reply]


def test_pages_by_next_batch_without_gaps_or_repeats(alice: httpx.Client, bob: httpx.Client) -> None:
    parent = send_text(alice, "popular", "p")
    reactions = [react(bob if i % 2 else alice, parent, str(i), f"r{i}") for i in range(11)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    for _ in range(10):
        body = relations(alice, parent, **params)
        seen += ids(body)
        if "next_batch" not in body:
            break
        assert body.get("prev_batch") == params.get("from"), body
        params["from"] = body["next_batch"]
    assert seen == reactions[::-1]
    assert len(relations(alice, parent)["chunk"]) == 5  # Synapse's default limit

    forwards: list[str] = []
    params = {"limit": 3, "dir": "f"}
    while True:
        body = relations(alice, parent, **params)
        forwards += ids(body)
        if "next_batch" not in body:
            break
        params["from"] = body["next_batch"]
    assert forwards == reactions


def test_tokens_from_sync_and_messages_bound_the_pages(alice: httpx.Client) -> None:
    parent = send_text(alice, "parent", "p")
    early = react(alice, parent, "a", "a")
    since = alice.get(f"{V3}/sync").json()["next_batch"]
    late = react(alice, parent, "b", "b")
    assert ids(relations(alice, parent, to=since)) == [late]
    assert ids(relations(alice, parent, **{"from": since})) == [early]
    assert ids(relations(alice, parent, **{"from": since, "dir": "f"})) == [late]


def test_recurse_follows_relations_of_relations(alice: httpx.Client) -> None:
    root = send_text(alice, "root", "root")
    reply = thread_reply(alice, root, "reply", "reply")
    reaction = react(alice, reply, "👀", "r")
    assert ids(relations(alice, root)) == [reply]
    body = relations(alice, root, recurse="true")
    assert ids(body) == [reaction, reply] and body["recursion_depth"] == 3, body
    assert relations(alice, root, recurse="false")["recursion_depth"] == 1
    assert ids(relations(alice, root, "m.annotation", recurse="true")) == [reaction]


def test_the_latest_edit_by_the_sender_is_bundled(alice: httpx.Client, bob: httpx.Client) -> None:
    original = send_text(alice, "draft", "d")
    edit(alice, original, "second", "e1")
    latest = edit(alice, original, "third", "e2")
    edit(bob, original, "not bob's to edit", "e3")
    r = bob.get(f"{V3}/rooms/{quote(LOBBY, safe='')}/event/{quote(original, safe='')}")
    assert r.status_code == 200, r.text
    replace = r.json()["unsigned"]["m.relations"]["m.replace"]
    assert replace["event_id"] == latest and replace["content"]["m.new_content"]["body"] == "third", replace
    r = bob.get(f"{V3}/rooms/{quote(LOBBY, safe='')}/messages", params={"dir": "b", "limit": 10})
    bundled = next(e for e in r.json()["chunk"] if e["event_id"] == original)
    assert bundled["unsigned"]["m.relations"]["m.replace"]["event_id"] == latest, bundled


def test_unknown_parent_is_not_found(shared_alice: httpx.Client) -> None:
    r = shared_alice.get(relations_path("$no-such-event"))
    assert assert_error(r, 404, "M_NOT_FOUND")["error"] == "Unknown parent event."
    secret = send_text(shared_alice, "backstage", "backstage-parent", BACKSTAGE)
    assert_error(shared_alice.get(relations_path(secret)), 404, "M_NOT_FOUND")  # asked under the lobby


def test_a_room_never_joined_is_forbidden(shared_alice: httpx.Client, shared_bob: httpx.Client) -> None:
    secret = send_text(shared_alice, "backstage", "backstage-secret", BACKSTAGE)
    assert_error(shared_bob.get(relations_path(secret, room_id=BACKSTAGE)), 403, "M_FORBIDDEN")


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"dir": "sideways"}, "M_INVALID_PARAM"),
        ({"limit": "many"}, "M_INVALID_PARAM"),
        ({"from": "nonsense"}, "M_UNKNOWN"),
        ({"recurse": "maybe"}, "M_INVALID_PARAM"),
    ],
)
def test_bad_parameters(shared_alice: httpx.Client, params: dict[str, str], errcode: str) -> None:
    assert_error(shared_alice.get(relations_path("$x"), params=params), 400, errcode)


def test_relations_are_served_under_v1_only(shared: LiveServer) -> None:
    with shared.client("alice-token") as client:
        r = client.get(f"{V3}/rooms/{quote(LOBBY, safe='')}/relations/$x")
    assert_error(r, 404, "M_UNRECOGNIZED")


@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("nope", "M_UNKNOWN_TOKEN")])
def test_relations_need_a_valid_token(shared: LiveServer, token: str | None, errcode: str) -> None:
    with shared.client(token) as client:
        assert_error(client.get(relations_path("$x", "m.annotation", "m.reaction")), 401, errcode)
