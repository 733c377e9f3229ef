"""Push rule evaluation: which rule an event matches for a user, and what its actions then mean.

Conditions and actions as the spec's Push Notifications module defines them (v1.11). Data in, data out: the
caller says what the room looked like when the event arrived (`EventContext`), the rules come in evaluation
order (`PushRules.ordered`), and nothing here reads or changes the homeserver.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Rule = dict[str, Any]
JsonDict = dict[str, Any]

# Actions older versions of the spec defined: "Clients and homeservers MUST ignore these actions".
LEGACY_ACTIONS = ("dont_notify", "coalesce")
# Deprecated since v1.7: "should only be enabled if the event does not have an `m.mentions` property".
LEGACY_MENTION_RULES = frozenset({".m.rule.contains_display_name", ".m.rule.contains_user_name", ".m.rule.roomnotif"})
_DEFAULT_NOTIFICATION_LEVEL = 50  # the spec's default for `notifications.room`, and Synapse's for any other key
_WORD = "A-Za-z0-9_"  # the spec's word characters: a word boundary is anything else, or either end of the value
_MEMBER_COUNT = re.compile(r"(==|<=|>=|<|>)?([0-9]+)")
_MISSING = object()


@dataclass(frozen=True)
class EventContext:
    """What the conditions look at besides the rules: the event and the room as they were when it arrived."""

    event: JsonDict  # the event as a client sees it: type, sender, room_id, state_key, content, ...
    member_count: int  # joined members
    sender_level: int  # the sender's power level
    notification_levels: JsonDict = field(default_factory=dict)  # `notifications` of the power levels content

    @property
    def has_mentions(self) -> bool:
        content = self.event.get("content")
        return isinstance(content, dict) and "m.mentions" in content


@dataclass(frozen=True)
class Decision:
    """The matched rule's actions, with the legacy ones dropped, and what they amount to."""

    rule_id: str
    actions: list[Any]

    @property
    def notify(self) -> bool:
        return "notify" in self.actions

    @property
    def tweaks(self) -> JsonDict:
        """The `set_tweak` actions as the `tweaks` a push carries; a tweak without a value is `true`, as the spec
        says of `highlight`."""
        tweaks: JsonDict = {}
        for action in self.actions:
            if isinstance(action, dict) and isinstance(action.get("set_tweak"), str):
                tweaks[action["set_tweak"]] = action.get("value", True)
        return tweaks

    @property
    def highlight(self) -> bool:
        return self.tweaks.get("highlight") is True

    @property
    def sounds(self) -> bool:
        return bool(self.tweaks.get("sound"))


def evaluate(
    ordered: list[tuple[str, Rule]], context: EventContext, user_id: str, display_name: str | None
) -> Decision | None:
    """The first enabled rule of `ordered` (kind, rule) that matches, as a Decision; None when none does."""
    return evaluate_compiled(compile_rules(ordered), context, display_name)


# A rule's conditions, made once into a test of an event (`rule_matches`, with the keys split and the globs
# compiled): every event is tested against every member's rules, so what can be done ahead of time is.
Predicate = Callable[[EventContext, "str | None"], bool]


CompiledRule = tuple[Rule, Predicate, "str | None"]


def compile_rules(ordered: list[tuple[str, Rule]]) -> list[CompiledRule]:
    """`ordered` (kind, rule), each rule with the test of its conditions and the one event type it can match, if
    it says (most default rules do: tried first, that skips them cheaply); `enabled` and the actions are read from
    the rule when it is tried, as they change in place."""
    return [(rule, compile_rule(kind, rule), _only_type(kind, rule)) for kind, rule in ordered]


def _only_type(kind: str, rule: Rule) -> str | None:
    """The event type an override or underride rule's `event_match` on `type` requires, when it is plain ASCII (no
    glob: the match is then equality, the case aside)."""
    if kind not in ("override", "underride"):
        return None
    for condition in rule.get("conditions", []):
        if isinstance(condition, dict) and condition.get("kind") == "event_match" and condition.get("key") == "type":
            pattern = condition.get("pattern")
            if isinstance(pattern, str) and pattern.isascii() and not any(c in pattern for c in "*?"):
                return pattern.lower()
    return None


