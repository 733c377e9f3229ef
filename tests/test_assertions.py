"""Notification assertions (mockmx.verify) and `mockmx verify`: what differs, worded so a reader sees it at once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockmx.cli import main
from mockmx.push.gateway import Gateway
from mockmx.record import load_recording, load_recording_text
from mockmx.testing import MockmxServer
from mockmx.verify import (
    DEFAULT_IGNORE,
    assert_notifications,
    compare_notifications,
    describe,
    notifications_of,
    pushed_in,
    read_notifications,
)
from mockmx.verify.paths import IgnoreList

ROOT = Path(__file__).resolve().parents[1]
SESSION = ROOT / "recordings" / "synapse-session.yaml"
ROOM = "!pjrRv3urtlTBl9LoTgDVOOtVwzFepNTn6Y5otOUFdPU"
IGNORING = "ignoring event_id, id, devices[*].pushkey_ts"


def recorded() -> list[dict[str, Any]]:
    """The two notifications Synapse pushed in the example recording: bob's invite, then alice's message."""
    return copy.deepcopy(pushed_in(load_recording(SESSION)))


def message(body: str, *, unread: int = 1, pushkey: str = "bob-phone-pushkey", **extra: Any) -> dict[str, Any]:
    """A notification for a message from alice in the lobby, shaped as the mock's push sender shapes it."""
    return {
        "event_id": f"$event-{body}",
        "room_id": "!lobby:localhost",
        "type": "m.room.message",
        "sender": "@alice:localhost",
        "sender_display_name": "Alice",
        "content": {"msgtype": "m.text", "body": body},
        "prio": "low",
        "counts": {"unread": unread},
        "devices": [
            {"app_id": "org.example.mockmx", "pushkey": pushkey, "pushkey_ts": 1700000000, "tweaks": {}, "data": {}}
        ],
        **extra,
    }


def test_the_recordings_push_leg_is_what_it_pushed() -> None:
    notifications = recorded()
    assert [describe(n) for n in notifications] == [
        f"m.room.member from @recalice:localhost in {ROOM} to PUSHKEY_REC_BOB",
        f"m.room.message from @recalice:localhost in {ROOM} to PUSHKEY_REC_BOB: 'recorded'",
    ]
    assert_notifications(notifications, load_recording(SESSION))
    assert compare_notifications(notifications, SESSION).report() == f"2 notifications sent, as expected ({IGNORING})"


def test_a_changed_field_is_named_with_both_values() -> None:
    actual = recorded()
    del actual[1]["devices"][0]["tweaks"]["sound"]
    actual[1]["counts"]["unread"] = 2
    with pytest.raises(AssertionError) as caught:
        assert_notifications(actual, load_recording(SESSION))
    assert str(caught.value) == "\n".join(
        [
            f"notifications differ: 2 notifications expected, 2 sent ({IGNORING})",
            "  notification 2: counts.unread: expected 1, got 2",
            "  notification 2: devices[0].tweaks.sound: expected 'default', got <missing>",
        ]
    )


def test_null_is_not_missing_and_true_is_not_one() -> None:
    actual = [message("hi", prio=None, user_is_target=1)]
    expected = [message("hi", prio="low", user_is_target=True)]
    assert compare_notifications(actual, expected).problems == [
        "notification 1: prio: expected 'low', got None",
        "notification 1: user_is_target: expected True, got 1",
    ]


def test_one_missing_notification_does_not_make_the_later_ones_differ() -> None:
    expected = [message("one"), message("two", unread=2), message("three", unread=3)]
    actual = [message("one"), message("three", unread=3)]
    assert compare_notifications(actual, expected).report() == "\n".join(
        [
            f"notifications differ: 3 notifications expected, 2 sent ({IGNORING})",
            "  notification 2: not sent: m.room.message from @alice:localhost in !lobby:localhost"
            " to bob-phone-pushkey: 'two'",
        ]
    )


def test_an_unexpected_notification_and_a_shifted_changed_one() -> None:
    invite = {**message("x"), "type": "m.room.member", "content": {"membership": "invite"}}
    expected = [message("one"), message("two", unread=2)]
    actual = [message("one"), invite, message("two", unread=3)]
    assert compare_notifications(actual, expected).problems == [
        "sent notification 2: not expected: m.room.member from @alice:localhost in !lobby:localhost"
        " to bob-phone-pushkey",
        "notification 2 (sent as 3): counts.unread: expected 2, got 3",
    ]


