"""`PUT /rooms/{roomId}/redact/{eventId}/{txnId}` over real sockets: the redaction event, the stored original in its
redacted form everywhere it is read, idempotent transaction ids, power levels, and the spec's algorithm per room
version."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mockmx.homeserver.redaction import redacted_content
from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error, send_text

V3 = "/_matrix/client/v3"


def room_path(room_id: str, *rest: str) -> str:
    return "/".join([f"{V3}/rooms/{quote(room_id, safe='')}", *(quote(part, safe="") for part in rest)])


def redact(client: httpx.Client, event_id: str, txn_id: str, body: Any = None, room_id: str = LOBBY) -> httpx.Response:
    return client.put(room_path(room_id, "redact", event_id, txn_id), json={} if body is None else body)


def get_event(client: httpx.Client, event_id: str, room_id: str = LOBBY) -> dict[str, Any]:
    r = client.get(room_path(room_id, "event", event_id))
    assert r.status_code == 200, r.text
    event: dict[str, Any] = r.json()
    return event


def newest(client: httpx.Client, limit: int = 10) -> list[dict[str, Any]]:
    r = client.get(room_path(LOBBY, "messages"), params={"dir": "b", "limit": limit})
    assert r.status_code == 200, r.text
    chunk: list[dict[str, Any]] = r.json()["chunk"]
    return chunk


def test_redacting_own_message_strips_it_and_sends_a_redaction(alice: httpx.Client, bob: httpx.Client) -> None:
    since = bob.get(f"{V3}/sync").json()["next_batch"]
    target = send_text(alice, "oops", "o")
    r = redact(alice, target, "r1", {"reason": "typo"})
    assert r.status_code == 200, r.text
    redaction_id = r.json()["event_id"]
    assert redaction_id.startswith("$") and redaction_id != target

    original = get_event(bob, target)
    assert original["content"] == {} and original["type"] == "m.room.message", original
    because = original["unsigned"]["redacted_because"]
    assert because["event_id"] == redaction_id and because["type"] == "m.room.redaction", because
    assert because["redacts"] == target and because["content"] == {"reason": "typo", "redacts": target}, because

    redaction, stripped = newest(bob, 2)
    assert redaction["event_id"] == redaction_id and redaction["redacts"] == target, redaction
    assert stripped["event_id"] == target and stripped["content"] == {}, stripped

    timeline = bob.get(f"{V3}/sync", params={"since": since}).json()["rooms"]["join"][LOBBY]["timeline"]["events"]
    assert [e["type"] for e in timeline] == ["m.room.message", "m.room.redaction"], timeline
    assert timeline[1]["redacts"] == target and timeline[1]["content"]["redacts"] == target, timeline


def test_the_same_transaction_redacts_once(alice: httpx.Client) -> None:
    target = send_text(alice, "once", "o")
    first = redact(alice, target, "same-txn", {"reason": "first"})
    again = redact(alice, target, "same-txn", {"reason": "second"})
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert [e["type"] for e in newest(alice, 2)] == ["m.room.redaction", "m.room.message"]
    # Another transaction id is another redaction; the original keeps the first one's reason.
    other = redact(alice, target, "other-txn")
    assert other.status_code == 200 and other.json() != first.json(), other.text
    because = get_event(alice, target)["unsigned"]["redacted_because"]
    assert because["event_id"] == first.json()["event_id"], because


def test_the_redacting_device_gets_its_transaction_id(alice: httpx.Client) -> None:
    target = send_text(alice, "x", "x")
    redaction_id = redact(alice, target, "my-txn").json()["event_id"]
    assert get_event(alice, redaction_id)["unsigned"]["transaction_id"] == "my-txn"


def test_without_the_redact_level_only_own_events(alice: httpx.Client, bob: httpx.Client) -> None:
    alices = send_text(alice, "alice says", "a")
    body = assert_error(redact(bob, alices, "b1"), 403, "M_FORBIDDEN")
    assert body["error"] == "You don't have permission to redact events", body
    assert get_event(bob, alices)["content"]["body"] == "alice says"
    bobs = send_text(bob, "bob says", "b")
    assert redact(bob, bobs, "b2").status_code == 200
    # alice created the lobby: at power 100 she may redact anyone's.
    other = send_text(bob, "bob again", "b3")
    assert redact(alice, other, "a2").status_code == 200
    assert get_event(bob, other)["content"] == {}


def test_a_redacted_state_event_keeps_what_its_type_keeps(alice: httpx.Client) -> None:
    r = alice.put(room_path(LOBBY, "state", "m.room.member", ALICE), json={"membership": "join", "displayname": "Al"})
    assert r.status_code == 200, r.text
    member = r.json()["event_id"]
    assert redact(alice, member, "m").status_code == 200
    assert get_event(alice, member)["content"] == {"membership": "join"}
    state = alice.get(room_path(LOBBY, "state", "m.room.member", ALICE))
    assert state.status_code == 200 and state.json() == {"membership": "join"}, state.text

    r = alice.put(room_path(LOBBY, "state", "m.room.topic", ""), json={"topic": "soon gone"})
    assert r.status_code == 200, r.text
    assert redact(alice, r.json()["event_id"], "t").status_code == 200
    assert alice.get(room_path(LOBBY, "state", "m.room.topic", "")).json() == {}


def test_a_redacted_edit_is_no_longer_bundled(alice: httpx.Client) -> None:
    original = send_text(alice, "first", "f")
    edit = {
        "msgtype": "m.text",
        "body": "* second",
        "m.new_content": {"msgtype": "m.text", "body": "second"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }
    r = alice.put(room_path(LOBBY, "send", "m.room.message", "e"), json=edit)
    assert r.status_code == 200, r.text
    edit_id = r.json()["event_id"]
    assert get_event(alice, original)["unsigned"]["m.relations"]["m.replace"]["event_id"] == edit_id
    assert redact(alice, edit_id, "r").status_code == 200
    assert "m.relations" not in get_event(alice, original)["unsigned"]
    r = alice.get(f"/_matrix/client/v1/rooms/{quote(LOBBY)}/relations/{quote(original)}")
    assert r.status_code == 200 and r.json()["chunk"] == [], r.text


def test_a_moderator_may_redact_an_event_the_server_has_not_seen(alice: httpx.Client, bob: httpx.Client) -> None:
    # Synapse: the event may yet arrive over federation, so the redaction is accepted; others learn it is unknown.
    assert redact(alice, "$not-seen-yet", "u").status_code == 200
    body = assert_error(redact(bob, "$not-seen-yet", "u"), 404, "M_NOT_FOUND")
    assert "$not-seen-yet" in body["error"], body


def test_the_create_event_cannot_be_redacted(alice: httpx.Client) -> None:
    r = alice.get(room_path(LOBBY, "messages"), params={"dir": "f", "limit": 1})
    create = r.json()["chunk"][0]
    assert create["type"] == "m.room.create", create
    body = assert_error(redact(alice, create["event_id"], "c"), 403, "M_FORBIDDEN")
    assert body["error"] == "Redacting create events is not permitted", body


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        ("not json", 400, "M_NOT_JSON"),
        ([1, 2], 400, "M_BAD_JSON"),
        ({"reason": 7}, 400, "M_BAD_JSON"),
        ({"redacts": "$some-other-event"}, 400, "M_INVALID_PARAM"),
        ({"reason": "x" * 70_000}, 413, "M_TOO_LARGE"),
    ],
)
def test_bad_bodies_are_refused(shared_alice: httpx.Client, body: Any, status: int, errcode: str) -> None:
    target = send_text(shared_alice, "target", f"target-{errcode}-{status}-{len(str(body))}")
    path = room_path(LOBBY, "redact", target, f"bad-{errcode}-{len(str(body))}")
    r = shared_alice.put(path, content=body if isinstance(body, str) else json.dumps(body))
    assert_error(r, status, errcode)
    assert get_event(shared_alice, target)["content"]["body"] == "target"


def test_a_failed_redaction_can_be_retried_with_the_same_transaction(alice: httpx.Client) -> None:
    target = send_text(alice, "retry", "r")
    assert_error(redact(alice, target, "retry-txn", {"reason": 1}), 400, "M_BAD_JSON")
    assert redact(alice, target, "retry-txn", {"reason": "ok"}).status_code == 200


@pytest.mark.parametrize("room_id", [BACKSTAGE, "!nowhere:localhost"])
def test_redacting_in_a_room_one_is_not_in_is_forbidden(shared_bob: httpx.Client, room_id: str) -> None:
    body = assert_error(redact(shared_bob, "$x", f"not-in-{room_id}", room_id=room_id), 403, "M_FORBIDDEN")
    assert BOB in body["error"], body


@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("nope", "M_UNKNOWN_TOKEN")])
def test_redacting_needs_a_valid_token(shared: LiveServer, token: str | None, errcode: str) -> None:
    with shared.client(token) as client:
        assert_error(redact(client, "$x", "t"), 401, errcode)


# -- the algorithm, per room version --------------------------------------------------------------------------------

POWER = {
    "ban": 50,
    "events": {"m.room.name": 50},
    "events_default": 0,
    "invite": 0,
    "kick": 50,
    "notifications": {"room": 50},
    "redact": 50,
    "state_default": 50,
    "users": {ALICE: 100},
    "users_default": 0,
}
POWER_KEPT = {k: v for k, v in POWER.items() if k not in ("invite", "notifications")}
MEMBER = {
    "membership": "join",
    "displayname": "Alice",
    "join_authorised_via_users_server": "@admin:localhost",
    "third_party_invite": {"display_name": "alice", "signed": {"token": "t"}},
}
CREATE = {"creator": ALICE, "room_version": "10", "m.federate": True}


@pytest.mark.parametrize(
    ("version", "event_type", "content", "kept"),
    [
        ("1", "m.room.message", {"msgtype": "m.text", "body": "hi"}, {}),
        ("1", "m.room.member", MEMBER, {"membership": "join"}),
        ("9", "m.room.member", MEMBER, {"membership": "join", "join_authorised_via_users_server": "@admin:localhost"}),
        (
            "11",
            "m.room.member",
            MEMBER,
            {
                "membership": "join",
                "join_authorised_via_users_server": "@admin:localhost",
                "third_party_invite": {"signed": {"token": "t"}},
            },
        ),
        ("10", "m.room.create", CREATE, {"creator": ALICE}),
        ("11", "m.room.create", CREATE, CREATE),
        ("7", "m.room.join_rules", {"join_rule": "restricted", "allow": []}, {"join_rule": "restricted"}),
        ("8", "m.room.join_rules", {"join_rule": "restricted", "allow": []}, {"join_rule": "restricted", "allow": []}),
        ("10", "m.room.power_levels", POWER, POWER_KEPT),
        ("11", "m.room.power_levels", POWER, {**POWER_KEPT, "invite": 0}),
        ("5", "m.room.aliases", {"aliases": ["#a:localhost"]}, {"aliases": ["#a:localhost"]}),
        ("6", "m.room.aliases", {"aliases": ["#a:localhost"]}, {}),
        ("10", "m.room.history_visibility", {"history_visibility": "joined", "x": 1}, {"history_visibility": "joined"}),
        ("10", "m.room.redaction", {"redacts": "$e", "reason": "r"}, {}),
        ("11", "m.room.redaction", {"redacts": "$e", "reason": "r"}, {"redacts": "$e"}),
        ("12", "m.room.redaction", {"redacts": "$e", "reason": "r"}, {"redacts": "$e"}),
        ("10", "m.room.name", {"name": "gone"}, {}),
    ],
)
def test_the_redaction_algorithm_keeps_what_the_room_version_keeps(
    version: str, event_type: str, content: dict[str, Any], kept: dict[str, Any]
) -> None:
    assert redacted_content(version, event_type, content) == kept