def evaluate_compiled(compiled: list[CompiledRule], context: EventContext, display_name: str | None) -> Decision | None:
    """`evaluate`, for rules `compile_rules` made."""
    has_mentions = context.has_mentions
    event_type = context.event.get("type")
    # ASCII both sides, the case aside, is what the glob's case-blind match comes to (not so for every letter).
    folded = event_type.lower() if isinstance(event_type, str) and event_type.isascii() else None
    for rule, matches, only_type in compiled:
        if only_type is not None and folded is not None and only_type != folded:
            continue
        if not rule.get("enabled", True):
            continue
        if has_mentions and rule["rule_id"] in LEGACY_MENTION_RULES and rule.get("default"):
            continue
        if matches(context, display_name):
            actions = [action for action in rule.get("actions", []) if action not in LEGACY_ACTIONS]
            return Decision(rule["rule_id"], actions)
    return None


def compile_rule(kind: str, rule: Rule) -> Predicate:
    """The test `rule_matches(kind, rule, ...)` makes, made once."""
    if kind in ("room", "sender"):
        key, rule_id = ("room_id" if kind == "room" else "sender"), rule["rule_id"]
        return lambda context, display_name: bool(context.event.get(key) == rule_id)
    if kind == "content":
        pattern = rule.get("pattern")
        if not isinstance(pattern, str):
            return _never
        return _compiled_event_match("content.body", pattern)
    tests = [_compile_condition(condition) for condition in rule.get("conditions", [])]
    if any(test is _never for test in tests):
        return _never
    if len(tests) == 1:
        return tests[0]
    return lambda context, display_name: all(test(context, display_name) for test in tests)


def _never(context: EventContext, display_name: str | None) -> bool:
    return False


def _compile_condition(condition: Any) -> Predicate:
    """`condition_matches(condition, ...)`, made once; an unknown or malformed condition never matches."""
    if not isinstance(condition, dict):
        return _never
    kind, key = condition.get("kind"), condition.get("key")
    if kind == "event_match":
        pattern = condition.get("pattern")
        if not isinstance(key, str) or not isinstance(pattern, str):
            return _never
        return _compiled_event_match(key, pattern)
    if kind in ("event_property_is", "event_property_contains"):
        if not isinstance(key, str) or "value" not in condition:
            return _never
        parts, wanted = _parts(key), condition["value"]
        if kind == "event_property_is":
            return lambda context, display_name: (
                _is_scalar(found := _lookup(context.event, parts)) and _same_value(found, wanted)
            )
        return lambda context, display_name: (
            isinstance(found := _lookup(context.event, parts), list)
            and any(_is_scalar(item) and _same_value(item, wanted) for item in found)
        )
    if kind in ("contains_display_name", "room_member_count", "sender_notification_permission"):
        # These look at the context more than at the condition: done as they always were.
        return lambda context, display_name: condition_matches(condition, context, display_name)
    return _never


def _compiled_event_match(key: str, pattern: str) -> Predicate:
    parts = _parts(key)
    if key == "content.body":
        search = _word_pattern(_glob(pattern)).search
        return lambda context, display_name: (
            isinstance(value := _lookup(context.event, parts), str) and (search(value) is not None)
        )
    fullmatch = _whole_match(pattern).fullmatch
    return lambda context, display_name: (
        isinstance(value := _lookup(context.event, parts), str) and (fullmatch(value) is not None)
    )


def rule_matches(kind: str, rule: Rule, context: EventContext, display_name: str | None) -> bool:
    event = context.event
    if kind == "room":
        return bool(event.get("room_id") == rule["rule_id"])
    if kind == "sender":
        # The spec: a sender rule's id is the user whose messages it applies to. (Synapse stores it as a match
        # on a `user_id` key no event has, so its sender rules never fire.)
        return bool(event.get("sender") == rule["rule_id"])
    if kind == "content":
        pattern = rule.get("pattern")
        return isinstance(pattern, str) and _event_match(event, "content.body", pattern)
    return all(condition_matches(condition, context, display_name) for condition in rule.get("conditions", []))


