"""The object behind a replay app: what it replays, what it did, where misses go, and how it starts over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockmx.control.changes import Changes, Topic
from mockmx.control.gate import ControlGate
from mockmx.control.journal import DEFAULT_LIMIT, RequestJournal
from mockmx.errors import Codes, MatrixError
from mockmx.faults import FaultRules
from mockmx.hosting import hosted_as
from mockmx.replay.extend import RecordingExtension
from mockmx.replay.passthrough import Passthrough
from mockmx.replay.replayer import Replayer
from mockmx.replay.state import ReplayState


class ReplayHost:
    """A replay as its server and endpoints see it (`ReplayHost.of(app)`): the current run of the recording."""

    def __init__(
        self,
        replayer: Replayer,
        *,
        start: Callable[[], Replayer],
        passthrough: Callable[[Replayer], Passthrough] | None = None,
        extension: RecordingExtension | None = None,
        repeat: bool = False,
        control_token: str | None = None,
        journal_limit: int = DEFAULT_LIMIT,
    ) -> None:
        self._start = start  # a new run's replayer
        self._passthrough = passthrough
        self.replayer = replayer
        self.passthrough = passthrough(self.replayer) if passthrough is not None else None
        self.extension = extension  # the copy of the recording that passed-through flows go to
        self.repeat = repeat  # start over by itself once every recorded request is answered
        self.runs = 1  # how many times the recording has been started
        self.url: str | None = None  # where the server listens, once bound
        # The control plane (mockmx/control/): the request journal, empty with each run; no fault rules.
        self.gate = ControlGate(control_token)
        self.changes = Changes()
        self._journal_limit = journal_limit
        self._journal = self._new_journal()
        self._faults = FaultRules()

    @classmethod
    def of(cls, app: Any) -> ReplayHost:
        """The host behind an app from `create_replay_app` (a request's `app` will do)."""
        return hosted_as(app, cls)

    @property
    def state(self) -> ReplayState:
        """What the current run did so far, for tests to assert on."""
        return self.replayer.state

    async def reset(self) -> None:
        """Play the recording again from the start: nothing answered, nothing bound but the declared tokens, empty
        journals. Pending long polls of the old run end; its queued pushes go out first."""
        if self.extension is not None:
            raise MatrixError(409, "mockmx replay: a replay that records new flows cannot start over", Codes.UNKNOWN)
        old = self.replayer
        self.replayer = self._start()
        if self._passthrough is not None:
            self.passthrough = self._passthrough(self.replayer)
        self.runs += 1
        self._journal = self._new_journal()
        await old.stop()
        self.changes.fire(Topic.WORLD)

    def _new_journal(self) -> RequestJournal:
        journal = RequestJournal(self._journal_limit)
        requests, replay = self.changes.listener(Topic.REQUESTS), self.changes.listener(Topic.REPLAY)

        def changed() -> None:  # each request answered changes the replay's account too
            requests()
            replay()

        journal.on_change = changed
        return journal

    def journal(self) -> RequestJournal:
        return self._journal

    def faults(self) -> FaultRules:
        return self._faults

    async def stop(self) -> None:
        await self.replayer.stop()
        if self.passthrough is not None:
            await self.passthrough.aclose()
        if self.extension is not None:
            self.extension.close()

    def bound_at(self, url: str) -> None:
        self.url = url
        self.gate.bound_at(url)

    def release_long_polls(self) -> None:
        self.replayer.release_all()
        self.changes.close()
