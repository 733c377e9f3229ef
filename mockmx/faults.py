"""Fault rules from a scenario: matching requests are delayed, answered with an error, or rate limited.

Every rule that matches a request's method and path counts it; the first rule whose window
(`after` < count <= `after` + `times`) holds the request acts on it. With `lose_answer`, the request is
handled as usual and only its answer is replaced by the error: a lost acknowledgement, so the client retries
something that already happened. The middleware is only installed when
a scenario has rules, so a scenario without faults pays nothing for them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

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
class _Rule:
    spec: FaultSpec
    path: re.Pattern[str]
    seen: int = 0

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


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, faults: tuple[FaultSpec, ...]) -> None:
        self.app = app
        self.rules = [_Rule(spec, glob_to_regex(spec.path)) for spec in faults]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        # Count the request against every matching rule; the first one in its window acts.
        acting = [rule for rule in self.rules if rule.applies(method, path)]
        if not acting:
            await self.app(scope, receive, send)
            return
        rule = acting[0]
        log.info("fault rule%s acts on %s %s: %s", rule.where(), method, path, rule.describe())
        if rule.spec.delay:
            await asyncio.sleep(rule.spec.delay)
        error = rule.error()
        if error is None:
            await self.app(scope, receive, send)
            return
        if rule.spec.lose_answer:
            await self.app(scope, receive, _discard)
        await render(error)(scope, receive, send)


async def _discard(message: Message) -> None:
    """The answer a lost acknowledgement never delivers."""
