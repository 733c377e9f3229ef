"""Push rule evaluation: which rule an event matches for a user, and what its actions then mean.

Conditions and actions as the spec's Push Notifications module defines them (v1.11). Data in, data out: the
caller says what the room looked like when the event arrived (`EventContext`), the rules come in evaluation
order (`PushRules.ordered`), and nothing here reads or changes the homeserver.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from mockmx.push.plans import Plan

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
_NO_LEVELS: JsonDict = {}  # never changed: shared by every event without notification levels


class EventContext:
    """What the conditions look at besides the rules: the event and the room as they were when it arrived.

    Made once per event and shared by every member's evaluation, so what every evaluation would work out (the
    event's type as the type shortcut compares it, whether it has `m.mentions`, its body) is worked out here."""

    __slots__ = (
        "ascii_body",
        "body",
        "content_keys",
        "event",
        "folded_type",
        "has_mentions",
        "member_count",
        "notification_levels",
        "sender_level",
    )

    def __init__(
        self, event: JsonDict, *, member_count: int, sender_level: int, notification_levels: JsonDict | None = None
    ) -> None:
        self.event = event  # the event as a client sees it: type, sender, room_id, state_key, content, ...
        self.member_count = member_count  # joined members
        self.sender_level = sender_level  # the sender's power level
        self.notification_levels = notification_levels or _NO_LEVELS  # `notifications` of the power levels content
        content = event.get("content")
        self.content_keys = frozenset(content) if isinstance(content, dict) else frozenset()
        self.has_mentions = "m.mentions" in self.content_keys
        event_type = event.get("type")
        self.folded_type = fold_type(event_type) if isinstance(event_type, str) else None
        self.body, self.ascii_body = body_of(content)


def body_of(content: Any) -> tuple[str | None, str | None]:
    """content.body when a string, and it lower-cased when ASCII (a literal ASCII pattern can then only match a
    body it is a substring of); Nones when there is none."""
    body = content.get("body") if isinstance(content, dict) else None
    if not isinstance(body, str):
        return None, None
    return body, (body.lower() if body.isascii() else None)


@lru_cache(maxsize=1024)
def fold_type(event_type: str) -> str | None:
    """The type as the type shortcut compares it: lower-cased when ASCII (ASCII both sides, the case aside, is what
    the glob's case-blind match comes to, not so for every letter), else None. Types are few: each is folded once."""
    return event_type.lower() if event_type.isascii() else None


@dataclass(frozen=True)
class Decision:
    """The matched rule's actions, with the legacy ones dropped, and what they amount to."""

    rule_id: str
    actions: list[Any]

    @functools.cached_property
    def notify(self) -> bool:
        return "notify" in self.actions

    @functools.cached_property
    def tweaks(self) -> JsonDict:
        """The `set_tweak` actions as the `tweaks` a push carries; a tweak without a value is `true`, as the spec
        says of `highlight`."""
        tweaks: JsonDict = {}
        for action in self.actions:
            if isinstance(action, dict) and isinstance(action.get("set_tweak"), str):
                tweaks[action["set_tweak"]] = action.get("value", True)
        return tweaks

    @functools.cached_property
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


_MAX_SHAPES = 256  # shapes of event (type, content keys) whose candidate rules a ruleset keeps
_OTHER_TYPE = "*"  # the shape's type for any type no rule names: never a rule's `only_type`, which has no wildcard


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """An enabled rule, made ready: the one event type it can match if it says (most default rules do), the content
    keys it needs, whether an event with `m.mentions` skips it, and what it decides. Its tests are made from the
    rule as it came per shape of event, when one first needs them (`plans`, or `candidates`)."""

    only_type: str | None
    requires: frozenset[str]  # the content keys the rule cannot match without
    legacy_mention: bool
    decision: Decision
    kind: str  # the rule as it came
    rule: Rule


T = TypeVar("T")
_Shape = tuple[str | None, frozenset[str]]