def test_volatile_fields_are_ignored_by_default_and_the_list_is_explicit() -> None:
    actual = [message("hi")]
    expected = [message("hi")]
    expected[0]["event_id"] = "$another"
    expected[0]["devices"][0]["pushkey_ts"] = 1
    assert DEFAULT_IGNORE == ("event_id", "id", "devices[*].pushkey_ts")
    assert_notifications(actual, expected)
    assert compare_notifications(actual, expected, ignore=["event_id"]).problems == [
        "notification 1: devices[0].pushkey_ts: expected 1, got 1700000000"
    ]
    assert compare_notifications(actual, expected, ignore=()).report() == "\n".join(
        [
            "notifications differ: 1 notification expected, 1 sent (ignoring nothing)",
            "  notification 1: event_id: expected '$another', got '$event-hi'",
            "  notification 1: devices[0].pushkey_ts: expected 1, got 1700000000",
        ]
    )
    # Room ids are compared unless asked otherwise.
    moved = [message("hi", room_id="!elsewhere:localhost")]
    assert not compare_notifications(moved, actual).ok
    assert_notifications(moved, actual, ignore=(*DEFAULT_IGNORE, "room_id"))


@pytest.mark.parametrize(
    ("pattern", "path", "covered"),
    [
        ("event_id", ("event_id",), True),
        ("event_id", ("content", "event_id"), False),
        ("devices[*].pushkey_ts", ("devices", 3, "pushkey_ts"), True),
        ("devices[].pushkey_ts", ("devices", 0, "pushkey_ts"), True),
        ("devices[1].pushkey_ts", ("devices", 0, "pushkey_ts"), False),
        ("content['m.relates_to'].event_id", ("content", "m.relates_to", "event_id"), True),
        ('content["m.relates_to"]', ("content", "m.relates_to"), True),
        ("content.*", ("content", "body"), True),
        ("content.*", ("content",), False),
    ],
)
def test_ignore_paths_read_as_the_diff_prints_them(pattern: str, path: tuple[str | int, ...], covered: bool) -> None:
    assert IgnoreList([pattern]).covers(path) is covered


@pytest.mark.parametrize("pattern", ["", ".event_id", "devices[x]", "content['m.relates_to", "a..b"])
def test_an_unreadable_ignore_path_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="field path"):
        IgnoreList([pattern])


def test_ignoring_a_field_ignores_what_is_below_it() -> None:
    actual = [message("hi", content={"body": "hi", "m.relates_to": {"event_id": "$a"}})]
    expected = [message("hi", content={"body": "hi", "m.relates_to": {"event_id": "$b"}})]
    assert compare_notifications(actual, expected).problems == [
        "notification 1: content['m.relates_to'].event_id: expected '$b', got '$a'"
    ]
    assert_notifications(actual, expected, ignore=(*DEFAULT_IGNORE, "content['m.relates_to'].event_id"))
    assert_notifications(actual, expected, ignore=(*DEFAULT_IGNORE, "content"))


def test_a_partial_expectation_compares_only_the_fields_it_gives() -> None:
    actual = [message("hi"), message("again", unread=2)]
    expected: list[dict[str, Any]] = [
        {"type": "m.room.message", "content": {"body": "hi"}},
        {"content": {"body": "again"}, "counts": {"unread": 3}, "devices": [{"pushkey": "bob-phone-pushkey"}]},
    ]
    assert compare_notifications(actual, expected, partial=True).problems == [
        "notification 2: counts.unread: expected 3, got 2"
    ]
    # Lists still have to match in length: a notification to a second device is a difference.
    expected[1]["counts"]["unread"] = 2
    expected[1]["devices"].append({"pushkey": "laptop"})
    assert compare_notifications(actual, expected, partial=True).problems == [
        "notification 2: devices[1]: expected {'pushkey': 'laptop'}, got <missing>"
    ]


def test_any_order_pairs_each_expected_one_with_its_closest() -> None:
    expected = [message("one", pushkey="phone"), message("one", pushkey="laptop")]
    actual = [message("one", pushkey="laptop"), message("one", pushkey="phone")]
    assert not compare_notifications(actual, expected).ok
    assert_notifications(actual, expected, ordered=False)
    actual[1]["counts"]["unread"] = 5
    assert compare_notifications(actual, expected, ordered=False).problems == [
        "notification 1 (sent as 2): counts.unread: expected 1, got 5"
    ]


def test_the_journal_in_every_form_it_comes_in() -> None:
    gateway = Gateway()
    for body in ("one", "two"):
        gateway.accept(message(body), "127.0.0.1:1", None)
    gateway.accept(message("one"), "127.0.0.1:1", None)  # a retry: kept once
    entries = gateway.notifications()
    journal = {"notifications": [entry.to_json() for entry in entries]}
    bodies = [message("one"), message("two")]
    assert notifications_of(entries) == bodies
    assert notifications_of(journal) == bodies
    assert notifications_of(journal["notifications"]) == bodies
    assert notifications_of([{"notification": body} for body in bodies]) == bodies  # /notify request bodies
    with pytest.raises(TypeError, match="expected a list of notifications"):
        notifications_of({"not": "a journal"})


