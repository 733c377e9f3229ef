"""A user's push rules for one shape of event, made into one Python function: what a stored event is evaluated with.

`evaluate_compiled` tries each candidate rule's test in turn, each a closure over an `EventContext`: for a room send
that is an object and a dictionary made per event and a dozen calls per member. A plan makes the same tests, in the
same order, with the same compiled patterns, as the body of one function that reads the stored event directly. Its
source names its constants (`C0`, `C1`, ...) rather than holding them, so members whose rules differ only in their
values (every member on the default rules: the user's own name and id) share one compiled body; making a member's
plan binds their values to it.

What each condition comes to is `evaluator.condition_matches`, case by case; tests compare plans with
`evaluate_compiled` on events of every shape and on arbitrary bodies, names and patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any, Protocol

from mockmx.push import evaluator
from mockmx.push.evaluator import CompiledRule, Decision, JsonDict


class PlanEvent(Protocol):
    """What a plan reads of an event besides its content (a stored `rooms.Event`)."""

    event_id: str
    room_id: str
    sender: str
    type: str
    origin_server_ts: int
    state_key: str | None


# plan(event, content, body, lowered, member_count, sender_level, levels, display_name): `content` the event's
# content (a dict: {} when it is not one), `body` content.body when a string, `lowered` that body lower-cased when
# ASCII, `levels` the power levels' `notifications` (a dict); the decision of the first rule that matches, or None.
Plan = Callable[[PlanEvent, JsonDict, "str | None", "str | None", int, int, JsonDict, "str | None"], "Decision | None"]

_PARAMETERS = "event, content, body, lowered, member_count, sender_level, levels, display_name"
_MAX_SOURCES = 512  # distinct rule structures compiled; past it, the cache starts over
_CODE: dict[str, CodeType] = {}
# What every plan's body may call, besides its own constants.
_HELPERS: dict[str, Any] = {
    "_MISSING": evaluator._MISSING,
    "_is_scalar": evaluator._is_scalar,
    "_same_value": evaluator._same_value,
    "_lookup": evaluator._lookup,
    "_name_pattern": evaluator._display_name_pattern,
}
# The properties an event has as conditions see it (`event_properties`) besides `content` and `state_key`.
_ATTRIBUTES = ("event_id", "room_id", "sender", "type", "origin_server_ts")


def event_properties(event: PlanEvent, content: Any) -> JsonDict:
    """The event as conditions see it: a client's view without `unsigned` (what `EventContext` is made from)."""
    found: JsonDict = {name: getattr(event, name) for name in _ATTRIBUTES}
    found["content"] = content
    if event.state_key is not None:
        found["state_key"] = event.state_key
    return found


def make_plan(candidates: list[tuple[CompiledRule, bool]]) -> Plan:
    """The plan of these candidate rules, in order, each with whether its type condition is known to hold (as
    `CompiledRules.candidates` has them)."""
    writer = _Writer()
    lines = [f"def plan({_PARAMETERS}):"]
    for rule, typed in candidates:
        test = writer.rule(rule, typed)
        decision = writer.constant(rule.decision)
        if test == "True":
            lines.append(f"    return {decision}")
            break
        if test != "False":
            lines += [f"    if {test}:", f"        return {decision}"]
    else:
        lines.append("    return None")
    source = "\n".join(lines) + "\n"
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) >= _MAX_SOURCES:
            _CODE.clear()
        code = _CODE[source] = compile(source, "<push plan>", "exec")
    namespace = {**_HELPERS, **writer.constants}
    exec(code, namespace)  # the source is this module's own: names and constants, never a rule's text
    plan: Plan = namespace["plan"]
    return plan


