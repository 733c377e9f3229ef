"""The room and user directories over the wire: aliases, the published room list and `/publicRooms`, and
`/user_directory/search`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ALICE, BACKSTAGE, BOB, LOBBY, LiveServer, assert_error

V3 = "/_matrix/client/v3"


def alias_path(alias: str) -> str:
    return f"{V3}/directory/room/{quote(alias, safe='')}"


def list_path(room_id: str) -> str:
    return f"{V3}/directory/list/room/{quote(room_id, safe='')}"


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def create_room(client: httpx.Client, **body: Any) -> str:
    room_id: str = ok(client.post(f"{V3}/createRoom", json=body))["room_id"]
    return room_id


def public_rooms(client: httpx.Client, **params: Any) -> dict[str, Any]:
    return ok(client.get(f"{V3}/publicRooms", params=params))


# -- aliases --------------------------------------------------------------------------------------------------


def test_an_alias_resolves_without_a_token(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        assert ok(anonymous.get(alias_path("#lobby:localhost"))) == {"room_id": LOBBY, "servers": ["localhost"]}


def test_an_unknown_alias_is_a_404(shared_bob: httpx.Client) -> None:
    body = assert_error(shared_bob.get(alias_path("#nowhere:localhost")), 404, "M_NOT_FOUND")
    assert body["error"] == "Room alias #nowhere:localhost not found"
    assert_error(shared_bob.get(alias_path("#lobby:example.org")), 404, "M_NOT_FOUND")  # no federation to ask


@pytest.mark.parametrize("alias", ["lobby", "#lobby", "#lobby:", "#lobby:bad host"])
def test_a_malformed_alias_is_a_400(shared_bob: httpx.Client, alias: str) -> None:
    assert_error(shared_bob.get(alias_path(alias)), 400, "M_INVALID_PARAM")
    assert_error(shared_bob.put(alias_path(alias), json={"room_id": LOBBY}), 400, "M_INVALID_PARAM")
    assert_error(shared_bob.delete(alias_path(alias)), 400, "M_INVALID_PARAM")


def test_a_member_makes_an_alias_that_others_can_join_by(alice: httpx.Client, bob: httpx.Client) -> None:
    assert ok(bob.put(alias_path("#hall:localhost"), json={"room_id": LOBBY})) == {}
    assert ok(alice.get(alias_path("#hall:localhost")))["room_id"] == LOBBY
    assert ok(alice.post(f"{V3}/join/{quote('#hall:localhost', safe='')}"))["room_id"] == LOBBY
    body = assert_error(alice.put(alias_path("#hall:localhost"), json={"room_id": LOBBY}), 409, "M_UNKNOWN")
    assert body["error"] == "Room alias #hall:localhost already exists"


@pytest.mark.parametrize(
    ("alias", "body", "status", "errcode"),
    [
        ("#x:localhost", {}, 400, "M_MISSING_PARAM"),
        ("#x:localhost", {"room_id": 5}, 400, "M_BAD_JSON"),
        ("#x:localhost", {"room_id": "!nowhere:localhost"}, 400, "M_UNKNOWN"),
        ("#x:localhost", {"room_id": BACKSTAGE}, 403, "M_FORBIDDEN"),  # bob is not in it
        ("#x:example.org", {"room_id": LOBBY}, 400, "M_UNKNOWN"),  # not ours to make
        ("#a b:localhost", {"room_id": LOBBY}, 400, "M_UNKNOWN"),
        (f"#{'x' * 250}:localhost", {"room_id": LOBBY}, 400, "M_INVALID_PARAM"),
    ],
)
def test_a_bad_alias_request_is_refused(
    shared_bob: httpx.Client, alias: str, body: dict[str, Any], status: int, errcode: str
) -> None:
    assert_error(shared_bob.put(alias_path(alias), json=body), status, errcode)


def test_the_creator_of_an_alias_may_delete_it(bob: httpx.Client) -> None:
    ok(bob.put(alias_path("#hall:localhost"), json={"room_id": LOBBY}))
    assert ok(bob.delete(alias_path("#hall:localhost"))) == {}
    assert_error(bob.get(alias_path("#hall:localhost")), 404, "M_NOT_FOUND")
    assert_error(bob.delete(alias_path("#hall:localhost")), 404, "M_NOT_FOUND")


def test_deleting_someone_elses_alias_takes_power(alice: httpx.Client, bob: httpx.Client) -> None:
    ok(alice.put(alias_path("#hall:localhost"), json={"room_id": LOBBY}))
    assert_error(bob.delete(alias_path("#hall:localhost")), 403, "M_FORBIDDEN")  # bob is at level 0 of 50
    ok(bob.put(alias_path("#corner:localhost"), json={"room_id": LOBBY}))
    assert ok(alice.delete(alias_path("#corner:localhost"))) == {}  # alice has the power to


def test_deleting_the_canonical_alias_updates_the_room(alice: httpx.Client) -> None:
    since = ok(alice.get(f"{V3}/sync"))["next_batch"]
    ok(alice.delete(alias_path("#lobby:localhost")))
    assert_error(alice.get(alias_path("#lobby:localhost")), 404, "M_NOT_FOUND")
    sync = ok(alice.get(f"{V3}/sync", params={"since": since, "timeout": 0}))
    (event,) = sync["rooms"]["join"][LOBBY]["timeline"]["events"]
    assert (event["type"], event["content"], event["sender"]) == ("m.room.canonical_alias", {}, ALICE)


def test_alias_writes_need_a_token(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        assert_error(anonymous.put(alias_path("#x:localhost"), json={"room_id": LOBBY}), 401, "M_MISSING_TOKEN")
        assert_error(anonymous.delete(alias_path("#lobby:localhost")), 401, "M_MISSING_TOKEN")


# -- the published room list ----------------------------------------------------------------------------------


def test_rooms_are_private_until_published(shared: LiveServer, shared_bob: httpx.Client) -> None:
    with shared.client(None) as anonymous:
        assert ok(anonymous.get(list_path(LOBBY))) == {"visibility": "private"}
        assert public_rooms(anonymous) == {"chunk": [], "total_room_count_estimate": 0}
    assert_error(shared_bob.get(list_path("!nowhere:localhost")), 404, "M_NOT_FOUND")


def test_a_public_room_from_create_room_is_listed(alice: httpx.Client, bob: httpx.Client) -> None:
    room_id = create_room(
        alice, visibility="public", name="Cheese", topic="Tasty tasty cheese", room_alias_name="cheese"
    )
    create_room(alice, name="Private")  # not published
    assert ok(bob.get(list_path(room_id))) == {"visibility": "public"}
    assert public_rooms(bob) == {
        "chunk": [
            {
                "room_id": room_id,
                "name": "Cheese",
                "topic": "Tasty tasty cheese",
                "canonical_alias": "#cheese:localhost",
                "num_joined_members": 1,
                "world_readable": False,
                "guest_can_join": False,
                "join_rule": "public",
            }
        ],
        "total_room_count_estimate": 1,
    }


def test_publishing_takes_a_moderator(alice: httpx.Client, bob: httpx.Client) -> None:
    assert_error(bob.put(list_path(LOBBY), json={"visibility": "public"}), 403, "M_FORBIDDEN")
    assert_error(bob.put(list_path(BACKSTAGE), json={"visibility": "public"}), 403, "M_FORBIDDEN")
    assert ok(alice.put(list_path(LOBBY), json={})) == {}  # public is the default
    assert ok(bob.get(list_path(LOBBY))) == {"visibility": "public"}
    (entry,) = public_rooms(bob)["chunk"]
    assert (entry["room_id"], entry["num_joined_members"], entry["guest_can_join"]) == (LOBBY, 2, True)
    ok(alice.put(list_path(LOBBY), json={"visibility": "private"}))
    assert public_rooms(bob)["chunk"] == []


def test_an_invite_only_room_is_not_listed_even_when_published(alice: httpx.Client) -> None:
    ok(alice.put(list_path(BACKSTAGE), json={"visibility": "public"}))
    assert ok(alice.get(list_path(BACKSTAGE))) == {"visibility": "public"}
    assert public_rooms(alice)["chunk"] == []  # as Synapse: only rooms anyone may join or read


@pytest.mark.parametrize(
    ("room_id", "body", "status", "errcode"),
    [
        ("!nowhere:localhost", {"visibility": "public"}, 404, "M_NOT_FOUND"),
        (LOBBY, {"visibility": "secret"}, 400, "M_BAD_JSON"),
        (LOBBY, {"visibility": 1}, 400, "M_BAD_JSON"),
    ],
)
def test_a_bad_visibility_request_is_refused(
    shared_alice: httpx.Client, room_id: str, body: dict[str, Any], status: int, errcode: str
) -> None:
    assert_error(shared_alice.put(list_path(room_id), json=body), status, errcode)


def test_a_scenario_room_can_start_published(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(
        """
        mockmx: 1
        server_name: localhost
        users: [{id: alice, devices: [{id: A, access_token: alice-token}]}]
        rooms: [{id: "!hall:localhost", name: Hall, members: [alice], published: true}]
        """
    )
    with mock.client("alice-token") as alice:
        assert [room["name"] for room in public_rooms(alice)["chunk"]] == ["Hall"]


def test_the_list_pages_by_members_then_room_id(alice: httpx.Client, bob: httpx.Client) -> None:
    rooms = [create_room(alice, visibility="public", name=f"Room {n}") for n in range(3)]
    popular = create_room(alice, visibility="public", name="Popular")
    ok(bob.post(f"{V3}/join/{quote(popular, safe='')}"))
    expected = [popular, *sorted(rooms, reverse=True)]
    first = public_rooms(bob, limit=2)
    assert [room["room_id"] for room in first["chunk"]] == expected[:2]
    assert "prev_batch" not in first and first["total_room_count_estimate"] == 4
    second = public_rooms(bob, limit=2, since=first["next_batch"])
    assert [room["room_id"] for room in second["chunk"]] == expected[2:]
    assert "next_batch" not in second
    back = public_rooms(bob, limit=2, since=second["prev_batch"])
    assert [room["room_id"] for room in back["chunk"]] == expected[:2]
    assert [room["room_id"] for room in public_rooms(bob, limit=0)["chunk"]] == expected  # 0: no limit


def test_search_filters_on_name_topic_and_alias(alice: httpx.Client, bob: httpx.Client) -> None:
    create_room(alice, visibility="public", name="Cheese", topic="Tasty")
    create_room(alice, visibility="public", name="Wine", room_alias_name="grapes")

    def search(body: dict[str, Any]) -> list[str]:
        return [room.get("name", "") for room in ok(bob.post(f"{V3}/publicRooms", json=body))["chunk"]]

    assert search({"filter": {"generic_search_term": "tASTy"}}) == ["Cheese"]
    assert search({"filter": {"generic_search_term": "grape"}}) == ["Wine"]
    assert sorted(search({})) == ["Cheese", "Wine"]
    assert sorted(search({"filter": {"room_types": [None]}})) == ["Cheese", "Wine"]
    assert search({"filter": {"room_types": ["m.space"]}}) == []
    assert search({"third_party_instance_id": "irc"}) == []  # no bridges here
    page = ok(bob.post(f"{V3}/publicRooms", json={"limit": 1, "filter": {"generic_search_term": "e"}}))
    assert len(page["chunk"]) == 1 and "next_batch" in page


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"limit": "ten"}, "M_BAD_JSON"),
        ({"since": 3}, "M_BAD_JSON"),
        ({"since": "garbage"}, "M_INVALID_PARAM"),
        ({"filter": "cheese"}, "M_BAD_JSON"),
        ({"filter": {"generic_search_term": 1}}, "M_BAD_JSON"),
        ({"filter": {"room_types": [1]}}, "M_BAD_JSON"),
        ({"include_all_networks": "yes"}, "M_BAD_JSON"),
        ({"include_all_networks": True, "third_party_instance_id": "irc"}, "M_UNKNOWN"),
    ],
)
def test_a_bad_search_is_a_400(shared_bob: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_bob.post(f"{V3}/publicRooms", json=body), 400, errcode)


def test_a_bad_list_query_is_a_400(shared_bob: httpx.Client) -> None:
    assert_error(shared_bob.get(f"{V3}/publicRooms", params={"limit": "-1"}), 400, "M_INVALID_PARAM")
    assert_error(shared_bob.get(f"{V3}/publicRooms", params={"since": "x"}), 400, "M_INVALID_PARAM")
    assert_error(shared_bob.get(f"{V3}/publicRooms", params={"server": "bad host"}), 400, "M_INVALID_PARAM")


def test_another_servers_list_is_empty(shared_bob: httpx.Client) -> None:
    empty = {"chunk": [], "total_room_count_estimate": 0}
    assert public_rooms(shared_bob, server="example.org") == empty
    assert ok(shared_bob.post(f"{V3}/publicRooms", params={"server": "example.org"}, json={})) == empty
    assert public_rooms(shared_bob, server="localhost")["chunk"] == []


def test_searching_the_list_needs_a_token(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        assert_error(anonymous.post(f"{V3}/publicRooms", json={}), 401, "M_MISSING_TOKEN")
        assert_error(anonymous.put(list_path(LOBBY), json={}), 401, "M_MISSING_TOKEN")


# -- the user directory ---------------------------------------------------------------------------------------

WORLD_WITH_STRANGERS = """
mockmx: 1
server_name: localhost
users:
  - {id: alice, display_name: Alice Liddell, devices: [{id: A, access_token: alice-token}]}
  - {id: bob, display_name: Bob, devices: [{id: B, access_token: bob-token}]}
  - {id: carol, display_name: Carol}
  - {id: dave, display_name: Dave}
  - {id: erin}
