"""Membership over the wire: invite, leave, forget, kick, ban, unban, with their refusals, and who is in a room."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error

V3 = "/_matrix/client/v3"
CAROL = "@carol:localhost"


def q(value: str) -> str:
    return quote(value, safe="")


def room_path(room_id: str, endpoint: str) -> str:
    return f"{V3}/rooms/{q(room_id)}/{endpoint}"


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def member(client: httpx.Client, room_id: str, user_id: str) -> dict[str, Any]:
    content: dict[str, Any] = ok(client.get(room_path(room_id, f"state/m.room.member/{q(user_id)}")))
    return content


def joined_rooms(client: httpx.Client) -> list[str]:
    rooms: list[str] = ok(client.get(f"{V3}/joined_rooms"))["joined_rooms"]
    return rooms


Clients = tuple[httpx.Client, httpx.Client, httpx.Client]


@pytest.fixture
def trio(serve_yaml: Callable[[str], LiveServer]) -> Iterator[Clients]:
    """alice (creator, power 100) and bob (power 0) in the public lobby, carol in no room: their clients."""
    live = serve_yaml(
        """
server_name: localhost
users:
  - {id: alice, display_name: Alice, devices: [{id: ALICEDEV, access_token: alice-token}]}
  - {id: bob, display_name: Bob, devices: [{id: BOBDEV, access_token: bob-token}]}
  - {id: carol, devices: [{id: CAROLDEV, access_token: carol-token}]}
rooms:
  - id: "!lobby:localhost"
    name: Lobby
    topic: Say hello
    members: [alice, bob]
  - id: "!backstage:localhost"
    name: Backstage
    members: [alice]
    join_rule: invite
