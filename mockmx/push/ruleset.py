"""Each user's push rules: the server-default rules (with the user's changes to them) and the user's own.

Within a kind, a user's own rules come before the server-default ones, except `.m.rule.master`, which comes
before everything (the spec's "Predefined Rules"). A new rule goes first among the user's rules of its kind
unless `before` or `after` names another of them. Every change is handed to `on_change`, which the homeserver
turns into `m.push_rules` account data.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.push.default_rules import KINDS, Rule, ruleset_for
from mockmx.push.evaluator import CompiledRules, compile_rules

ATTRIBUTES = ("enabled", "actions")
MASTER = ".m.rule.master"
MAX_RULES_PER_USER = 500  # each rule can be as large as a request: this keeps one user's rules within reason
_LEGACY_ACTIONS = ("notify", "dont_notify", "coalesce")


@dataclass
class _UserRules:
    defaults: dict[str, list[Rule]]  # the server-default rules, with the user's enabled/actions changes applied
    own: dict[str, list[Rule]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    ordered: list[tuple[str, Rule]] | None = None  # evaluation order, rebuilt after a change
    compiled: CompiledRules | None = None  # the same, each with its test, rebuilt with it

    def count(self) -> int:
        return sum(len(rules) for rules in self.own.values())


class PushRules:
    def __init__(self, *, on_change: Callable[[str], None] = lambda user_id: None) -> None:
        self._users: dict[str, _UserRules] = {}
        self._on_change = on_change
        self.version = 0  # changes whenever any user's rules do: what was made from them is to be made again

    # -- reading --------------------------------------------------------------------------------------------

    def ruleset(self, user_id: str) -> dict[str, list[Rule]]:
        """The user's rules by kind, as `GET /pushrules/global/` answers: a copy the caller may keep."""
        ruleset: dict[str, list[Rule]] = {kind: [] for kind in KINDS}
        for kind, rule in self.ordered(user_id):
            ruleset[kind].append(rule)
        return copy.deepcopy(ruleset)

    def ordered(self, user_id: str) -> list[tuple[str, Rule]]:
        """(kind, rule) in the order they are tried; shared, not to be changed."""
        rules = self._rules(user_id)
        if rules.ordered is None:
            ordered: list[tuple[str, Rule]] = []
            for kind in KINDS:
                defaults = rules.defaults[kind]
                first = [rule for rule in defaults if rule["rule_id"] == MASTER]
                ordered += [(kind, rule) for rule in first]
                ordered += [(kind, rule) for rule in rules.own[kind]]
                ordered += [(kind, rule) for rule in defaults if rule["rule_id"] != MASTER]
            rules.ordered = ordered
        return rules.ordered

    def compiled(self, user_id: str) -> CompiledRules:
        """`ordered`, each rule with its test made once (evaluator.compile_rules): what events are evaluated with."""
        rules = self._rules(user_id)
        if rules.compiled is None or rules.ordered is None:
            rules.compiled = compile_rules(self.ordered(user_id))
        return rules.compiled

    def get(self, user_id: str, kind: str, rule_id: str) -> Rule:
        """The rule, a copy; 404 M_NOT_FOUND when the user has no such rule."""
        return copy.deepcopy(self._find(user_id, check_kind(kind), rule_id))

    # -- writing --------------------------------------------------------------------------------------------

    def put(
        self, user_id: str, kind: str, rule_id: str, body: dict[str, Any], *, before: str | None, after: str | None
    ) -> None:
        """Create or replace the user's rule `rule_id` of `kind` from a `PUT /pushrules/...` body."""
        rule = parse_rule(check_kind(kind), rule_id, body)
        rules = self._rules(user_id)
        own = rules.own[kind]
        existing = next((index for index, old in enumerate(own) if old["rule_id"] == rule_id), None)
        if existing is None and rules.count() >= MAX_RULES_PER_USER:
            raise MatrixError(400, f"Too many push rules (max {MAX_RULES_PER_USER})", Codes.LIMIT_EXCEEDED)
        relative = before or after
        if relative is not None and not any(old["rule_id"] == relative for old in own):
            # Synapse's answer, which the spec's example repeats; default rules cannot be placed relative to.
            raise MatrixError(400, f"before/after rule not found: {relative}", Codes.UNKNOWN)
        if existing is not None:
            rule["enabled"] = own[existing]["enabled"]  # an update keeps whether it was enabled
            if relative is None:
                own[existing] = rule  # an update without before/after stays where it was
                self._changed(user_id)
                return
            del own[existing]
        if relative is None:
            own.insert(0, rule)
        else:
            index = next(index for index, old in enumerate(own) if old["rule_id"] == relative)
            own.insert(index if before else index + 1, rule)
        self._changed(user_id)

    def delete(self, user_id: str, kind: str, rule_id: str) -> None:
        own = self._rules(user_id).own[check_kind(kind)]
        for index, rule in enumerate(own):
            if rule["rule_id"] == rule_id:
                del own[index]
                self._changed(user_id)
                return
        if rule_id.startswith("."):
            self._find(user_id, kind, rule_id)  # 404 for a default rule that does not exist either
            # The spec lists only 404 for this endpoint, and Synapse answers it too: a default rule is not deletable.
            raise MatrixError(404, f"Server-default rule {rule_id} cannot be deleted", Codes.NOT_FOUND)
        raise MatrixError(404, "The push rule was not found.", Codes.NOT_FOUND)

    def set_enabled(self, user_id: str, kind: str, rule_id: str, enabled: bool) -> None:
        self._find(user_id, check_kind(kind), rule_id)["enabled"] = enabled
        self._changed(user_id)

    def set_actions(self, user_id: str, kind: str, rule_id: str, actions: Any) -> None:
        self._find(user_id, check_kind(kind), rule_id)["actions"] = check_actions(actions)
        self._changed(user_id)

    def load(self, user_id: str, specs: Iterable[dict[str, Any]]) -> None:
        """A scenario's rules for the user (`users[].push_rules`), most important first within each kind; for a
        server-default rule only `enabled` and `actions` are taken. Already checked by the scenario builder."""
        for spec in specs:
            kind, rule_id = spec["kind"], spec["rule_id"]
            if rule_id.startswith("."):
                rule = self._find(user_id, kind, rule_id)
            else:
                rule = parse_rule(kind, rule_id, spec)
                self._rules(user_id).own[kind].append(rule)
            if "enabled" in spec:
                rule["enabled"] = spec["enabled"]
            if "actions" in spec:
                rule["actions"] = check_actions(spec["actions"])
        self._forget_order(user_id)

    # -- inside ---------------------------------------------------------------------------------------------

    def _forget_order(self, user_id: str) -> None:
        rules = self._rules(user_id)
        rules.ordered = rules.compiled = None
        self.version += 1

    def _rules(self, user_id: str) -> _UserRules:
        rules = self._users.get(user_id)
        if rules is None:
            rules = self._users[user_id] = _UserRules(ruleset_for(user_id))
        return rules

    def _find(self, user_id: str, kind: str, rule_id: str) -> Rule:
        rules = self._rules(user_id)
        for rule in (*rules.own[kind], *rules.defaults[kind]):
            if rule["rule_id"] == rule_id:
                return rule
        raise MatrixError(404, "The push rule was not found.", Codes.NOT_FOUND)

    def _changed(self, user_id: str) -> None:
        self._forget_order(user_id)
        self._on_change(user_id)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise MatrixError(
            400, f"Unknown push rule kind {kind!r}: expected one of {', '.join(KINDS)}", Codes.INVALID_PARAM
        )
    return kind


