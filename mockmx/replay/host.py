"""The object behind a replay app: what it replays, what it did, and where misses go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockmx.hosting import hosted_as
from mockmx.replay.extend import RecordingExtension
from mockmx.replay.passthrough import Passthrough
from mockmx.replay.replayer import Replayer
from mockmx.replay.state import ReplayState


@dataclass
class ReplayHost:
    """A replay as its server and endpoints see it (`ReplayHost.of(app)`)."""

    replayer: Replayer
    passthrough: Passthrough | None = None  # where a miss goes, with unmatched='passthrough'
    extension: RecordingExtension | None = None  # the copy of the recording that passed-through flows go to
    url: str | None = None  # where the server listens, once bound

    @classmethod
    def of(cls, app: Any) -> ReplayHost:
        """The host behind an app from `create_replay_app` (a request's `app` will do)."""
        return hosted_as(app, cls)

    @property
    def state(self) -> ReplayState:
        """What the replay did so far, for tests to assert on."""
        return self.replayer.state

    def bound_at(self, url: str) -> None:
        self.url = url

    def release_long_polls(self) -> None:
        self.replayer.release_all()
