"""The server-default push rules of the Matrix spec v1.11 ("Predefined Rules" in the Push Notifications module).

Transcribed rule for rule, in the spec's order and with its conditions and actions unchanged, from
matrix-org/matrix-spec tag v1.11, content/client-server-api/modules/push.md; tests/test_api_startup.py compares
this table with a verbatim copy of that text. Rules naming the user (`[the user's Matrix ID]`, `[the local part
of the user's Matrix ID]`) are filled in by `ruleset_for`. Data only: evaluating them is another module's job.
"""

from __future__ import annotations

import copy
from typing import Any

Rule = dict[str, Any]
KINDS = ("override", "content", "room", "sender", "underride")

_SOUND_DEFAULT = {"set_tweak": "sound", "value": "default"}
_HIGHLIGHT = {"set_tweak": "highlight"}


def _rule(rule_id: str, conditions: list[dict[str, Any]], actions: list[Any], *, enabled: bool = True) -> Rule:
    return {"rule_id": rule_id, "default": True, "enabled": enabled, "conditions": conditions, "actions": actions}


def _event_match(key: str, pattern: str) -> dict[str, Any]:
    return {"kind": "event_match", "key": key, "pattern": pattern}


def _override(user_id: str) -> list[Rule]:
    return [
        _rule(".m.rule.master", [], [], enabled=False),
        _rule(".m.rule.suppress_notices", [_event_match("content.msgtype", "m.notice")], []),
        _rule(
            ".m.rule.invite_for_me",
            [
                _event_match("type", "m.room.member"),
                _event_match("content.membership", "invite"),
                _event_match("state_key", user_id),
            ],
            ["notify", _SOUND_DEFAULT],
        ),
        _rule(".m.rule.member_event", [_event_match("type", "m.room.member")], []),
        _rule(
            ".m.rule.is_user_mention",
            [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids", "value": user_id}],
            ["notify", _SOUND_DEFAULT, _HIGHLIGHT],
        ),
        _rule(
            ".m.rule.contains_display_name", [{"kind": "contains_display_name"}], ["notify", _SOUND_DEFAULT, _HIGHLIGHT]
        ),
        _rule(
            ".m.rule.is_room_mention",
            [
                {"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": True},
                {"kind": "sender_notification_permission", "key": "room"},
            ],
            ["notify", _HIGHLIGHT],
        ),
        _rule(
            ".m.rule.roomnotif",
            [_event_match("content.body", "@room"), {"kind": "sender_notification_permission", "key": "room"}],
            ["notify", _HIGHLIGHT],
        ),
        _rule(
            ".m.rule.tombstone",
            [_event_match("type", "m.room.tombstone"), _event_match("state_key", "")],
            ["notify", _HIGHLIGHT],
        ),
        _rule(".m.rule.reaction", [_event_match("type", "m.reaction")], []),
        _rule(
            ".m.rule.room.server_acl",
            [_event_match("type", "m.room.server_acl"), _event_match("state_key", "")],
            [],
        ),
        _rule(
            ".m.rule.suppress_edits",
            [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type", "value": "m.replace"}],
            [],
        ),
    ]


def _content(localpart: str) -> list[Rule]:
    # A content rule has a `pattern` (matched against `content.body`) instead of conditions.
    return [
        {
            "rule_id": ".m.rule.contains_user_name",
            "default": True,
            "enabled": True,
            "pattern": localpart,
            "actions": ["notify", _SOUND_DEFAULT, _HIGHLIGHT],
        }
    ]


def _underride() -> list[Rule]:
    one_to_one = {"kind": "room_member_count", "is": "2"}
    return [
        _rule(
            ".m.rule.call", [_event_match("type", "m.call.invite")], ["notify", {"set_tweak": "sound", "value": "ring"}]
        ),
        _rule(
            ".m.rule.encrypted_room_one_to_one",
            [one_to_one, _event_match("type", "m.room.encrypted")],
            ["notify", _SOUND_DEFAULT],
        ),
        _rule(
            ".m.rule.room_one_to_one", [one_to_one, _event_match("type", "m.room.message")], ["notify", _SOUND_DEFAULT]
        ),
        _rule(".m.rule.message", [_event_match("type", "m.room.message")], ["notify"]),
        _rule(".m.rule.encrypted", [_event_match("type", "m.room.encrypted")], ["notify"]),
    ]


def ruleset_for(user_id: str) -> dict[str, list[Rule]]:
    """The user's server-default ruleset, every kind present, as `GET /pushrules/global/` answers it: a fresh copy
    the caller may change."""
    localpart = user_id[1:].split(":", 1)[0]
    ruleset = {
        "override": _override(user_id),
        "content": _content(localpart),
        "room": [],
        "sender": [],
        "underride": _underride(),
    }
    return copy.deepcopy(ruleset)  # the shared tweak dicts appear in several rules: none may alias another