def test_a_recordings_retries_count_once_and_refused_bodies_not_at_all() -> None:
    flow = """
- id: {id}
  leg: push
  at: 0.{id}
  took: 0.001
  request:
    method: POST
    path: /_matrix/push/v1/notify
    headers: {{content-type: application/json}}
    body: {body}
  response: {{status: {status}, headers: {{}}, body: {{}}}}
"""
    notification = json.dumps({"notification": message("hi")})
    text = "mockmx_recording: 1\nstarted_at: '2026-01-01T00:00:00.000Z'\nupstreams: {client: 'http://hs'}\nflows:"
    text += flow.format(id=1, body=notification, status=502)  # the gateway failed; the homeserver retried
    text += flow.format(id=2, body=notification, status=200)
    text += flow.format(id=3, body=json.dumps({"notification": {"devices": []}}), status=400)
    assert pushed_in(load_recording_text(text)) == [message("hi")]


def test_files_of_every_kind_are_read(tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"notifications": [{"seq": 1, "notification": message("hi")}]}))
    listed = tmp_path / "expected.yaml"
    listed.write_text(yaml.safe_dump([message("hi")]))
    assert read_notifications(journal) == read_notifications(listed) == [message("hi")]
    assert read_notifications(SESSION) == recorded()
    broken = tmp_path / "broken.yaml"
    broken.write_text("mockmx_recording: 1\nflows: [\n")
    with pytest.raises(ValueError, match=r"broken\.yaml"):
        read_notifications(broken)
    with pytest.raises(ValueError, match=r"missing\.yaml: cannot read the file"):
        read_notifications(tmp_path / "missing.yaml")


def test_verify_passes_on_the_same_notifications(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"notifications": [{"notification": n} for n in recorded()]}))
    assert main(["verify", str(SESSION), str(journal)]) == 0
    assert capsys.readouterr().out == f"2 notifications sent, as expected ({IGNORING})\n"


def test_verify_fails_with_the_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sent = recorded()
    sent[0]["devices"][0]["tweaks"]["sound"] = None
    sent[1]["room_id"] = "!other:localhost"
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"notifications": [{"notification": n} for n in sent]}))
    assert main(["verify", str(SESSION), str(journal)]) == 1
    assert capsys.readouterr().out == "\n".join(
        [
            f"notifications differ: 2 notifications expected, 2 sent ({IGNORING})",
            "  notification 1: devices[0].tweaks.sound: expected 'default', got None",
            f"  notification 2: room_id: expected '{ROOM}', got '!other:localhost'",
            "",
        ]
    )
    assert main(["verify", str(SESSION), str(journal), "--ignore", "room_id", "--ignore", "devices"]) == 0
    capsys.readouterr()
    assert main(["verify", str(SESSION), str(journal), "--no-default-ignore", "--ignore", "devices"]) == 1
    assert "notification 2: room_id" in capsys.readouterr().out


def test_verify_against_a_running_mock(
    mockmx_server: MockmxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mockmx_server.client("alice-token") as alice:
        for txn, body in (("v1", "hello bob"), ("v2", "still there?")):
            r = alice.put(f"/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/{txn}", json={"body": body})
            assert r.status_code == 200, r.text
    mockmx_server.wait_for_notifications(2)
    expected = tmp_path / "expected.yaml"
    expected.write_text(
        "- {type: m.room.message, sender: '@alice:localhost', content: {body: hello bob}, counts: {unread: 1}}\n"
        "- {type: m.room.message, sender: '@alice:localhost', content: {body: still there?}, counts: {unread: 1}}\n"
    )
    url = f"{mockmx_server.url}/_mockmx/notifications"
    assert main(["verify", "--partial", str(expected), url]) == 1
    assert capsys.readouterr().out == "\n".join(
        [
            f"notifications differ: 2 notifications expected, 2 sent ({IGNORING})",
            "  notification 2: counts.unread: expected 1, got 2",
            "",
        ]
    )
    expected.write_text(
        expected.read_text().replace("still there?}, counts: {unread: 1}", "still there?}, counts: {unread: 2}")
    )
    assert main(["verify", "--partial", str(expected), url + "?pushkey=bob-phone-pushkey"]) == 0
    # A journal saved from a running mock serves as the expectation for another run.
    journal = tmp_path / "journal.json"
    with mockmx_server.client() as client:
        journal.write_text(client.get("/_mockmx/notifications").text)
    assert main(["verify", str(journal), url]) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nowhere.yaml", "recordings/synapse-session.yaml"], "nowhere.yaml: cannot read the file"),
        (["recordings/synapse-session.yaml", "http://127.0.0.1:9/_mockmx/notifications"], "http://127.0.0.1:9"),
        (["recordings/synapse-session.yaml", "README.md"], "README.md"),
    ],
)
def test_verify_exits_2_on_what_it_cannot_read(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["verify", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mockmx verify: ") and message in captured.err, captured.err
