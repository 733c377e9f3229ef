"""What push rules drive, on the wire: the pushes bob's pusher sends (to the mock's own gateway), their tweaks, prio
and counts, badge-only pushes after a read receipt, `/sync`'s unread counts and `GET /notifications`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import LiveServer

V3 = "/_matrix/client/v3"
CROWD = "!crowd:localhost"
PLAIN = "!plain:localhost"
ALICE = "@alice:localhost"
CAROL = "@carol:localhost"

SCENARIO = """
server_name: localhost
push: {{backoff: 0.05s, max_backoff: 1s{push}}}
users:
  - id: alice
    display_name: Alice
    devices: [{{id: A, access_token: alice-token}}]
  - id: bob
    display_name: Bob
    devices: [{{id: B, access_token: bob-token}}]
    pushers:
      - {{app_id: org.example, pushkey: BOBKEY, url: /_matrix/push/v1/notify}}
  - id: carol
    devices: [{{id: C, access_token: carol-token}}]
rooms:
  - {{id: "!crowd:localhost", members: [alice, bob, carol]}}
  - {{id: "!plain:localhost", members: [alice, bob, carol]}}
"""


@pytest.fixture
def world(serve_yaml: Callable[[str], LiveServer]) -> LiveServer:
    return serve_yaml(SCENARIO.format(push=""))


def send(live: LiveServer, token: str, room_id: str, body: str, **extra: Any) -> str:
    with live.client(token) as client:
        r = client.put(
            f"{V3}/rooms/{quote(room_id)}/send/m.room.message/t{time.monotonic_ns()}",
            json={"msgtype": "m.text", "body": body, **extra},
        )
    assert r.status_code == 200, r.text
    event_id: str = r.json()["event_id"]
    return event_id


def pushes(live: LiveServer, count: int) -> list[dict[str, Any]]:
    """The gateway's notifications once there are `count` (and exactly that many)."""
    deadline = time.monotonic() + 10
    while True:
        kept = [entry.notification for entry in live.gateway.notifications()]
        if len(kept) >= count or time.monotonic() > deadline:
            assert len(kept) == count, json.dumps(kept, indent=1)
            return kept
        time.sleep(0.01)


def put_rule(live: LiveServer, path: str, body: dict[str, Any]) -> None:
    with live.client("bob-token") as bob:
        r = bob.put(f"{V3}/pushrules/global/{path}", json=body)
    assert r.status_code == 200, r.text


