"""The push rule evaluator on its own: every server-default rule against events that should and should not trigger
it, each condition kind, and user rules in their place in the order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockmx.errors import MatrixError
from mockmx.push.default_rules import KINDS, ruleset_for
from mockmx.push.evaluator import (
    LEGACY_MENTION_RULES,
    Decision,
    EventContext,
    compile_rules,
    evaluate,
    evaluate_compiled,
    lookup,
    rule_matches,
    split_key,
)
from mockmx.push.ruleset import PushRules

BOB = "@bob:localhost"
ALICE = "@alice:localhost"
ROOM = "!room:localhost"


def event(event_type: str = "m.room.message", sender: str = ALICE, **content: Any) -> dict[str, Any]:
    return {"type": event_type, "sender": sender, "room_id": ROOM, "event_id": "$e", "content": content}


def state(event_type: str, state_key: str, **content: Any) -> dict[str, Any]:
    return {**event(event_type, **content), "state_key": state_key}


def text(body: str, **extra: Any) -> dict[str, Any]:
    return event(msgtype="m.text", body=body, **extra)


def decide(
    ev: dict[str, Any],
    *,
    members: int = 3,
    sender_level: int = 0,
    levels: dict[str, Any] | None = None,
    rules: PushRules | None = None,
    display_name: str | None = "Bob Builder",
) -> Decision | None:
    context = EventContext(ev, member_count=members, sender_level=sender_level, notification_levels=levels or {})
    return evaluate((rules or PushRules()).ordered(BOB), context, BOB, display_name)


def rule_of(ev: dict[str, Any], **options: Any) -> str | None:
    decision = decide(ev, **options)
    return decision.rule_id if decision is not None else None


RELATES_EDIT = {"rel_type": "m.replace", "event_id": "$orig"}

# (default rule, an event it decides, the options, an event it does not, the options): the second falls through
# to some later rule or none, never this one.
DEFAULT_RULES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (".m.rule.suppress_notices", event(msgtype="m.notice", body="bot"), {}, text("bot"), {}),
    (
        ".m.rule.invite_for_me",
        state("m.room.member", BOB, membership="invite"),
        {},
        state("m.room.member", "@carol:localhost", membership="invite"),
        {},
    ),
    (".m.rule.member_event", state("m.room.member", ALICE, membership="join"), {}, text("join"), {}),
    (
        ".m.rule.is_user_mention",
        text("hi", **{"m.mentions": {"user_ids": [BOB]}}),
        {},
        text("hi", **{"m.mentions": {"user_ids": ["@carol:localhost"]}}),
        {},
    ),
    (".m.rule.contains_display_name", text("hey bob builder!"), {}, text("hey bob builders"), {}),
    (
        ".m.rule.is_room_mention",
        text("all", **{"m.mentions": {"room": True}}),
        {"sender_level": 50},
        text("all", **{"m.mentions": {"room": True}}),
        {"sender_level": 49},
    ),
    (".m.rule.roomnotif", text("@room hello"), {"sender_level": 50}, text("@room hello"), {"sender_level": 0}),
    (".m.rule.tombstone", state("m.room.tombstone", "", body="moved"), {}, state("m.room.tombstone", "x"), {}),
    (".m.rule.reaction", event("m.reaction"), {}, event("m.reactions"), {}),
    (".m.rule.room.server_acl", state("m.room.server_acl", ""), {}, state("m.room.server_acl", "x"), {}),
    (
        ".m.rule.suppress_edits",
        text("* fixed", **{"m.relates_to": RELATES_EDIT}),
        {},
        text("reply", **{"m.relates_to": {"rel_type": "m.reference", "event_id": "$x"}}),
        {},
    ),
    (".m.rule.contains_user_name", text("ask BOB."), {"display_name": None}, text("bobby"), {"display_name": None}),
    (".m.rule.call", event("m.call.invite"), {}, event("m.call.answer"), {}),
    (".m.rule.encrypted_room_one_to_one", event("m.room.encrypted"), {"members": 2}, event("m.room.encrypted"), {}),
    (".m.rule.room_one_to_one", text("hi"), {"members": 2}, text("hi"), {"members": 3}),
    (".m.rule.message", text("hi"), {}, event("m.sticker"), {}),
    (".m.rule.encrypted", event("m.room.encrypted"), {}, event("m.room.encrypted"), {"members": 2}),
]


def test_the_table_covers_every_default_rule() -> None:
    every = {rule["rule_id"] for kind in KINDS for rule in ruleset_for(BOB)[kind]} - {".m.rule.master"}
    assert {row[0] for row in DEFAULT_RULES} == every


@pytest.mark.parametrize(
    ("rule_id", "matching", "matching_options", "other", "other_options"),
    DEFAULT_RULES,
    ids=[r[0] for r in DEFAULT_RULES],
)
def test_default_rule_decides_its_events_and_not_others(
    rule_id: str,
    matching: dict[str, Any],
    matching_options: dict[str, Any],
    other: dict[str, Any],
    other_options: dict[str, Any],
) -> None:
    assert rule_of(matching, **matching_options) == rule_id
    assert rule_of(other, **other_options) != rule_id


@pytest.mark.parametrize(
    ("ev", "options", "notify", "tweaks"),
    [
        (text("hi"), {}, True, {}),
        (text("hi"), {"members": 2}, True, {"sound": "default"}),
        (text("bob?"), {}, True, {"sound": "default", "highlight": True}),
        (text("@room"), {"sender_level": 100}, True, {"highlight": True}),
        (event("m.call.invite"), {}, True, {"sound": "ring"}),
        (event(msgtype="m.notice", body="bob"), {}, False, {}),
        (state("m.room.member", BOB, membership="invite"), {}, True, {"sound": "default"}),
    ],
    ids=["message", "one to one", "user name", "room notif", "call", "notice", "invite"],
)
def test_actions_of_the_default_rules(ev: dict[str, Any], options: dict[str, Any], notify: bool, tweaks: Any) -> None:
    decision = decide(ev, **options)
    assert decision is not None
    assert (decision.notify, decision.tweaks) == (notify, tweaks)


def test_legacy_mention_rules_do_not_apply_to_events_with_m_mentions() -> None:
    # The spec (v1.7): display name, user name and @room rules only when the event has no `m.mentions`.
    assert rule_of(text("bob builder and bob @room", **{"m.mentions": {}}), sender_level=100) == ".m.rule.message"


def test_room_mention_needs_the_levels_notifications_room() -> None:
    mention = text("all", **{"m.mentions": {"room": True}})
    assert rule_of(mention, sender_level=20, levels={"room": 20}) == ".m.rule.is_room_mention"
    assert rule_of(mention, sender_level=20, levels={"room": 21}) == ".m.rule.message"


@pytest.mark.parametrize(
    ("condition", "ev", "expected"),
    [
        ({"kind": "event_match", "key": "content.body", "pattern": "c?ke"}, text("a cake!"), True),
        ({"kind": "event_match", "key": "content.body", "pattern": "cake"}, text("cakes"), False),
        ({"kind": "event_match", "key": "content.body", "pattern": "cake*lie"}, text("The CAKE is a lie"), True),
        ({"kind": "event_match", "key": "type", "pattern": "m.room.*"}, text("x"), True),
        ({"kind": "event_match", "key": "type", "pattern": "m.room"}, text("x"), False),
        ({"kind": "event_match", "key": "content.n", "pattern": "*"}, event(n=1), False),
        ({"kind": "event_match", "key": "content.absent", "pattern": "*"}, event(), False),
        ({"kind": "event_match", "key": "content.a\\.b", "pattern": "x"}, event(**{"a.b": "x"}), True),
        ({"kind": "event_match", "key": "content.a.b", "pattern": "x"}, event(**{"a.b": "x"}), False),
        ({"kind": "event_property_is", "key": "content.n", "value": 1}, event(n=1), True),
        ({"kind": "event_property_is", "key": "content.n", "value": True}, event(n=1), False),
        ({"kind": "event_property_is", "key": "content.n", "value": None}, event(n=None), True),
        ({"kind": "event_property_is", "key": "content.n", "value": "x"}, event(n="X"), False),
        ({"kind": "event_property_contains", "key": "content.l", "value": "b"}, event(l=["a", "b"]), True),
        ({"kind": "event_property_contains", "key": "content.l", "value": 1}, event(l=[True]), False),
        ({"kind": "event_property_contains", "key": "content.l", "value": "b"}, event(l="abc"), False),
        ({"kind": "room_member_count", "is": "<4"}, text("x"), True),
        ({"kind": "room_member_count", "is": ">=4"}, text("x"), False),
        ({"kind": "room_member_count", "is": "3"}, text("x"), True),
        ({"kind": "room_member_count", "is": "three"}, text("x"), False),
        ({"kind": "sender_notification_permission", "key": "room"}, text("x"), False),
        ({"kind": "org.example.unknown"}, text("x"), False),
        ({"kind": "contains_display_name"}, text("Bob Builder!"), True),
        ({"kind": "contains_display_name"}, text("Bob Builders"), False),
    ],
)
def test_conditions(condition: dict[str, Any], ev: dict[str, Any], expected: bool) -> None:
    rules = PushRules()
    rules.put(BOB, "override", "probe", {"conditions": [condition], "actions": ["notify"]}, before=None, after=None)
    assert (rule_of(ev, rules=rules) == "probe") is expected


def test_dotted_paths_unescape_dots_and_backslashes() -> None:
    assert split_key("content.m\\.relates_to.rel_type") == ["content", "m.relates_to", "rel_type"]
    assert split_key("a\\\\.b") == ["a\\", "b"]
    assert lookup({"a\\": {"b": 1}}, "a\\\\.b") == 1


def test_user_rules_come_before_the_defaults_of_their_kind_and_master_before_all() -> None:
    rules = PushRules()
    rules.put(BOB, "override", "mine", {"conditions": [], "actions": []}, before=None, after=None)
    order = [rule["rule_id"] for kind, rule in rules.ordered(BOB) if kind == "override"]
    assert order[:3] == [".m.rule.master", "mine", ".m.rule.suppress_notices"]
    assert rule_of(state("m.room.member", BOB, membership="invite"), rules=rules) == "mine"
    assert decide(text("hi"), rules=rules) == Decision("mine", [])


def test_master_rule_silences_everything_once_enabled() -> None:
    rules = PushRules()
    rules.set_enabled(BOB, "override", ".m.rule.master", True)
    decision = decide(text("bob!", **{"m.mentions": {"user_ids": [BOB]}}), rules=rules)
    assert decision is not None and not decision.notify


def test_room_and_sender_rules_match_their_id() -> None:
    rules = PushRules()
    rules.put(BOB, "room", ROOM, {"actions": []}, before=None, after=None)
    rules.put(
        BOB,
        "sender",
        "@carol:localhost",
        {"actions": ["notify", {"set_tweak": "sound", "value": "x"}]},
        before=None,
        after=None,
    )
    assert rule_of(text("hi"), rules=rules) == ROOM
    assert (
        rule_of({**text("hi"), "room_id": "!other:localhost", "sender": "@carol:localhost"}, rules=rules)
        == "@carol:localhost"
    )
    assert rule_of({**text("hi"), "room_id": "!other:localhost"}, rules=rules) == ".m.rule.message"


def test_legacy_actions_are_ignored() -> None:
    rules = PushRules()
    rules.put(BOB, "content", "old", {"pattern": "old", "actions": ["dont_notify"]}, before=None, after=None)
    rules.put(BOB, "content", "older", {"pattern": "older", "actions": ["notify", "coalesce"]}, before=None, after=None)
    assert decide(text("old"), rules=rules) == Decision("old", [])
    assert decide(text("older"), rules=rules) == Decision("older", ["notify"])


def test_before_and_after_place_a_rule_among_the_users_own() -> None:
    rules = PushRules()
    for rule_id in ("a", "b"):
        rules.put(BOB, "content", rule_id, {"pattern": rule_id, "actions": []}, before=None, after=None)
    rules.put(BOB, "content", "c", {"pattern": "c", "actions": []}, before=None, after="b")
    rules.put(BOB, "content", "d", {"pattern": "d", "actions": []}, before="b", after=None)
    assert [rule["rule_id"] for rule in rules.ruleset(BOB)["content"]] == [
        "d",
        "b",
        "c",
        "a",
        ".m.rule.contains_user_name",
    ]
    with pytest.raises(MatrixError) as refused:
        rules.put(BOB, "content", "e", {"pattern": "e", "actions": []}, before=".m.rule.contains_user_name", after=None)
    assert (refused.value.status, refused.value.errcode) == (400, "M_UNKNOWN")


# The long s (U+017F), which the glob's case-blind match takes for an s.
@pytest.mark.parametrize("event_type", ["m.room.message", "M.Room.Message", "m.room.me\u017f\u017fage", "m.reaction"])
def test_the_type_shortcut_answers_as_the_conditions_do(event_type: str) -> None:
    # compile_rules skips a rule whose `type` the event cannot have before testing its conditions; it must never
    # skip one the conditions would match (the glob is case-blind, and not only for ASCII letters).
    ordered = PushRules().ordered("@bob:example.org")
    context = EventContext(
        {"type": event_type, "sender": "@alice:example.org", "room_id": "!r:example.org", "content": {"body": "hi"}},
        member_count=3,
        sender_level=0,
    )
    shortcut = evaluate_compiled(compile_rules(ordered), context, "Bob")
    plain = [
        rule["rule_id"]
        for kind, rule in ordered
        if rule.get("enabled", True) and rule_matches(kind, rule, context, "Bob")
    ]
    assert (shortcut.rule_id if shortcut else None) == (plain[0] if plain else None)


# Letters whose case-blind match crosses into or out of ASCII (long s, Kelvin sign, dotted and dotless i), and ASCII.
# Drawn from few letters, so that a name is often in a body in some case.
_TRICKY = st.sampled_from(["s", "S", "\u017f", "k", "K", "\u212a", "i", "I", "\u0130", "\u0131", " ", "-", "*", "?"])
_WORD = st.lists(_TRICKY, min_size=1, max_size=3).map("".join)
_BODY = st.lists(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=8).map("".join)


@settings(max_examples=1000, deadline=None)
@given(body=_BODY, name=_WORD, pattern=_WORD)
def test_compiled_body_matches_answer_as_the_conditions_do(body: str, name: str, pattern: str) -> None:
    # The compiled tests skip the regex when an ASCII body cannot hold an ASCII pattern; they must never skip one
    # the plain conditions (a regex search, case-blind) would match.
    context = EventContext(text(body), member_count=3, sender_level=0)
    name_rule = {"rule_id": "n", "conditions": [{"kind": "contains_display_name"}], "actions": []}
    pattern_rule = {"rule_id": "p", "pattern": pattern, "actions": []}
    compiled_pair = compile_rules([("override", name_rule), ("content", pattern_rule)])
    name_test, pattern_test = compiled_pair.candidates(None, context.content_keys)
    assert name_test[0](context, name) is rule_matches("override", name_rule, context, name)
    assert pattern_test[0](context, name) is rule_matches("content", pattern_rule, context, name)


# Events of many shapes: the compiled rules skip a rule when the event lacks a content key it reads, or is of
# another type; evaluation must still come out as the rules say, tried one by one in order.
_SHAPES = [
    text("hello"),
    text("hello @room"),
    text("hi bob builder"),
    event(msgtype="m.notice", body="bot"),
    text("hi", **{"m.mentions": {"user_ids": [BOB]}}),
    text("hi", **{"m.mentions": {"room": True}}),
    text("hi", **{"m.mentions": {}}),
    text("edit", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$e"}}),
    text("reply", **{"m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}}),
    event(body=None),
    event(msgtype=None),
    {**event("m.reaction"), "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e", "key": "+"}}},
    event("m.room.encrypted", algorithm="m.megolm.v1.aes-sha2", ciphertext="x"),
    state("m.room.member", BOB, membership="invite"),
    state("m.room.tombstone", "", body="gone"),
    {"type": "m.room.message", "sender": ALICE, "room_id": ROOM, "event_id": "$e", "content": "not an object"},
    {"type": "M.Room.Message", "sender": ALICE, "room_id": ROOM, "event_id": "$e", "content": {"body": "x"}},
]
_OWN_RULES: list[tuple[str, dict[str, Any]]] = [
    (
        "override",
        {
            "rule_id": "nulls",
            "conditions": [{"kind": "event_property_is", "key": "content.body", "value": None}],
            "actions": ["notify"],
        },
    ),
    ("override", {"rule_id": "empty", "conditions": [], "actions": []}),
    (
        "underride",
        {
            "rule_id": "star",
            "conditions": [{"kind": "event_match", "key": "content.msgtype", "pattern": "*"}],
            "actions": ["notify"],
        },
    ),
    ("content", {"rule_id": "word", "pattern": "bot", "actions": ["notify"]}),
]


def _plain(ordered: list[tuple[str, dict[str, Any]]], context: EventContext, display_name: str) -> str | None:
    for kind, rule in ordered:
        if not rule.get("enabled", True):
            continue
        if context.has_mentions and rule["rule_id"] in LEGACY_MENTION_RULES and rule.get("default"):
            continue
        if rule_matches(kind, rule, context, display_name):
            return str(rule["rule_id"])
    return None


@pytest.mark.parametrize("own", [False, True])
@pytest.mark.parametrize("shape", range(len(_SHAPES)))
def test_compiled_rules_decide_as_the_rules_tried_in_order(shape: int, own: bool) -> None:
    rules = PushRules()
    ordered = rules.ordered(BOB)
    if own:
        ordered = [*ordered[:1], *_OWN_RULES, *ordered[1:]]
    compiled = compile_rules(ordered)
    for members in (2, 3):
        context = EventContext(_SHAPES[shape], member_count=members, sender_level=50)
        decision = evaluate_compiled(compiled, context, "Bob Builder")
        assert (decision.rule_id if decision else None) == _plain(ordered, context, "Bob Builder")