"""
    )
    with live.client("alice-token") as alice, live.client("bob-token") as bob, live.client("carol-token") as carol:
        yield alice, bob, carol


# -- invite -------------------------------------------------------------------------------------------------------


def test_invite_makes_an_invite_with_its_reason_and_the_invitee_can_join(trio: Clients) -> None:
    alice, _, carol = trio
    assert ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL, "reason": "come in"})) == {}
    assert member(alice, BACKSTAGE, CAROL) == {"membership": "invite", "reason": "come in", "displayname": "carol"}
    invite = ok(carol.get(f"{V3}/sync"))["rooms"]["invite"][BACKSTAGE]["invite_state"]["events"]
    stripped = {(e["type"], e["state_key"]): e for e in invite}
    assert {("m.room.create", ""), ("m.room.join_rules", ""), ("m.room.name", ""), ("m.room.member", ALICE)} <= set(
        stripped
    )
    assert stripped[("m.room.member", CAROL)] == {
        "type": "m.room.member",
        "state_key": CAROL,
        "sender": ALICE,
        "content": {"membership": "invite", "reason": "come in", "displayname": "carol"},
    }
    ok(carol.post(room_path(BACKSTAGE, "join"), json={}))
    assert BACKSTAGE in joined_rooms(carol)


def test_invite_again_and_invite_of_an_unknown_local_user_succeed(trio: Clients) -> None:
    alice, _, _ = trio
    ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL}))
    assert ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL})) == {}  # already invited
    # Synapse invites a local user id nobody registered, without a display name.
    ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": "@nobody:localhost"}))
    assert member(alice, BACKSTAGE, "@nobody:localhost") == {"membership": "invite"}


@pytest.mark.parametrize(
    ("inviter", "room_id", "body", "status", "errcode", "error"),
    [
        ("alice", LOBBY, {"user_id": BOB}, 403, "M_FORBIDDEN", f"{BOB} is already in the room."),
        ("carol", LOBBY, {"user_id": CAROL}, 403, "M_FORBIDDEN", f"{CAROL} not in room {LOBBY}."),
        ("alice", "!nowhere:localhost", {"user_id": CAROL}, 403, "M_FORBIDDEN", "Unknown room"),
        ("alice", LOBBY, {}, 400, "M_MISSING_PARAM", None),
        ("alice", LOBBY, {"user_id": 5}, 400, "M_BAD_JSON", None),
        ("alice", LOBBY, {"user_id": "carol"}, 400, "M_INVALID_PARAM", None),
        ("alice", LOBBY, {"user_id": CAROL, "reason": 7}, 400, "M_BAD_JSON", None),
        ("alice", LOBBY, [CAROL], 400, "M_BAD_JSON", None),
    ],
)
def test_invite_errors(
    trio: Clients, inviter: str, room_id: str, body: Any, status: int, errcode: str, error: str | None
) -> None:
    client = trio[("alice", "bob", "carol").index(inviter)]
    answer = assert_error(client.post(room_path(room_id, "invite"), json=body), status, errcode)
    if error is not None:
        assert answer["error"] == error, answer


def test_invite_needs_the_invite_level(trio: Clients) -> None:
    alice, bob, _ = trio
    levels = ok(alice.get(room_path(LOBBY, "state/m.room.power_levels")))
    ok(alice.put(room_path(LOBBY, "state/m.room.power_levels"), json={**levels, "invite": 50}))
    body = assert_error(bob.post(room_path(LOBBY, "invite"), json={"user_id": CAROL}), 403, "M_FORBIDDEN")
    assert body["error"] == "You don't have permission to invite users", body


# -- leave and forget ---------------------------------------------------------------------------------------------


def test_leave_keeps_the_reason_and_a_repeat_is_fine(trio: Clients) -> None:
    alice, bob, _ = trio
    assert ok(bob.post(room_path(LOBBY, "leave"), json={"reason": "bye"})) == {}
    assert member(alice, LOBBY, BOB) == {"membership": "leave", "reason": "bye"}
    assert LOBBY not in joined_rooms(bob)
    ok(bob.post(room_path(LOBBY, "leave"), json={"reason": "bye"}))  # Synapse: the same leave again is no change


def test_leave_without_a_body_and_rejecting_an_invite(trio: Clients) -> None:
    alice, _, carol = trio
    ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL}))
    r = carol.post(room_path(BACKSTAGE, "leave"))
    assert r.status_code == 200, r.text
    assert member(alice, BACKSTAGE, CAROL)["membership"] == "leave"
    assert ok(carol.get(f"{V3}/sync"))["rooms"]["invite"] == {}


@pytest.mark.parametrize(
    ("room_id", "status", "errcode"),
    [(LOBBY, 403, "M_FORBIDDEN"), ("!nowhere:localhost", 404, "M_UNKNOWN")],
)
def test_leave_a_room_one_is_not_in(trio: Clients, room_id: str, status: int, errcode: str) -> None:
    assert_error(trio[2].post(room_path(room_id, "leave"), json={}), status, errcode)


def test_forget(trio: Clients) -> None:
    alice, bob, carol = trio
    body = assert_error(bob.post(room_path(LOBBY, "forget"), json={}), 400, "M_UNKNOWN")
    assert body["error"] == f"User {BOB} in room {LOBBY}", body
    ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL}))
    assert_error(carol.post(room_path(BACKSTAGE, "forget"), json={}), 400, "M_UNKNOWN")  # invited
    ok(bob.post(room_path(LOBBY, "leave"), json={}))
    assert ok(bob.post(room_path(LOBBY, "forget"), json={})) == {}
    assert ok(carol.post(room_path(LOBBY, "forget"))) == {}  # never in it: nothing to forget, no error
    assert ok(carol.post(room_path("!nowhere:localhost", "forget"))) == {}


# -- kick, ban, unban ---------------------------------------------------------------------------------------------


def test_kick_with_a_reason(trio: Clients) -> None:
    alice, bob, _ = trio
    assert ok(alice.post(room_path(LOBBY, "kick"), json={"user_id": BOB, "reason": "noise"})) == {}
    event = ok(alice.get(room_path(LOBBY, f"state/m.room.member/{q(BOB)}"), params={"format": "event"}))
    assert (event["sender"], event["content"]) == (ALICE, {"membership": "leave", "reason": "noise"})
    assert LOBBY not in joined_rooms(bob)
    ok(bob.post(room_path(LOBBY, "join"), json={}))  # a kick is no ban


def test_kick_rescinds_an_invite(trio: Clients) -> None:
    alice, _, _ = trio
    ok(alice.post(room_path(BACKSTAGE, "invite"), json={"user_id": CAROL}))
    ok(alice.post(room_path(BACKSTAGE, "kick"), json={"user_id": CAROL}))
    assert member(alice, BACKSTAGE, CAROL) == {"membership": "leave"}


def test_ban_keeps_them_out_until_unbanned(trio: Clients) -> None:
    alice, bob, _ = trio
    assert ok(alice.post(room_path(LOBBY, "ban"), json={"user_id": BOB, "reason": "spam"})) == {}
    assert member(alice, LOBBY, BOB) == {"membership": "ban", "reason": "spam"}
    assert LOBBY not in joined_rooms(bob)
    body = assert_error(bob.post(room_path(LOBBY, "join"), json={}), 403, "M_BAD_STATE")
    assert body["error"] == "Cannot join user who was banned", body
    assert_error(bob.post(f"{V3}/join/{q(LOBBY)}", json={}), 403, "M_BAD_STATE")
    assert_error(alice.post(room_path(LOBBY, "invite"), json={"user_id": BOB}), 403, "M_BAD_STATE")
    assert_error(alice.post(room_path(LOBBY, "kick"), json={"user_id": BOB}), 403, "M_BAD_STATE")
    assert ok(alice.post(room_path(LOBBY, "unban"), json={"user_id": BOB, "reason": "sorry"})) == {}
    assert member(alice, LOBBY, BOB) == {"membership": "leave", "reason": "sorry"}
    ok(bob.post(room_path(LOBBY, "join"), json={}))


def test_ban_of_someone_never_in_the_room(trio: Clients) -> None:
    alice, _, carol = trio
    ok(alice.post(room_path(LOBBY, "ban"), json={"user_id": CAROL}))
    assert_error(carol.post(room_path(LOBBY, "join"), json={}), 403, "M_BAD_STATE")


@pytest.mark.parametrize(
    ("actor", "action", "target", "status", "errcode", "error"),
    [
        ("bob", "kick", ALICE, 403, "M_FORBIDDEN", f"You cannot kick user {ALICE}."),
        ("bob", "ban", ALICE, 403, "M_FORBIDDEN", "You don't have permission to ban"),
        ("alice", "ban", ALICE, 403, "M_FORBIDDEN", "You don't have permission to ban this user"),
        ("alice", "kick", CAROL, 403, "M_FORBIDDEN", "The target user is not in the room"),
        ("bob", "kick", CAROL, 403, "M_FORBIDDEN", "The target user is not in the room"),
        ("alice", "unban", BOB, 403, "M_BAD_STATE", "Cannot unban user who was not banned (membership=join)"),
        ("alice", "unban", CAROL, 403, "M_BAD_STATE", "Cannot unban user who was not banned (membership=None)"),
        ("carol", "kick", BOB, 403, "M_FORBIDDEN", f"{CAROL} not in room {LOBBY}."),
        ("carol", "ban", BOB, 403, "M_FORBIDDEN", f"{CAROL} not in room {LOBBY}."),
    ],
)
def test_kick_ban_unban_errors(
    trio: Clients, actor: str, action: str, target: str, status: int, errcode: str, error: str
) -> None:
    client = trio[("alice", "bob", "carol").index(actor)]
    body = assert_error(client.post(room_path(LOBBY, action), json={"user_id": target}), status, errcode)
    assert body["error"] == error, body


def test_kick_of_someone_who_already_left(trio: Clients) -> None:
    alice, bob, _ = trio
    ok(bob.post(room_path(LOBBY, "leave"), json={}))
    assert_error(alice.post(room_path(LOBBY, "kick"), json={"user_id": BOB}), 403, "M_FORBIDDEN")


def test_kick_and_ban_need_their_levels_and_a_higher_level_than_the_target(trio: Clients) -> None:
    alice, bob, carol = trio
    ok(carol.post(room_path(LOBBY, "join"), json={}))
    levels = ok(alice.get(room_path(LOBBY, "state/m.room.power_levels")))
    levels["users"].update({BOB: 50, CAROL: 50})
    ok(alice.put(room_path(LOBBY, "state/m.room.power_levels"), json=levels))
    assert_error(bob.post(room_path(LOBBY, "kick"), json={"user_id": CAROL}), 403, "M_FORBIDDEN")  # equal levels
    levels["users"][CAROL] = 10
    ok(alice.put(room_path(LOBBY, "state/m.room.power_levels"), json=levels))
    ok(bob.post(room_path(LOBBY, "kick"), json={"user_id": CAROL}))
    ok(bob.post(room_path(LOBBY, "ban"), json={"user_id": CAROL}))


@pytest.mark.parametrize("action", ["invite", "kick", "ban", "unban"])
@pytest.mark.parametrize(("body", "errcode"), [({}, "M_MISSING_PARAM"), (b"nope", "M_NOT_JSON")])
def test_target_endpoints_need_a_user_id(trio: Clients, action: str, body: Any, errcode: str) -> None:
    alice = trio[0]
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    assert_error(alice.post(room_path(LOBBY, action), **kwargs), 400, errcode)


def test_guests_may_not_invite_or_kick(mock: LiveServer) -> None:
    guest = ok(httpx.post(mock.url + f"{V3}/register", params={"kind": "guest"}, json={}))
    with mock.client(guest["access_token"]) as client:
        ok(client.post(room_path(LOBBY, "join"), json={}))
        for action in ("invite", "kick", "ban", "unban"):
            r = client.post(room_path(LOBBY, action), json={"user_id": BOB})
            assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")
        ok(client.post(room_path(LOBBY, "leave"), json={}))


# -- members ------------------------------------------------------------------------------------------------------


def memberships(client: httpx.Client, room_id: str = LOBBY, **params: str) -> dict[str, str]:
    chunk = ok(client.get(room_path(room_id, "members"), params=params))["chunk"]
    for event in chunk:
        assert event["type"] == "m.room.member" and event["room_id"] == room_id, event
    return {event["state_key"]: event["content"]["membership"] for event in chunk}


def test_members_and_their_filters(trio: Clients) -> None:
    alice, _, _ = trio
    ok(alice.post(room_path(LOBBY, "invite"), json={"user_id": CAROL}))
    ok(alice.post(room_path(LOBBY, "ban"), json={"user_id": "@dave:localhost"}))
    everyone = {ALICE: "join", BOB: "join", CAROL: "invite", "@dave:localhost": "ban"}
    assert memberships(alice) == everyone
    assert memberships(alice, membership="join") == {ALICE: "join", BOB: "join"}
    assert memberships(alice, not_membership="join") == {CAROL: "invite", "@dave:localhost": "ban"}
    # Both given: the spec's "or", either one lets a member through.
    assert memberships(alice, membership="invite", not_membership="join") == {
        CAROL: "invite",
        "@dave:localhost": "ban",
    }
    assert memberships(alice, membership="join", not_membership="ban") == {ALICE: "join", BOB: "join", CAROL: "invite"}


def test_members_at_a_sync_token(trio: Clients) -> None:
    alice, bob, _ = trio
    before = ok(alice.get(f"{V3}/sync"))["next_batch"]
    ok(bob.post(room_path(LOBBY, "leave"), json={}))
    assert memberships(alice)[BOB] == "leave"
    assert memberships(alice, at=before)[BOB] == "join"
    assert_error(alice.get(room_path(LOBBY, "members"), params={"at": "nonsense"}), 400, "M_UNKNOWN")


def test_members_of_a_departed_member_are_those_when_they_left(trio: Clients) -> None:
    alice, bob, carol = trio
    ok(bob.post(room_path(LOBBY, "leave"), json={}))
    ok(carol.post(room_path(LOBBY, "join"), json={}))
    assert memberships(bob) == {ALICE: "join", BOB: "leave"}
    assert CAROL in memberships(alice)
    later = ok(alice.get(f"{V3}/sync"))["next_batch"]
    assert memberships(bob, at=later) == {ALICE: "join", BOB: "leave"}  # nothing after they left


@pytest.mark.parametrize(
    ("params", "status", "errcode"),
    [({"membership": "dancing"}, 400, "M_INVALID_PARAM"), ({"not_membership": "x"}, 400, "M_INVALID_PARAM")],
)
def test_members_errors(shared_alice: httpx.Client, params: dict[str, str], status: int, errcode: str) -> None:
    assert_error(shared_alice.get(room_path(LOBBY, "members"), params=params), status, errcode)


def test_members_of_a_room_one_was_never_in(trio: Clients) -> None:
    body = assert_error(trio[2].get(room_path(BACKSTAGE, "members")), 403, "M_FORBIDDEN")
    assert body["error"] == f"User {CAROL} not in room {BACKSTAGE}, and room previews are disabled", body


def test_joined_members(trio: Clients) -> None:
    alice, bob, carol = trio
    ok(alice.post(room_path(LOBBY, "invite"), json={"user_id": CAROL}))
    assert ok(bob.get(room_path(LOBBY, "joined_members"))) == {
        "joined": {ALICE: {"display_name": "Alice"}, BOB: {"display_name": "Bob"}}
    }
    ok(bob.put(room_path(LOBBY, f"state/m.room.member/{q(BOB)}"), json={"membership": "join", "displayname": "B"}))
    assert ok(alice.get(room_path(LOBBY, "joined_members")))["joined"][BOB] == {"display_name": "B"}
    assert_error(carol.get(room_path(LOBBY, "joined_members")), 403, "M_FORBIDDEN")  # only invited
    ok(bob.post(room_path(LOBBY, "leave"), json={}))
    body = assert_error(bob.get(room_path(LOBBY, "joined_members")), 403, "M_FORBIDDEN")
    assert body["error"] == "Getting joined members while not being a current member of the room is forbidden.", body