class _ShapeCache(Generic[T]):
    """Values made per shape of event: by the shape the event has, and by what of it matters (`_shape`)."""

    def __init__(self) -> None:
        self.by_event: dict[_Shape, T] = {}
        self._by_shape: dict[_Shape, T] = {}

    def add(
        self,
        folded_type: str | None,
        content_keys: frozenset[str],
        shape_of: Callable[[str | None, frozenset[str]], _Shape],
        make: Callable[[_Shape], T],
    ) -> T:
        shape = shape_of(folded_type, content_keys)
        found = self._by_shape.get(shape)
        if found is None:
            if len(self._by_shape) >= _MAX_SHAPES:
                self._by_shape.clear()
            found = self._by_shape[shape] = make(shape)
        if len(self.by_event) >= _MAX_SHAPES:  # shapes are the clients' to invent: kept within a bound
            self.by_event.clear()
        self.by_event[(folded_type, content_keys)] = found
        return found


class CompiledRules:
    """A user's enabled rules in evaluation order, each compiled, and per event type the ones left to try.

    Made from the rules as they are: `PushRules` makes them again after any change to the user's rules."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        # Per shape of event (type, content keys): its candidates, and its plan. Kept under the shape as it came,
        # for the lookup every event makes, and under what of it the rules depend on (`_shape`), so that the types
        # and keys clients invent make no new ones: both kept within a bound.
        self._candidates: _ShapeCache[list[tuple[Predicate, Decision]]] = _ShapeCache()
        self._plans: _ShapeCache[Plan] = _ShapeCache()
        self._types = frozenset(rule.only_type for rule in rules if rule.only_type is not None)
        self._keys = frozenset().union(*(rule.requires for rule in rules)) | {"m.mentions"}

    def candidates(self, folded_type: str | None, content_keys: frozenset[str]) -> list[tuple[Predicate, Decision]]:
        """The rules an event of this type (case-folded ASCII, or None: any rule) and these content keys can match,
        in order, each as the test left to make and its decision. Kept per shape of event: there are few (a
        message, a reply, a mention, a state event...)."""
        found = self._candidates.by_event.get((folded_type, content_keys))
        if found is None:
            found = self._candidates.add(folded_type, content_keys, self._shape, self._make_candidates)
        return found

    def plan(self, folded_type: str | None, content_keys: frozenset[str]) -> Plan:
        """The candidates' tests as one function (`plans.make_plan`), kept per shape of event as they are."""
        found = self._plans.by_event.get((folded_type, content_keys))
        if found is None:
            found = self._plans.add(folded_type, content_keys, self._shape, self._make_plan)
        return found

    def _shape(self, folded_type: str | None, content_keys: frozenset[str]) -> _Shape:
        """What the candidates depend on: the type if a rule names it (every other ASCII type is alike), and which
        of the content keys the rules require, and `m.mentions`, the event has."""
        if folded_type is not None and folded_type not in self._types:
            folded_type = _OTHER_TYPE
        return folded_type, content_keys & self._keys

    def _make_candidates(self, shape: _Shape) -> list[tuple[Predicate, Decision]]:
        candidates = self._candidate_rules(*shape)
        return [(compile_rule(rule.kind, rule.rule, type_known=typed), rule.decision) for rule, typed in candidates]

    def _make_plan(self, shape: _Shape) -> Plan:
        from mockmx.push.plans import make_plan  # plans builds on this module

        return make_plan(self._candidate_rules(*shape))

    def _candidate_rules(
        self, folded_type: str | None, content_keys: frozenset[str]
    ) -> list[tuple[CompiledRule, bool]]:
        """The rules left to try, each with whether its type condition is known to hold (the type shortcut)."""
        has_mentions = "m.mentions" in content_keys
        return [
            (rule, folded_type is not None and rule.only_type is not None)
            for rule in self.rules
            if (folded_type is None or rule.only_type is None or rule.only_type == folded_type)
            and rule.requires <= content_keys
            and not (rule.legacy_mention and has_mentions)
        ]


