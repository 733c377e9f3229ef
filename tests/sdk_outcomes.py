"""A mock that keeps the outcome of every request, for the real-SDK tests: an SDK that meets a missing endpoint often
carries on (a warning in its own log, a retry later), so the tests check the mock's side as well."""

from __future__ import annotations

import contextlib
import fnmatch
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockmx.scenario.model import Scenario
from mockmx.testing.live import MockmxServer, running_mock

ERROR_BODY_KEPT = 300  # bytes of an error's body kept, enough for its errcode and message


@dataclass(frozen=True)
class Outcome:
    """One request the mock answered: the method and path the client asked for, and the status it got."""

    method: str
    path: str
    status: int
    body: str = ""  # the start of the body, for errors only

    @property
    def is_gap(self) -> bool:
        """An answer no SDK flow should get from a complete mock: no such endpoint or method, or a crash. A 404 with
        another errcode (`M_NOT_FOUND`: no such account data, say) is an answer the spec prescribes, not a gap."""
        unrecognized = self.status == 404 and '"M_UNRECOGNIZED"' in self.body.replace(" ", "")
        return unrecognized or self.status == 405 or self.status >= 500

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} {self.body}".rstrip()


class OutcomeLog:
    """ASGI wrapper around a whole app, outside every middleware, so it sees what went out on the wire."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        body = b""

        async def observe(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400 and len(body) < ERROR_BODY_KEPT:
                body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except Exception:
            status = status or 500  # uvicorn answers 500 for an exception before the response started
            raise
        finally:
            if status:  # not for a request cancelled before its answer: a long poll whose client went away
                text = body[:ERROR_BODY_KEPT].decode("utf-8", "replace")
                with self._lock:
                    self._outcomes.append(Outcome(scope["method"], scope["path"], status, text))

    def outcomes(self) -> list[Outcome]:
        """Every answer so far, in the order they finished."""
        with self._lock:
            return list(self._outcomes)

    def gaps(self, *, allowed: Iterable[tuple[str, str, int]] = ()) -> list[Outcome]:
        """The gaps (see `Outcome.is_gap`), but for `allowed` (method, path glob, status) ones."""
        allowed = list(allowed)
        return [
            outcome
            for outcome in self.outcomes()
            if outcome.is_gap
            and not any(
                outcome.method == method and fnmatch.fnmatchcase(outcome.path, glob) and outcome.status == status
                for method, glob, status in allowed
            )
        ]

    @contextlib.contextmanager
    def blamed(self, *, allowed: Iterable[tuple[str, str, int]] = ()) -> Iterator[None]:
        """Inside, a failure (an SDK that gave up or stalled) gets a note listing the gaps so far: the likely cause."""
        try:
            yield
        except BaseException as error:
            if gaps := self.gaps(allowed=allowed):
                error.add_note("the mock had no endpoint for these, or failed:\n" + "\n".join(f"  {g}" for g in gaps))
            raise

    def assert_no_gaps(self, *, allowed: Iterable[tuple[str, str, int]] = ()) -> None:
        """Fail naming every gap (see `Outcome.is_gap`), but for `allowed` ones."""
        __tracebackhide__ = True
        gaps = self.gaps(allowed=allowed)
        if gaps:
            lines = [f"the mock had no endpoint for {len(gaps)} request{'s' * (len(gaps) != 1)}, or failed:"]
            lines += [f"  {gap}" for gap in gaps]
            raise AssertionError("\n".join(lines))


@contextlib.contextmanager
def observed_mock(scenario: Scenario) -> Iterator[tuple[MockmxServer, OutcomeLog]]:
    """A live mock serving `scenario`, and the log of every answer it gives."""
    with running_mock(scenario) as mock:
        # The app built its middleware stack at start-up (the lifespan call); wrapping that stack, rather than
        # adding a middleware, puts the log outside Starlette's error middleware, so a crash is logged as its 500.
        stack = mock.app.middleware_stack
        if stack is None:
            raise RuntimeError("the mock's app has no middleware stack yet: it was expected to be built at start-up")
        log = OutcomeLog(stack)
        mock.app.middleware_stack = log
        yield mock, log