class _Writer:
    """Writes the tests of rules as Python expressions, keeping the values they need as named constants."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self._names = 0  # the names assignment expressions take, one per test that needs one

    def constant(self, value: Any) -> str:
        name = f"C{len(self.constants)}"
        self.constants[name] = value
        return name

    def rule(self, compiled: CompiledRule, typed: bool) -> str:
        """`evaluator.compile_rule`'s test of the rule: "True", "False" or an expression."""
        kind, rule = compiled.kind, compiled.rule
        if kind in ("room", "sender"):
            attribute = "room_id" if kind == "room" else "sender"
            return f"event.{attribute} == {self.constant(rule['rule_id'])}"
        if kind == "content":
            pattern = rule.get("pattern")
            return self._body_match(pattern) if isinstance(pattern, str) else "False"
        conditions = list(rule.get("conditions", []))
        if typed and compiled.only_type is not None:
            conditions.remove(next(c for c in conditions if evaluator._is_type_match(c, compiled.only_type)))
        tests = [self.condition(condition) for condition in conditions]
        if "False" in tests:
            return "False"
        return " and ".join(f"({test})" for test in tests) if tests else "True"

    def condition(self, condition: Any) -> str:
        """`evaluator.condition_matches` of one condition, as an expression ("False" when it never holds)."""
        if not isinstance(condition, dict):
            return "False"
        kind, key = condition.get("kind"), condition.get("key")
        if kind == "event_match":
            pattern = condition.get("pattern")
            if not isinstance(key, str) or not isinstance(pattern, str):
                return "False"
            parts = evaluator._parts(key)
            if parts == ("content", "body"):
                return self._body_match(pattern)
            value, name = self._value(parts), self._name()
            fullmatch = self.constant(evaluator._whole_match(pattern).fullmatch)
            test = f"{fullmatch}({name}) is not None"
            if not any(c in pattern for c in "*?"):
                # Each character of a literal pattern matches one character, whatever its case: only a value of
                # the pattern's length can match (`m.text` is not `m.notice`, without the regex).
                test = f"len({name}) == {self.constant(len(pattern))} and {test}"
            return f"isinstance({name} := {value}, str) and {test}"
        if kind in ("event_property_is", "event_property_contains"):
            if not isinstance(key, str) or "value" not in condition:
                return "False"
            value, name = self._value(evaluator._parts(key)), self._name()
            wanted = self.constant(condition["value"])
            if kind == "event_property_is":
                return f"_is_scalar({name} := {value}) and _same_value({name}, {wanted})"
            return (
                f"isinstance({name} := {value}, list)"
                f" and any(_is_scalar(item) and _same_value(item, {wanted}) for item in {name})"
            )
        if kind == "contains_display_name":
            # evaluator._contains_display_name, its context spelled out.
            return (
                "bool(display_name) and body is not None"
                " and (lowered is None or not display_name.isascii() or display_name.lower() in lowered)"
                " and _name_pattern(display_name).search(body) is not None"
            )
        if kind == "room_member_count":
            compare = evaluator._member_count_test(condition.get("is"))
            return "False" if compare is None else f"{self.constant(compare)}(member_count)"
        if kind == "sender_notification_permission":
            if not isinstance(key, str):
                return "False"
            return f"sender_level >= {self.constant(_required_level(key))}(levels)"
        return "False"

    def _body_match(self, pattern: str) -> str:
        # evaluator._compiled_event_match on content.body: the ASCII needle first, then the word search.
        search = self.constant(evaluator._word_pattern(evaluator._glob(pattern)).search)
        if pattern.isascii() and not any(c in pattern for c in "*?"):
            needle = self.constant(pattern.lower())
            return f"body is not None and (lowered is None or {needle} in lowered) and {search}(body) is not None"
        return f"body is not None and {search}(body) is not None"

    def _value(self, parts: tuple[str, ...]) -> str:
        """An expression of the event's property at `parts`, `_MISSING` when it has none (`evaluator.lookup` on
        `event_properties`)."""
        first, rest = parts[0], parts[1:]
        if first == "content":
            if not rest:
                return "content"
            if len(rest) == 1:
                return f"content.get({self.constant(rest[0])}, _MISSING)"
            return f"_lookup(content, {self.constant(rest)})"
        if rest:
            return "_MISSING"  # the other properties are strings and numbers: nothing is under them
        if first in _ATTRIBUTES:
            return f"event.{first}"
        if first == "state_key":
            return "(_MISSING if event.state_key is None else event.state_key)"
        return "_MISSING"

    def _name(self) -> str:
        self._names += 1
        return f"_v{self._names}"


def _required_level(key: str) -> Callable[[JsonDict], int]:
    """`evaluator._required_level` of one key."""

    def required(levels: JsonDict) -> int:
        return evaluator._required_level(levels, key)

    return required
