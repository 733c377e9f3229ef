"""Fault rules: matching requests are delayed, answered with an error, or rate limited.

Every rule that matches a request's method and path counts it; the first rule whose window
(`after` < count <= `after` + `times`) holds the request acts on it. With `lose_answer`, the request is
handled as usual and only its answer is replaced by the error: a lost acknowledgement, so the client retries
something that already happened. A world's rules start as its scenario's and change at run time through
`/_mockmx/faults`; the control middleware (mockmx/control/middleware.py) looks at them only when there are any,
so a world without faults pays nothing for them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockmx.errors import Codes, MatrixError, limit_exceeded
from mockmx.scenario.model import FaultSpec
from mockmx.web.errors import render

log = logging.getLogger(__name__)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches within one path segment, `**` across segments; everything else is literal."""
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join("[^/]*" if part == "*" else ".*" if part == "**" else re.escape(part) for part in parts)
    return re.compile(body)


@dataclass
class FaultRule:
    id: int
    spec: FaultSpec
    path: re.Pattern[str]
    seen: int = 0  # matching requests, inside the window or not
    applied: int = 0  # the requests it acted on

    def applies(self, method: str, path: str) -> bool:
        spec = self.spec
        if (spec.method is not None and spec.method != method) or not self.path.fullmatch(path):
            return False
        self.seen += 1
        return self.seen > spec.after and (spec.times is None or self.seen <= spec.after + spec.times)

    def where(self) -> str:
        return f" (scenario rule at line {self.spec.line})" if self.spec.line is not None else ""

    def describe(self) -> str:
        """What the rule does to a request it acts on, for the log."""
        spec = self.spec
        done = [f"delay {spec.delay:g} s"] if spec.delay else []
        if spec.retry_after_ms is not None:
            done.append(f"429 M_LIMIT_EXCEEDED, retry after {spec.retry_after_ms} ms")
        elif spec.status is not None:
            done.append(f"{spec.status} {spec.errcode or Codes.UNKNOWN}")
        if spec.lose_answer:
            done.append("after handling it (the answer is lost)")
        return ", ".join(done) or "nothing"

    def error(self) -> MatrixError | None:
        spec = self.spec
        where = self.where()
        if spec.retry_after_ms is not None:
            return limit_exceeded(spec.retry_after_ms, spec.error or f"Too Many Requests{where}")
        if spec.status is not None:
            return MatrixError(spec.status, spec.error or f"Injected fault{where}", spec.errcode or Codes.UNKNOWN)
        return None

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        shown: dict[str, Any] = {"id": self.id, "path": spec.path, "matched": self.seen, "applied": self.applied}
        optional = {
            "method": spec.method,
            "after": spec.after or None,
            "times": spec.times,
            "delay_ms": round(spec.delay * 1000) if spec.delay else None,
            "status": spec.status,
            "errcode": spec.errcode,
            "error": spec.error,
            "retry_after_ms": spec.retry_after_ms,
            "lose_answer": spec.lose_answer or None,
            "line": spec.line,
        }
        shown.update({key: value for key, value in optional.items() if value is not None})
        return shown

    async def act(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request as this rule says: late, with an error instead, or with its answer lost."""
        self.applied += 1
        log.info("fault rule%s acts on %s %s: %s", self.where(), scope["method"], scope["path"], self.describe())
        if self.spec.delay:
            await asyncio.sleep(self.spec.delay)
        error = self.error()
        if error is None:
            await app(scope, receive, send)
            return
        if self.spec.lose_answer:
            await app(scope, receive, _discard)
        await render(error)(scope, receive, send)


class FaultRules:
    """A world's fault rules in order, each with an id that stays its own while rules come and go."""

    def __init__(self, specs: Iterable[FaultSpec] = ()) -> None:
        self.rules: list[FaultRule] = []
        self._next_id = 1
        for spec in specs:
            self.add(spec)

    def add(self, spec: FaultSpec) -> FaultRule:
        rule = FaultRule(self._next_id, spec, glob_to_regex(spec.path))
        self._next_id += 1
        self.rules = [*self.rules, rule]  # a new list: a request iterating the old one is not disturbed
        return rule

    def remove(self, rule_id: int) -> bool:
        kept = [rule for rule in self.rules if rule.id != rule_id]
        removed = len(kept) != len(self.rules)
        self.rules = kept
        return removed

    def clear(self) -> None:
        self.rules = []

    def acting(self, method: str, path: str) -> FaultRule | None:
        """Count the request against every matching rule; the first one in its window acts."""
        acting = [rule for rule in self.rules if rule.applies(method, path)]
        return acting[0] if acting else None


async def _discard(message: Message) -> None:
    """The answer a lost acknowledgement never delivers."""