def bob_sync(live: LiveServer, **params: Any) -> dict[str, Any]:
    with live.client("bob-token") as bob:
        r = bob.get(f"{V3}/sync", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def unread(live: LiveServer, room_id: str) -> dict[str, int]:
    counts: dict[str, int] = bob_sync(live)["rooms"]["join"][room_id]["unread_notifications"]
    return counts


def read_receipt(live: LiveServer, room_id: str, event_id: str, **body: Any) -> None:
    with live.client("bob-token") as bob:
        r = bob.post(f"{V3}/rooms/{quote(room_id)}/receipt/m.read/{quote(event_id)}", json=body)
    assert r.status_code == 200, r.text


def notifications(live: LiveServer, **params: Any) -> dict[str, Any]:
    with live.client("bob-token") as bob:
        r = bob.get(f"{V3}/notifications", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_keyword_rule_highlights_and_shows_everywhere(world: LiveServer) -> None:
    put_rule(world, "content/cake", {"pattern": "cake", "actions": ["notify", {"set_tweak": "highlight"}]})
    event_id = send(world, "alice-token", CROWD, "Cake time!")
    [push] = pushes(world, 1)
    assert push["event_id"] == event_id
    assert (push["devices"][0]["tweaks"], push["prio"], push["counts"]) == ({"highlight": True}, "high", {"unread": 1})
    assert unread(world, CROWD) == {"notification_count": 1, "highlight_count": 1}
    listed = notifications(world, only="highlight")
    assert [(n["event"]["event_id"], n["room_id"], n["read"]) for n in listed["notifications"]] == [
        (event_id, CROWD, False)
    ]
    assert listed["notifications"][0]["actions"] == ["notify", {"set_tweak": "highlight"}]
    assert "next_token" not in listed


def test_a_muted_room_pushes_nothing_and_counts_nothing(world: LiveServer) -> None:
    put_rule(world, f"room/{quote(CROWD)}", {"actions": []})
    send(world, "alice-token", CROWD, "into the void")
    sentinel = send(world, "alice-token", PLAIN, "but here")
    assert [push["event_id"] for push in pushes(world, 1)] == [sentinel]
    assert unread(world, CROWD) == {"notification_count": 0, "highlight_count": 0}


def test_a_sender_rule_follows_the_events_sender(world: LiveServer) -> None:
    # The spec: a sender rule matches the event's `sender` (Synapse's never fire).
    put_rule(world, f"sender/{quote(CAROL)}", {"actions": ["notify", {"set_tweak": "sound", "value": "carol"}]})
    from_carol = send(world, "carol-token", CROWD, "it's me")
    from_alice = send(world, "alice-token", CROWD, "and me")
    first, second = pushes(world, 2)
    assert (first["event_id"], first["devices"][0]["tweaks"], first["prio"]) == (from_carol, {"sound": "carol"}, "high")
    assert (second["event_id"], "tweaks" in second["devices"][0], second["prio"]) == (from_alice, False, "low")


def test_master_rule_stops_every_push_until_disabled(world: LiveServer) -> None:
    put_rule(world, "override/.m.rule.master/enabled", {"enabled": True})
    send(world, "alice-token", CROWD, "bob! @room", **{"m.mentions": {"user_ids": ["@bob:localhost"]}})
    assert notifications(world)["notifications"] == []
    put_rule(world, "override/.m.rule.master/enabled", {"enabled": False})
    after = send(world, "alice-token", CROWD, "again")
    assert [push["event_id"] for push in pushes(world, 1)] == [after]


def test_changing_a_default_rules_actions(world: LiveServer) -> None:
    put_rule(world, "underride/.m.rule.message/actions", {"actions": []})
    send(world, "alice-token", CROWD, "quiet now")
    put_rule(world, "underride/.m.rule.message/actions", {"actions": ["notify", {"set_tweak": "sound", "value": "x"}]})
    loud = send(world, "alice-token", CROWD, "loud now")
    [push] = pushes(world, 1)
    assert (push["event_id"], push["devices"][0]["tweaks"], push["prio"]) == (loud, {"sound": "x"}, "high")


def test_counts_follow_messages_and_receipts_with_badge_only_pushes(world: LiveServer) -> None:
    first = send(world, "alice-token", CROWD, "one")
    second = send(world, "alice-token", CROWD, "two")
    third = send(world, "alice-token", PLAIN, "three")
    send(world, "bob-token", CROWD, "bob's own: no push, no count")
    assert [p["counts"] for p in pushes(world, 3)] == [{"unread": 1}, {"unread": 2}, {"unread": 3}]
    assert unread(world, CROWD) == {"notification_count": 2, "highlight_count": 0}
    assert unread(world, PLAIN) == {"notification_count": 1, "highlight_count": 0}
    read_receipt(world, CROWD, first)
    badge = pushes(world, 4)[3]
    # Synapse's badge update, without `type` (the spec types it a string; Synapse sends null).
    assert {key: value for key, value in badge.items() if key != "devices"} == {
        "id": "",
        "sender": "",
        "counts": {"unread": 2},
    }
    assert [(d["app_id"], d["pushkey"]) for d in badge["devices"]] == [("org.example", "BOBKEY")]
    assert unread(world, CROWD) == {"notification_count": 1, "highlight_count": 0}
    read_receipt(world, CROWD, second)
    read_receipt(world, PLAIN, third)
    # Zero counts are left out, as the push gateway spec asks.
    assert [p["counts"] for p in pushes(world, 6)[4:]] == [{"unread": 1}, {}]
    assert unread(world, PLAIN) == {"notification_count": 0, "highlight_count": 0}
    assert [n["read"] for n in notifications(world)["notifications"]] == [True, True, True]


def test_rooms_mode_counts_rooms_with_unread_notifications(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO.format(push=", unread_count: rooms"))
    send(live, "alice-token", CROWD, "one")
    send(live, "alice-token", CROWD, "two")
    send(live, "alice-token", PLAIN, "three")
    assert [p["counts"] for p in pushes(live, 3)] == [{"unread": 1}, {"unread": 1}, {"unread": 2}]


def test_notifications_page_back_newest_first(world: LiveServer) -> None:
    sent = [send(world, "alice-token", CROWD, f"message {n}") for n in range(3)]
    page = notifications(world, limit=2)
    assert [n["event"]["event_id"] for n in page["notifications"]] == [sent[2], sent[1]]
    assert "room_id" not in page["notifications"][0]["event"]
    rest = notifications(world, limit=2, **{"from": page["next_token"]})
    assert [n["event"]["event_id"] for n in rest["notifications"]] == [sent[0]]
    assert "next_token" not in rest
    with world.client("bob-token") as bob:
        r = bob.get(f"{V3}/notifications", params={"from": "x"})
        assert r.status_code == 400, r.text


def test_thread_counts_when_the_filter_asks(world: LiveServer) -> None:
    root = send(world, "alice-token", CROWD, "root")
    in_thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    reply = send(world, "alice-token", CROWD, "in thread", **in_thread)
    send(world, "alice-token", CROWD, "in thread too", **in_thread)
    threads = json.dumps({"room": {"timeline": {"unread_thread_notifications": True}}})
    room = bob_sync(world, filter=threads)["rooms"]["join"][CROWD]
    assert room["unread_notifications"] == {"notification_count": 1, "highlight_count": 0}
    assert room["unread_thread_notifications"] == {root: {"notification_count": 2, "highlight_count": 0}}
    assert unread(world, CROWD) == {"notification_count": 3, "highlight_count": 0}
    read_receipt(world, CROWD, reply, thread_id=root)
    room = bob_sync(world, filter=threads)["rooms"]["join"][CROWD]
    assert room["unread_thread_notifications"] == {root: {"notification_count": 1, "highlight_count": 0}}
    assert room["unread_notifications"] == {"notification_count": 1, "highlight_count": 0}
    with world.client("bob-token") as bob:
        r = bob.get(
            f"{V3}/sync", params={"filter": json.dumps({"room": {"timeline": {"unread_thread_notifications": 1}}})}
        )
    assert r.status_code == 400, r.text


def test_an_invite_notifies_and_counts_until_answered(world: LiveServer) -> None:
    with world.client("alice-token") as alice:
        r = alice.post(f"{V3}/createRoom", json={"invite": ["@bob:localhost"]})
    assert r.status_code == 200, r.text
    [push] = pushes(world, 1)
    assert (push["type"], push["membership"], push["user_is_target"]) == ("m.room.member", "invite", True)
    assert (push["devices"][0]["tweaks"], push["counts"]) == ({"sound": "default"}, {"unread": 1})


def test_notifications_need_an_account(world: LiveServer) -> None:
    with httpx.Client(base_url=world.url) as anonymous:
        r = anonymous.get(f"{V3}/notifications")
    assert r.status_code == 401, r.text


def test_who_is_notified_follows_the_room_s_membership(world: LiveServer) -> None:
    def carols_notified() -> list[str]:
        with world.client("carol-token") as carol:
            r = carol.get(f"{V3}/notifications")
        assert r.status_code == 200, r.text
        return [n["event"]["content"].get("body", n["event"]["type"]) for n in r.json()["notifications"]]

    send(world, "alice-token", CROWD, "before")
    with world.client("carol-token") as carol:
        r = carol.post(f"{V3}/rooms/{quote(CROWD)}/leave", json={})
        assert r.status_code == 200, r.text
        send(world, "alice-token", CROWD, "while away")
        with world.client("alice-token") as alice:
            r = alice.post(f"{V3}/rooms/{quote(CROWD)}/invite", json={"user_id": CAROL})
        assert r.status_code == 200, r.text
        r = carol.post(f"{V3}/rooms/{quote(CROWD)}/join", json={})
        assert r.status_code == 200, r.text
    send(world, "alice-token", CROWD, "back")
    assert [body for body in carols_notified() if body in ("before", "while away", "back")] == ["back", "before"]


def bobs_last_notification(live: LiveServer) -> tuple[str, list[Any]]:
    """The body and actions of bob's newest notification."""
    newest = notifications(live, limit=1)["notifications"][0]
    return newest["event"]["content"].get("body"), newest["actions"]


def test_what_notifies_follows_a_display_name_change_power_levels_and_rules(world: LiveServer) -> None:
    # Each change comes after an event the room's members were evaluated for, and must count from the next one.
    send(world, "alice-token", PLAIN, "warming up")
    with world.client("bob-token") as bob:
        r = bob.put(f"{V3}/profile/{quote('@bob:localhost')}/displayname", json={"displayname": "Robert"})
    assert r.status_code == 200, r.text
    send(world, "alice-token", PLAIN, "thanks Robert")
    assert bobs_last_notification(world) == (
        "thanks Robert",
        ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}],
    )

    send(world, "carol-token", PLAIN, "@room one")  # carol's level is below what @room needs
    assert bobs_last_notification(world) == ("@room one", ["notify"])
    with world.client("alice-token") as alice:
        r = alice.get(f"{V3}/rooms/{quote(PLAIN)}/state/m.room.power_levels")
        assert r.status_code == 200, r.text
        r = alice.put(
            f"{V3}/rooms/{quote(PLAIN)}/state/m.room.power_levels", json={**r.json(), "notifications": {"room": 0}}
        )
        assert r.status_code == 200, r.text
    send(world, "carol-token", PLAIN, "@room two")
    assert bobs_last_notification(world) == ("@room two", ["notify", {"set_tweak": "highlight"}])

    put_rule(world, f"room/{quote(PLAIN)}", {"actions": []})
    send(world, "alice-token", PLAIN, "muted now")
    assert bobs_last_notification(world)[0] == "@room two"