def compile_rules(ordered: list[tuple[str, Rule]]) -> CompiledRules:
    """`ordered` (kind, rule), the enabled ones compiled (see `CompiledRule`)."""
    return CompiledRules(
        [
            CompiledRule(
                _only_type(kind, rule),
                _required_content_keys(kind, rule),
                rule["rule_id"] in LEGACY_MENTION_RULES and bool(rule.get("default")),
                Decision(
                    rule["rule_id"], [action for action in rule.get("actions", []) if action not in LEGACY_ACTIONS]
                ),
                kind,
                rule,
            )
            for kind, rule in ordered
            if rule.get("enabled", True)
        ]
    )


def _required_content_keys(kind: str, rule: Rule) -> frozenset[str]:
    """The content keys without which the rule cannot match: every condition must hold, and one that reads a value
    under `content.X` (event_match, event_property_is or _contains, contains_display_name) fails when X is absent,
    as it does when the value is (a missing value is never a string, a scalar or a list)."""
    if kind == "content":
        return frozenset({"body"})
    if kind not in ("override", "underride"):
        return frozenset()
    required = set()
    for condition in rule.get("conditions", []):
        if not isinstance(condition, dict):
            continue
        if condition.get("kind") == "contains_display_name":
            required.add("body")
        elif condition.get("kind") in ("event_match", "event_property_is", "event_property_contains"):
            key = condition.get("key")
            parts = _parts(key) if isinstance(key, str) else ()
            if len(parts) >= 2 and parts[0] == "content":
                required.add(parts[1])
    return frozenset(required)


def _only_type(kind: str, rule: Rule) -> str | None:
    """The event type an override or underride rule's `event_match` on `type` requires, when it is plain ASCII (no
    glob: the match is then equality, the case aside)."""
    if kind not in ("override", "underride"):
        return None
    for condition in rule.get("conditions", []):
        if _is_type_match(condition, None):
            return str(condition["pattern"]).lower()
    return None


def _is_type_match(condition: Any, folded: str | None) -> bool:
    """Whether `condition` is an `event_match` on `type` with a plain ASCII pattern (this one, folded, if given)."""
    if not (isinstance(condition, dict) and condition.get("kind") == "event_match" and condition.get("key") == "type"):
        return False
    pattern = condition.get("pattern")
    if not (isinstance(pattern, str) and pattern.isascii() and not any(c in pattern for c in "*?")):
        return False
    return folded is None or pattern.lower() == folded


def evaluate_compiled(compiled: CompiledRules, context: EventContext, display_name: str | None) -> Decision | None:
    """`evaluate`, for rules `compile_rules` made."""
    for matches, decision in compiled.candidates(context.folded_type, context.content_keys):
        if matches(context, display_name):
            return decision
    return None


def compile_rule(kind: str, rule: Rule, *, type_known: bool = False) -> Predicate:
    """The test `rule_matches(kind, rule, ...)` makes, made once; `type_known`: for events already known to be of
    the type `_only_type` finds in it (that condition is left out)."""
    if kind in ("room", "sender"):
        key, rule_id = ("room_id" if kind == "room" else "sender"), rule["rule_id"]
        return lambda context, display_name: bool(context.event.get(key) == rule_id)
    if kind == "content":
        pattern = rule.get("pattern")
        if not isinstance(pattern, str):
            return _never
        return _compiled_event_match("content.body", pattern)
    conditions = list(rule.get("conditions", []))
    only_type = _only_type(kind, rule) if type_known else None
    if only_type is not None:
        conditions.remove(next(condition for condition in conditions if _is_type_match(condition, only_type)))
    tests = [_compile_condition(condition) for condition in conditions]
    if any(test is _never for test in tests):
        return _never
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda context, display_name: first(context, display_name) and second(context, display_name)
    return lambda context, display_name: all(test(context, display_name) for test in tests)


def _never(context: EventContext, display_name: str | None) -> bool:
    return False