def parse_rule(kind: str, rule_id: str, body: dict[str, Any]) -> Rule:
    """A user-defined rule from its kind, id and body (`actions`, and `conditions` or `pattern` as the kind
    needs), checked as the spec asks; enabled, as the spec says new rules are."""
    if rule_id.startswith("."):
        raise MatrixError(400, "Rule ids starting with '.' are reserved for server-default rules", Codes.INVALID_PARAM)
    if "/" in rule_id or "\\" in rule_id:
        raise MatrixError(400, "Rule ids may not contain slashes or backslashes", Codes.INVALID_PARAM)
    if not rule_id:
        raise MatrixError(400, "Rule ids may not be empty", Codes.INVALID_PARAM)
    if "actions" not in body:
        raise MatrixError(400, "Missing param: actions", Codes.MISSING_PARAM)
    rule: Rule = {"rule_id": rule_id, "default": False, "enabled": True}
    if kind in ("override", "underride"):
        rule["conditions"] = check_conditions(body.get("conditions"))
    elif kind == "content":
        pattern = body.get("pattern")
        if pattern is None:
            raise MatrixError(400, "Missing param: pattern (a content rule needs one)", Codes.MISSING_PARAM)
        if not isinstance(pattern, str):
            raise MatrixError(400, "Param 'pattern' must be a string", Codes.BAD_JSON)
        rule["pattern"] = pattern
    rule["actions"] = check_actions(body["actions"])
    return rule


def check_conditions(conditions: Any) -> list[dict[str, Any]]:
    if conditions is None:
        raise MatrixError(
            400, "Missing param: conditions (override and underride rules need them)", Codes.MISSING_PARAM
        )
    if not isinstance(conditions, list):
        raise MatrixError(400, "Param 'conditions' must be an array", Codes.BAD_JSON)
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            raise MatrixError(400, f"conditions[{index}] must be an object", Codes.BAD_JSON)
        if not isinstance(condition.get("kind"), str):
            raise MatrixError(400, f"conditions[{index}] needs a 'kind' string", Codes.INVALID_PARAM)
        # Unknown kinds are kept (they never match, as the spec says); known ones must be well-formed.
        for key in ("key", "pattern", "is"):
            if key in condition and not isinstance(condition[key], str):
                raise MatrixError(400, f"conditions[{index}].{key} must be a string", Codes.BAD_JSON)
        value = condition.get("value")
        if isinstance(value, (dict, list, float)):
            raise MatrixError(
                400, f"conditions[{index}].value must be a string, integer, boolean or null", Codes.BAD_JSON
            )
    return copy.deepcopy(conditions)


def check_actions(actions: Any) -> list[Any]:
    """The actions, when each is a known one: `notify`, the legacy `dont_notify`/`coalesce` (kept, and ignored when
    evaluating), or a `set_tweak` object."""
    if not isinstance(actions, list):
        raise MatrixError(400, "Param 'actions' must be an array", Codes.BAD_JSON)
    for action in actions:
        if isinstance(action, str) and action in _LEGACY_ACTIONS:
            continue
        if isinstance(action, dict) and isinstance(action.get("set_tweak"), str):
            continue
        raise MatrixError(400, f"Unrecognised action {action!r}", Codes.INVALID_PARAM)
    return copy.deepcopy(actions)