def test_a_redacted_member_event_takes_its_display_name_out_of_the_rules(world: LiveServer) -> None:
    with world.client("bob-token") as bob:
        r = bob.put(f"{V3}/profile/{quote('@bob:localhost')}/displayname", json={"displayname": "Robert"})
        assert r.status_code == 200, r.text
    send(world, "alice-token", PLAIN, "thanks Robert")
    assert {"set_tweak": "highlight"} in bobs_last_notification(world)[1]
    with world.client("alice-token") as alice:
        r = alice.get(f"{V3}/rooms/{quote(PLAIN)}/state")
        assert r.status_code == 200, r.text
        [member] = [e for e in r.json() if e["type"] == "m.room.member" and e["state_key"] == "@bob:localhost"]
        r = alice.put(f"{V3}/rooms/{quote(PLAIN)}/redact/{quote(member['event_id'])}/strip", json={})
        assert r.status_code == 200, r.text
    send(world, "alice-token", PLAIN, "thanks again Robert")
    assert bobs_last_notification(world) == ("thanks again Robert", ["notify"])


def test_a_redacted_event_notifies_no_more(world: LiveServer) -> None:
    # As Synapse, which deletes a redacted event's push actions: it leaves /notifications and the unread counts.
    kept = send(world, "alice-token", PLAIN, "stays")
    gone = send(world, "alice-token", PLAIN, "oops")
    assert unread(world, PLAIN) == {"notification_count": 2, "highlight_count": 0}
    with world.client("alice-token") as alice:
        r = alice.put(f"{V3}/rooms/{quote(PLAIN)}/redact/{quote(gone)}/undo", json={})
    assert r.status_code == 200, r.text
    assert unread(world, PLAIN) == {"notification_count": 1, "highlight_count": 0}
    assert [n["event"]["event_id"] for n in notifications(world)["notifications"]] == [kept]