def condition_matches(condition: Any, context: EventContext, display_name: str | None) -> bool:
    """Whether one condition holds; an unknown or malformed condition never does (the spec: it MUST NOT match)."""
    if not isinstance(condition, dict):
        return False
    kind = condition.get("kind")
    event = context.event
    key = condition.get("key")
    if kind == "event_match":
        pattern = condition.get("pattern")
        return isinstance(key, str) and isinstance(pattern, str) and _event_match(event, key, pattern)
    if kind == "event_property_is":
        if not isinstance(key, str) or "value" not in condition:
            return False
        found = lookup(event, key)
        return _is_scalar(found) and _same_value(found, condition["value"])
    if kind == "event_property_contains":
        if not isinstance(key, str) or "value" not in condition:
            return False
        found = lookup(event, key)
        wanted = condition["value"]
        return isinstance(found, list) and any(_is_scalar(item) and _same_value(item, wanted) for item in found)
    if kind == "contains_display_name":
        body = lookup(event, "content.body")
        return bool(display_name) and isinstance(body, str) and _word_match(body, re.escape(display_name or ""))
    if kind == "room_member_count":
        return _member_count_matches(condition.get("is"), context.member_count)
    if kind == "sender_notification_permission":
        if not isinstance(key, str):
            return False
        required = context.notification_levels.get(key, _DEFAULT_NOTIFICATION_LEVEL)
        if isinstance(required, bool) or not isinstance(required, int):
            required = _DEFAULT_NOTIFICATION_LEVEL
        return context.sender_level >= required
    return False


def split_key(key: str) -> list[str]:
    """A dot-separated property path's parts: `\\.` is a dot inside a part, `\\\\` a backslash (spec appendix
    "Dot-separated property paths"); any other backslash stands for itself."""
    return list(_parts(key))


# Every event is matched against every member's rules, and rules name few keys: each is split once.
@functools.lru_cache(maxsize=4096)
def _parts(key: str) -> tuple[str, ...]:
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(key):
        char = key[index]
        if char == "\\" and index + 1 < len(key) and key[index + 1] in ".\\":
            current.append(key[index + 1])
            index += 2
            continue
        if char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return tuple(parts)


def lookup(event: JsonDict, key: str) -> Any:
    """The event's property at the dotted `key`; `_MISSING` (never a JSON value) when there is none."""
    return _lookup(event, _parts(key))


def _lookup(event: JsonDict, parts: tuple[str, ...]) -> Any:
    value: Any = event
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _event_match(event: JsonDict, key: str, pattern: str) -> bool:
    value = lookup(event, key)
    if not isinstance(value, str):
        return False  # absent or not a string: no match, "even if pattern is `*`"
    if key == "content.body":
        return _word_match(value, _glob(pattern))
    return _whole_match(pattern).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> str:
    """A glob (`*` any run, `?` one character, the rest literal) as a regular expression."""
    return "".join(".*?" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=4096)
def _whole_match(pattern: str) -> re.Pattern[str]:
    return re.compile(_glob(pattern), re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=4096)
def _word_pattern(regex: str) -> re.Pattern[str]:
    return re.compile(rf"(?:\A|(?<=[^{_WORD}])){regex}(?=[^{_WORD}]|\Z)", re.IGNORECASE | re.DOTALL)


def _word_match(body: str, regex: str) -> bool:
    """Whether `regex` matches a stretch of `body` that starts and ends at word boundaries."""
    return _word_pattern(regex).search(body) is not None


def _member_count_matches(spec: Any, count: int) -> bool:
    if not isinstance(spec, str):
        return False
    parsed = _MEMBER_COUNT.fullmatch(spec)
    if parsed is None:
        return False
    operator, number = parsed.group(1) or "==", int(parsed.group(2))
    return {
        "==": count == number,
        "<": count < number,
        ">": count > number,
        "<=": count <= number,
        ">=": count >= number,
    }[operator]


def _is_scalar(value: Any) -> bool:
    """A non-compound canonical JSON value: string, integer, boolean or null (no floats)."""
    return value is None or isinstance(value, (str, bool, int))


def _same_value(found: Any, wanted: Any) -> bool:
    # Exact, type and all: `true` is not `1`, as in JSON.
    return type(found) is type(wanted) and found == wanted