def _always(context: EventContext, display_name: str | None) -> bool:
    return True


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
        get, wanted = _getter(_parts(key)), condition["value"]
        if kind == "event_property_is":
            return lambda context, display_name: _is_scalar(found := get(context.event)) and _same_value(found, wanted)
        return lambda context, display_name: (
            isinstance(found := get(context.event), list)
            and any(_is_scalar(item) and _same_value(item, wanted) for item in found)
        )
    if kind == "contains_display_name":
        return _contains_display_name
    if kind == "room_member_count":
        compare = _member_count_test(condition.get("is"))
        if compare is None:
            return _never
        return lambda context, display_name: compare(context.member_count)
    if kind == "sender_notification_permission":
        if not isinstance(key, str):
            return _never
        return lambda context, display_name: context.sender_level >= _required_level(context.notification_levels, key)
    return _never


def _contains_display_name(context: EventContext, display_name: str | None) -> bool:
    body = context.body
    if not display_name or body is None:
        return False
    lowered = context.ascii_body
    if lowered is not None and display_name.isascii() and display_name.lower() not in lowered:
        return False
    return _display_name_pattern(display_name).search(body) is not None


@lru_cache(maxsize=4096)
def _display_name_pattern(display_name: str) -> re.Pattern[str]:
    return _word_pattern(re.escape(display_name))


def _compiled_event_match(key: str, pattern: str) -> Predicate:
    parts = _parts(key)
    if parts == ("content", "body"):
        search = _word_pattern(_glob(pattern)).search
        # A pattern without wildcards, ASCII like the body, can only match where the body holds it, the case aside.
        needle = pattern.lower() if pattern.isascii() and not any(c in pattern for c in "*?") else None

        def body_matches(context: EventContext, display_name: str | None) -> bool:
            body = context.body
            if body is None:
                return False
            lowered = context.ascii_body
            if needle is not None and lowered is not None and needle not in lowered:
                return False
            return search(body) is not None

        return body_matches
    fullmatch, get = _whole_match(pattern).fullmatch, _getter(parts)
    return lambda context, display_name: isinstance(value := get(context.event), str) and (fullmatch(value) is not None)


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
        compare = _member_count_test(condition.get("is"))
        return compare is not None and compare(context.member_count)
    if kind == "sender_notification_permission":
        return isinstance(key, str) and context.sender_level >= _required_level(context.notification_levels, key)
    return False


def _required_level(notification_levels: JsonDict, key: str) -> int:
    """The level `notifications.<key>` of the power levels asks of a sender (the default when it is no integer)."""
    required = notification_levels.get(key, _DEFAULT_NOTIFICATION_LEVEL)
    if isinstance(required, bool) or not isinstance(required, int):
        return _DEFAULT_NOTIFICATION_LEVEL
    return required


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


def _getter(parts: tuple[str, ...]) -> Callable[[JsonDict], Any]:
    """`_lookup` of these parts, made once: the keys rules name have two or three parts."""
    if len(parts) == 2:
        first, second = parts

        def get_two(event: JsonDict) -> Any:
            value = event.get(first, _MISSING)
            return value.get(second, _MISSING) if isinstance(value, dict) else _MISSING

        return get_two
    if len(parts) == 3:
        first, second, third = parts

        def get_three(event: JsonDict) -> Any:
            value = event.get(first, _MISSING)
            value = value.get(second, _MISSING) if isinstance(value, dict) else _MISSING
            return value.get(third, _MISSING) if isinstance(value, dict) else _MISSING

        return get_three
    return lambda event: _lookup(event, parts)


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


_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _member_count_test(spec: Any) -> Callable[[int], bool] | None:
    """A `room_member_count` condition's `is` as a test of the count; None when it is malformed (never matches)."""
    if not isinstance(spec, str):
        return None
    parsed = _MEMBER_COUNT.fullmatch(spec)
    if parsed is None:
        return None
    compare, number = _COMPARISONS[parsed.group(1) or "=="], int(parsed.group(2))
    return lambda count: compare(count, number)


def _is_scalar(value: Any) -> bool:
    """A non-compound canonical JSON value: string, integer, boolean or null (no floats)."""
    return value is None or isinstance(value, (str, bool, int))


def _same_value(found: Any, wanted: Any) -> bool:
    # Exact, type and all: `true` is not `1`, as in JSON.
    return type(found) is type(wanted) and found == wanted