rooms:
  - {id: "!private:localhost", members: [alice, bob], join_rule: invite}
  - {id: "!square:localhost", members: [dave]}
  - {id: "!closet:localhost", members: [carol], join_rule: invite}
"""


def search_users(client: httpx.Client, term: str, **body: Any) -> dict[str, Any]:
    return ok(client.post(f"{V3}/user_directory/search", json={"search_term": term, **body}))


def test_the_user_directory_finds_roommates_and_public_room_members(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(WORLD_WITH_STRANGERS)
    with mock.client("alice-token") as alice:
        assert search_users(alice, "bob") == {
            "results": [{"user_id": "@bob:localhost", "display_name": "Bob"}],
            "limited": False,
        }
        assert search_users(alice, "da") == {
            "results": [{"user_id": "@dave:localhost", "display_name": "Dave"}],  # in a public room
            "limited": False,
        }
        assert search_users(alice, "carol")["results"] == []  # shares no room, and is in no public one
        assert search_users(alice, "erin")["results"] == []
        assert search_users(alice, "alice")["results"] == []  # finds herself only through a public room
    with mock.client("bob-token") as bob:
        assert [r["user_id"] for r in search_users(bob, "LIDD")["results"]] == [ALICE]
        assert [r["user_id"] for r in search_users(bob, "alice liddell")["results"]] == ["@alice:localhost"]
        assert search_users(bob, "liddell alice x")["results"] == []
        assert search_users(bob, "@:")["results"] == []  # no word to search for


def test_the_user_directory_limits_its_results(shared_alice: httpx.Client) -> None:
    everyone = search_users(shared_alice, "localhost")
    assert {r["user_id"] for r in everyone["results"]} == {ALICE, BOB} and everyone["limited"] is False
    one = search_users(shared_alice, "localhost", limit=1)
    assert len(one["results"]) == 1 and one["limited"] is True


@pytest.mark.parametrize(
    ("body", "errcode"),
    [({}, "M_MISSING_PARAM"), ({"search_term": 1}, "M_BAD_JSON"), ({"search_term": "a", "limit": "1"}, "M_BAD_JSON")],
)
def test_a_bad_user_search_is_a_400(shared_alice: httpx.Client, body: dict[str, Any], errcode: str) -> None:
    assert_error(shared_alice.post(f"{V3}/user_directory/search", json=body), 400, errcode)


def test_guests_may_not_search_users(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        guest = ok(anonymous.post(f"{V3}/register", params={"kind": "guest"}, json={}))["access_token"]
    with shared.client(guest) as client:
        r = client.post(f"{V3}/user_directory/search", json={"search_term": "bob"})
    assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")
