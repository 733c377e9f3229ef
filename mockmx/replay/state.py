"""What a replay did, for tests to assert on (`ReplayHost.state`): the flows it answered, the requests it could not
match with their near misses, and the notifications it re-sent with the gateway's verdicts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from mockmx.record.model import Flow, Leg, Recording
from mockmx.replay.matchers import Difference
from mockmx.replay.policy import UnmatchedPolicy


class ReplayError(AssertionError):
    """A replay that did not go as recorded: requests that matched nothing, or a gateway that answered otherwise."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """One re-sent notification: which recorded push flow, after which client flow, and how the gateway answered."""

    flow_id: int
    trigger: int
    url: str
    event_id: str | None
    status: int | None
    body: Any
    differences: tuple[str, ...]  # the answer against the recorded one; empty when alike
    error: str | None = None  # no answer at all

    @property
    def ok(self) -> bool:
        return not self.differences and self.error is None

    def __str__(self) -> str:
        what = f"push flow {self.flow_id} ({self.event_id or 'no event id'}) to {self.url}"
        if self.error is not None:
            return f"{what}: no answer: {self.error}"
        if self.differences:
            return f"{what}: the gateway answered otherwise: " + "; ".join(self.differences)
        return f"{what}: answered as recorded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow_id,
            "trigger": self.trigger,
            "url": self.url,
            "event_id": self.event_id,
            "status": self.status,
            "body": self.body,
            "differences": list(self.differences),
            "error": self.error,
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A recorded request close to one that matched nothing, and how they differ."""

    flow_id: int
    request: str
    differences: tuple[Difference, ...]

    def __str__(self) -> str:
        count = len(self.differences)
        what = "; ".join(map(str, self.differences))
        return f"flow {self.flow_id} ({self.request}), {count} difference{'s' if count != 1 else ''}: {what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow_id,
            "request": self.request,
            "differences": [difference.to_dict() for difference in self.differences],
        }


@dataclass(frozen=True, slots=True)
class Miss:
    """A request that matched no recorded one: what it was, the closest recorded ones, and what replay answered."""

    request: str
    near: tuple[NearMiss, ...]
    answer: str

    @property
    def message(self) -> str:
        """One line: the request and its closest recorded request."""
        text = f"no recorded request matches {self.request}"
        if not self.near:
            return text + " (nothing recorded is like it)"
        return f"{text}; closest: {self.near[0]}"

    def __str__(self) -> str:
        lines = [f"{self.request} matched no recorded request (answered {self.answer})"]
        if self.near:
            lines.append(f"  {len(self.near)} similar recorded request{'s' if len(self.near) != 1 else ''}:")
        lines += [f"    {near}" for near in self.near]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "answer": self.answer, "near_misses": [near.to_dict() for near in self.near]}


@dataclass(eq=False)
class ReplayState:
    """A replay's record. Lists grow as requests come; read them from any thread."""

    recording: Recording
    strict: bool = False
    unmatched: UnmatchedPolicy = UnmatchedPolicy.NOT_FOUND
    push_to: str | None = None
    answered: list[int] = field(default_factory=list)  # client flow ids, in the order replay answered them
    misses: list[Miss] = field(default_factory=list)
    pushes: list[PushResult] = field(default_factory=list)  # re-sent notifications, in the order they were sent
    _pushes_queued: int = 0
    _progress: threading.Condition = field(default_factory=threading.Condition)

    def unplayed(self) -> list[Flow]:
        """The recorded client requests nobody has asked for (yet)."""
        answered = set(self.answered)
        return [flow for flow in self.recording.flows if flow.leg == Leg.CLIENT and flow.id not in answered]

    def failures(self) -> list[str]:
        """Every miss, and every re-sent notification the gateway answered otherwise than recorded."""
        return [str(miss) for miss in self.misses] + [str(push) for push in self.pushes if not push.ok]

    def check(self) -> None:
        """Raise `ReplayError` listing the failures, if there are any (what strict mode fails a test with)."""
        failures = self.failures()
        if failures:
            count = len(failures)
            raise ReplayError(
                f"replay of {self.recording.source}: {count} failure{'s' if count != 1 else ''}\n" + "\n".join(failures)
            )

    def wait_for_pushes(self, timeout: float = 10.0) -> bool:
        """Block until every notification queued so far has been sent and answered; False on timeout. Call it from
        another thread than the server's."""
        with self._progress:
            return self._progress.wait_for(lambda: len(self.pushes) >= self._pushes_queued, timeout)

    def summary(self) -> str:
        client = sum(flow.leg == Leg.CLIENT for flow in self.recording.flows)
        lines = [f"answered {len(self.answered)} of {client} recorded requests; {len(self.misses)} unmatched"]
        if self.push_to is not None:
            differing = sum(not push.ok for push in self.pushes)
            sent = len(self.pushes)
            plural = "s" if sent != 1 else ""
            lines.append(f"re-sent {sent} notification{plural} to {self.push_to}; {differing} answered otherwise")
        return "; ".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "recording": self.recording.source,
            "strict": self.strict,
            "unmatched": self.unmatched.value,
            "answered": list(self.answered),
            "unplayed": [flow.id for flow in self.unplayed()],
            "misses": [miss.to_dict() for miss in self.misses],
            "pushes": [push.to_dict() for push in self.pushes],
        }

    def push_queued(self, count: int) -> None:
        with self._progress:
            self._pushes_queued += count

    def push_done(self, result: PushResult) -> None:
        with self._progress:
            self.pushes.append(result)
            self._progress.notify_all()
