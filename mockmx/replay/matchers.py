"""Matchers, as vcrpy has them: small named functions comparing a live request with a recorded one, each returning
None when its part agrees and otherwise a `Difference` that says what differs.

The index settles method, route, path parameters, credentials, query and body with one key lookup; the matchers
`txn_id` and `stream_tokens` are checked on the candidates it finds. A miss runs them all on the closest recorded
requests, to report which parts differ (one difference per differing parameter or field, so the closest is the one
with fewest).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mockmx.jsonpath import render_path
from mockmx.replay.bindings import Bindings
from mockmx.replay.shape import Shape, Slot


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING: Any = _Missing()

_LABELS = {
    "method": "method",
    "route": "route",
    "path": "path parameter",
    "access_token": "access token",
    "query": "query parameter",
    "body": "body field",
    "txn_id": "transaction id",
    "stream_token": "stream token",
    "repeat": "already answered",
    "status": "status",
}


@dataclass(frozen=True, slots=True)
class Difference:
    """What one matcher found different: the part (`matcher`), which field of it, the recorded and live values."""

    matcher: str
    field: str | None
    recorded: Any
    got: Any
    note: str | None = None

    def __str__(self) -> str:
        label = _LABELS.get(self.matcher, self.matcher)
        if self.field is not None:
            label = f"{label} {self.field}"
        elif self.matcher == "body":
            label = "body"
        text = f"{label}: recorded {show(self.recorded)}, got {show(self.got)}"
        if self.matcher == "repeat":
            text = label
        return f"{text} ({self.note})" if self.note else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "matcher": self.matcher,
            "field": self.field,
            "recorded": show(self.recorded),
            "got": show(self.got),
            "message": str(self),
        }


def show(value: Any) -> str:
    """A value for a report: never a live credential, and never longer than a line."""
    if isinstance(value, Slot):
        return "an unknown credential" if value.fresh else value.value
    if isinstance(value, list) and any(isinstance(item, Slot) for item in value):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if value is MISSING:
        return "nothing"
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=show, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."


@dataclass(frozen=True, slots=True)
class Recorded:
    """A recorded request as matchers see it: its shape, and which earlier flow returned each token it passes."""

    flow_id: int
    shape: Shape
    passed: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class Context:
    """What matching depends on besides the two requests: the bindings so far and the flows already answered."""

    bindings: Bindings
    served: Collection[int]


Matcher = Callable[[Shape, Recorded, Context], list[Difference]]


def method(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    if got.method != want.shape.method:
        return [Difference("method", None, want.shape.method, got.method)]
    return []


def route(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    if got.route.template != want.shape.route.template:
        return [Difference("route", None, want.shape.route.template, got.route.template)]
    return []


def path(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    recorded, live = want.shape.route.params, got.route.params
    return [
        Difference("path", name, recorded.get(name, MISSING), live.get(name, MISSING))
        for name in (*recorded, *(name for name in live if name not in recorded))
        if recorded.get(name, MISSING) != live.get(name, MISSING)
    ]


def access_token(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    recorded, live = want.shape.auth, got.auth
    if recorded is None and live is None:
        return []
    if recorded is None or live is None or got.auth_scheme != want.shape.auth_scheme:
        return [Difference("access_token", None, recorded or MISSING, live or MISSING)]
    if not same(live, recorded, context.bindings):
        note = "the token of another session" if not live.fresh else "that session's token is bound already"
        return [Difference("access_token", None, recorded, live, note)]
    return []


def query(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    recorded, live = want.shape.query, got.query
    return [
        Difference("query", name, recorded.get(name, MISSING), live.get(name, MISSING))
        for name in sorted({*recorded, *live})
        if not same(live.get(name, MISSING), recorded.get(name, MISSING), context.bindings)
    ]


def body(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    recorded, live = want.shape.body, got.body
    if recorded is None or live is None or set(recorded) != set(live) or "json" not in recorded:
        if same(live, recorded, context.bindings):
            return []
        return [Difference("body", None, _body_value(recorded), _body_value(live))]
    found = first_difference(live["json"], recorded["json"], lambda a, b: same(a, b, context.bindings))
    if found is None:
        return []
    where, recorded_value, live_value = found
    return [Difference("body", render_path(where) or None, recorded_value, live_value)]


def txn_id(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    recorded, live = want.shape.route.txn_id, got.route.txn_id
    if recorded is None or live is None:
        return []
    if not context.bindings.txn_fits(want.shape.session, recorded, live):
        return [Difference("txn_id", None, recorded, live, "each stands for another transaction already")]
    return []


def stream_tokens(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    """A token the recording passed back must come from the flow that returned it, answered in this replay."""
    return [
        Difference(
            "stream_token",
            name,
            want.shape.query.get(name),
            got.query.get(name, MISSING),
            f"returned by flow {flow_id}, which this replay has not answered yet",
        )
        for name, flow_id in want.passed.items()
        # A different token is the query matcher's to report; this one tells of the right token, too early.
        if flow_id is not None and flow_id not in context.served and got.query.get(name) == want.shape.query.get(name)
    ]


MATCHERS: tuple[Matcher, ...] = (method, route, path, access_token, query, body, txn_id, stream_tokens)
# What the index's keys do not settle, checked on each candidate it finds.
VARIABLE_MATCHERS: tuple[Matcher, ...] = (txn_id, stream_tokens)


def differences(got: Shape, want: Recorded, context: Context) -> list[Difference]:
    """Everything the matchers find different."""
    return [found for matcher in MATCHERS for found in matcher(got, want, context)]


def same(live: Any, recorded: Any, bindings: Bindings) -> bool:
    """Equal as data (`1` and `1.0`, `true` and `1` are not), a live credential standing for the recorded one."""
    if isinstance(recorded, Slot) or isinstance(live, Slot):
        if not (isinstance(recorded, Slot) and isinstance(live, Slot)):
            return False
        return bindings.secret_is_free(recorded.value) if live.fresh else live.value == recorded.value
    if isinstance(recorded, dict) and isinstance(live, dict):
        return recorded.keys() == live.keys() and all(same(live[key], recorded[key], bindings) for key in recorded)
    if isinstance(recorded, list) and isinstance(live, list):
        return len(recorded) == len(live) and all(same(a, b, bindings) for a, b in zip(live, recorded, strict=True))
    return type(live) is type(recorded) and live == recorded


def first_difference(
    live: Any, recorded: Any, equal: Callable[[Any, Any], bool], where: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], Any, Any] | None:
    """Where two JSON values first differ (document order, recorded keys first), with the values there."""
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key in (*recorded, *(key for key in live if key not in recorded)):
            if key not in live or key not in recorded:
                return (*where, key), recorded.get(key, MISSING), live.get(key, MISSING)
            found = first_difference(live[key], recorded[key], equal, (*where, key))
            if found is not None:
                return found
        return None
    if isinstance(recorded, list) and isinstance(live, list):
        for index in range(max(len(recorded), len(live))):
            if index >= len(live) or index >= len(recorded):
                return (*where, index), _at(recorded, index), _at(live, index)
            found = first_difference(live[index], recorded[index], equal, (*where, index))
            if found is not None:
                return found
        return None
    return None if equal(live, recorded) else (where, recorded, live)


def _at(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else MISSING


def _body_value(tagged: Any) -> Any:
    if tagged is None:
        return MISSING
    kind, value = next(iter(tagged.items()))
    return value if kind != "base64" else f"<{len(value) * 3 // 4} bytes>"
