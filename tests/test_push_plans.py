"""Plans (a ruleset's tests for one shape of event as one generated function) decide as `evaluate_compiled` does:
on events of every shape, with rules of every condition kind, and on arbitrary bodies, names and patterns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from mockmx.homeserver.rooms import Event
from mockmx.push.evaluator import EventContext, compile_rules, evaluate_compiled
from mockmx.push.plans import event_properties
from mockmx.push.ruleset import PushRules
from tests.test_push_evaluator import _BODY, _OWN_RULES, _SHAPES, _WORD, ALICE, BOB, ROOM

Ordered = list[tuple[str, dict[str, Any]]]


def _stored(properties: dict[str, Any]) -> Event:
    """An event as the homeserver stores it, from its properties as conditions see them."""
    return Event(
        7,
        properties.get("event_id", "$e"),
        properties["room_id"],
        properties["sender"],
        properties["type"],
        properties["content"],
        1_700_000_000_000,
        properties.get("state_key"),
    )


def _both(ordered: Ordered, stored: Event, *, members: int, level: int, levels: dict[str, Any], name: str | None):
    """(the plan's decision, evaluate_compiled's) for one event, as rule ids."""
    compiled = compile_rules(ordered)
    content = stored.content if isinstance(stored.content, dict) else {}
    body = content.get("body") if isinstance(content.get("body"), str) else None
    lowered = body.lower() if body is not None and body.isascii() else None
    context = EventContext(
        event_properties(stored, stored.content), member_count=members, sender_level=level, notification_levels=levels
    )
    plan = compiled.plan(context.folded_type, context.content_keys)
    planned = plan(stored, content, body, lowered, members, level, levels, name)
    reference = evaluate_compiled(compiled, context, name)
    return (planned.rule_id if planned else None), (reference.rule_id if reference else None)


@pytest.mark.parametrize("own", [False, True])
@pytest.mark.parametrize("shape", range(len(_SHAPES)))
def test_a_plan_decides_as_the_compiled_rules_on_every_shape(shape: int, own: bool) -> None:
    ordered = PushRules().ordered(BOB)
    if own:
        ordered = [*ordered[:1], *_OWN_RULES, *ordered[1:]]
    stored = _stored(_SHAPES[shape])
    for members in (2, 3):
        for level in (0, 50, 100):
            for levels in ({}, {"room": 100}, {"room": "high"}):
                for name in ("Bob Builder", "bob", None, ""):
                    planned, reference = _both(ordered, stored, members=members, level=level, levels=levels, name=name)
                    assert planned == reference, (members, level, levels, name)


def _rule(rule_id: str, *conditions: Any) -> tuple[str, dict[str, Any]]:
    return ("override", {"rule_id": rule_id, "conditions": list(conditions), "actions": ["notify"]})


# A rule per kind of condition and key, each alone so that the first that holds names it.
_CONDITIONS: Ordered = [
    _rule("type", {"kind": "event_match", "key": "type", "pattern": "m.room.*"}),
    _rule("sender", {"kind": "event_match", "key": "sender", "pattern": ALICE}),
    _rule("state key", {"kind": "event_match", "key": "state_key", "pattern": "*"}),
    _rule("no state key", {"kind": "event_property_is", "key": "state_key", "value": None}),
    _rule("room id", {"kind": "event_match", "key": "room_id", "pattern": ROOM}),
    _rule("deep", {"kind": "event_match", "key": "content.a.b", "pattern": "x?z"}),
    _rule("deeper", {"kind": "event_match", "key": "content.a.b.c", "pattern": "*"}),
    _rule("dotted", {"kind": "event_match", "key": "content.m\\.key", "pattern": "v"}),
    _rule("literal", {"kind": "event_match", "key": "content.word", "pattern": "ok"}),
    _rule("unsigned", {"kind": "event_match", "key": "unsigned.age", "pattern": "*"}),
    _rule("under a string", {"kind": "event_match", "key": "type.x", "pattern": "*"}),
    _rule("is true", {"kind": "event_property_is", "key": "content.flag", "value": True}),
    _rule("is one", {"kind": "event_property_is", "key": "content.flag", "value": 1}),
    _rule("is null", {"kind": "event_property_is", "key": "content.none", "value": None}),
    _rule("contains", {"kind": "event_property_contains", "key": "content.list", "value": "b"}),
    _rule("contains one", {"kind": "event_property_contains", "key": "content.list", "value": 1}),
    _rule("no value", {"kind": "event_property_is", "key": "content.flag"}),
    _rule("malformed count", {"kind": "room_member_count", "is": "about 3"}),
    _rule("permission", {"kind": "sender_notification_permission", "key": "room"}),
    _rule("permission without key", {"kind": "sender_notification_permission"}),
    _rule("unknown", {"kind": "something_new"}),
    _rule("not a condition", "event_match"),
    _rule("two", {"kind": "room_member_count", "is": ">=3"}, {"kind": "contains_display_name"}),
    ("room", {"rule_id": ROOM, "actions": ["notify"]}),
    ("sender", {"rule_id": ALICE, "actions": ["notify"]}),
    ("content", {"rule_id": "no pattern", "actions": ["notify"]}),
]
_CONTENTS = [
    {"a": {"b": "xyz"}},
    {"a": {"b": {"c": 1}}},
    {"m.key": "V"},
    {"word": "OK"},
    {"word": "o\u212a"},  # the Kelvin sign, which a case-blind match takes for a k
    {"word": "oks"},
    {"flag": True},
    {"flag": 1},
    {"none": None},
    {"list": ["a", "b"]},
    {"list": [True, 1]},
    {"body": "hello Bob Builder"},
    {},
]


@pytest.mark.parametrize("content", _CONTENTS)
@pytest.mark.parametrize("start", range(len(_CONDITIONS)))
def test_a_plan_decides_as_the_compiled_rules_for_every_condition(start: int, content: dict[str, Any]) -> None:
    # The rules from `start` on: each run finds the first of them that holds, so every rule is the first once.
    ordered = _CONDITIONS[start:]
    for properties in (
        {"type": "m.room.message", "sender": ALICE, "room_id": ROOM, "content": content},
        {"type": "x.other", "sender": BOB, "room_id": "!else:x", "content": content, "state_key": ""},
    ):
        for members, level in ((2, 0), (3, 50), (4, 100)):
            planned, reference = _both(
                ordered, _stored(properties), members=members, level=level, levels={"room": 50}, name="Bob Builder"
            )
            assert planned == reference, (properties, members, level)


@settings(max_examples=500, deadline=None)
@given(body=_BODY, name=_WORD, pattern=_WORD)
def test_a_plan_matches_bodies_as_the_compiled_rules_do(body: str, name: str, pattern: str) -> None:
    for ordered in (
        [("override", {"rule_id": "n", "conditions": [{"kind": "contains_display_name"}], "actions": ["notify"]})],
        [("content", {"rule_id": "p", "pattern": pattern, "actions": ["notify"]})],
    ):
        stored = _stored({"type": "m.room.message", "sender": ALICE, "room_id": ROOM, "content": {"body": body}})
        planned, reference = _both(ordered, stored, members=3, level=0, levels={}, name=name)
        assert planned == reference


def test_members_on_the_same_rules_share_one_compiled_body() -> None:
    rules = PushRules()
    shape = ("m.room.message", frozenset({"msgtype", "body"}))
    bob, carol = rules.compiled("@bob:localhost").plan(*shape), rules.compiled("@carol:localhost").plan(*shape)
    assert bob is not carol  # each binds the member's own name
    assert bob.__code__ is carol.__code__
    stored = _stored({"type": "m.room.message", "sender": ALICE, "room_id": ROOM, "content": {"body": "hi carol"}})
    content = stored.content
    assert bob(stored, content, "hi carol", "hi carol", 3, 0, {}, None).rule_id == ".m.rule.message"
    assert carol(stored, content, "hi carol", "hi carol", 3, 0, {}, None).rule_id == ".m.rule.contains_user_name"


def test_types_and_content_keys_no_rule_reads_share_one_plan() -> None:
    # A client may invent a type or a content key on every send: neither may make a new plan for every member.
    compiled = PushRules().compiled(BOB)
    message = compiled.plan("m.room.message", frozenset({"msgtype", "body"}))
    assert compiled.plan("m.room.message", frozenset({"msgtype", "body", "x.invented.1"})) is message
    other = compiled.plan("x.invented.1", frozenset({"body"}))
    assert compiled.plan("x.invented.2", frozenset({"body", "x.key"})) is other
    assert other is not message
    # What the rules do read still tells shapes apart: a mention, and a type a rule names.
    assert compiled.plan("m.room.message", frozenset({"msgtype", "body", "m.mentions"})) is not message
    assert compiled.plan("m.reaction", frozenset({"body"})) is not other
    stored = _stored({"type": "x.invented.2", "sender": ALICE, "room_id": ROOM, "content": {"body": "hi"}})
    planned, reference = _both(PushRules().ordered(BOB), stored, members=2, level=0, levels={}, name="Bob")
    assert planned == reference
