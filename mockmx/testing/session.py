"""A test's recorded session: recorded afresh against a real homeserver, or replayed, as the record mode says."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from mockmx.push.protocol import NOTIFY_PATH
from mockmx.record import Recording, RecordingError, load_recording
from mockmx.replay import Miss, ReplayHost, ReplayState, UnmatchedPolicy, create_replay_app
from mockmx.replay.pushes import push_url
from mockmx.testing.config import MockmxConfig
from mockmx.testing.live import MockmxServer, running_mock
from mockmx.testing.record_mode import RecordMode
from mockmx.testing.recorder import running_recorder
from mockmx.testing.threaded import QuickMockServer, config_for, serving


class SessionError(Exception):
    """The session cannot be had (no recording and no way to make one, a recording that does not load): the test
    fails with this message."""


@dataclass
class RecordedSession:
    """What `mockmx_replay` gives a test: point the client under test at `url`."""

    path: Path  # the recording
    recording: bool  # True: `url` is `mockmx record` in front of the real homeserver, writing `path`
    url: str
    push_url: str | None = None  # for a pusher's data.url: the recorder's push leg, or (replaying) the gateway
    app: Starlette | None = None  # while replaying: the replay app (`ReplayHost.of(app)`)
    gateway: MockmxServer | None = None  # the mock gateway pushes go to, unless push_to names another

    def notifications(self, **filters: str) -> list[dict[str, Any]]:
        """The notifications the mock gateway received so far (see MockmxServer.notifications)."""
        if self.gateway is None:
            raise RuntimeError("pushes go to push_to, not to a mock gateway: ask that gateway")
        return self.gateway.notifications(**filters)

    @property
    def state(self) -> ReplayState | None:
        """What the replay did (answered flows, misses, re-sent pushes); None while recording."""
        return ReplayHost.of(self.app).state if self.app is not None else None

    @property
    def misses(self) -> list[Miss]:
        """The requests the replay found nothing for, so far (none while recording)."""
        return list(self.state.misses) if self.state is not None else []

    def failures(self, *, wait: float = 10.0) -> list[str]:
        """What strict mode fails a test for, once the pushes queued so far went out (for `wait` seconds at most):
        requests the recording does not hold (not in record mode new: those went to the homeserver), and re-sent
        notifications the gateway answered otherwise than recorded."""
        state = self.state
        if state is None:
            return []
        state.wait_for_pushes(wait)
        misses = [] if state.unmatched is UnmatchedPolicy.PASSTHROUGH else [str(miss) for miss in state.misses]
        return misses + [str(push) for push in state.pushes if not push.ok]


def needs_recording(mode: RecordMode, path: Path) -> bool:
    """Whether this run records `path` afresh (True) or replays it (False)."""
    return mode is RecordMode.ALL or (mode in (RecordMode.ONCE, RecordMode.NEW) and not path.exists())


@contextlib.contextmanager
def recorded_session(
    config: MockmxConfig,
    path: Path,
    *,
    keep: Callable[[], bool],
    load: Callable[[Path], Recording] = load_recording,
) -> Iterator[RecordedSession]:
    """Record or replay `path` (read with `load`) until the block ends. A new recording replaces `path` only when
    the recorder stopped cleanly and `keep()` says so at the end (the test passed); otherwise it stays beside it,
    `*.partial.yaml`."""
    if needs_recording(config.record_mode, path):
        with _recording(config, path, keep) as session:
            yield session
    elif not path.exists():
        raise SessionError(
            f"no recording {path} (record mode {config.record_mode.value}); record it with "
            "--mockmx-record-mode=once and --mockmx-upstream URL (a real homeserver)"
        )
    else:
        with _replaying(config, path, keep, load) as session:
            yield session


@contextlib.contextmanager
def _recording(config: MockmxConfig, path: Path, keep: Callable[[], bool]) -> Iterator[RecordedSession]:
    if config.upstream is None:
        raise SessionError(
            f"cannot record {path} (record mode {config.record_mode.value}) without a homeserver to record: "
            "pass --mockmx-upstream URL, or upstream= in the mockmx marker or mockmx_config"
        )
    partial = _partial(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        # The push leg always has a gateway behind it, so the recording holds the notifications to assert on.
        gateway = None if config.push_to else stack.enter_context(running_mock())
        push_to = config.push_to or (gateway.url if gateway else "")
        # The recorder is a reverse proxy: it takes the gateway's base URL, the notify path comes with each push.
        base = push_to.removesuffix(NOTIFY_PATH)
        recorder = stack.enter_context(running_recorder(config.upstream, base, partial))
        yield RecordedSession(path, True, recorder.url, push_url=recorder.push_url, gateway=gateway)
    if keep():
        _keep(partial, path)


@contextlib.contextmanager
def _replaying(
    config: MockmxConfig, path: Path, keep: Callable[[], bool], load: Callable[[Path], Recording]
) -> Iterator[RecordedSession]:
    try:
        recording = load(path)
    except RecordingError as exc:
        raise SessionError(f"the recording does not load:\n{exc}") from exc
    options: dict[str, Any] = {"strict": config.strict, "tokens": config.tokens}
    if config.record_mode is RecordMode.NEW:
        if config.upstream is None:
            raise SessionError(
                f"record mode new passes what {path} does not hold on to a homeserver: pass --mockmx-upstream URL, "
                "or upstream= in the mockmx marker or mockmx_config"
            )
        options["unmatched"] = UnmatchedPolicy.PASSTHROUGH
        options["record_new"] = _partial(path)
    elif config.unmatched is not None:
        options["unmatched"] = config.unmatched
    if config.upstream is not None:
        options["upstream"] = config.upstream  # where `passthrough` sends what the recording does not hold
    with contextlib.ExitStack() as stack:
        gateway = None if config.push_to else stack.enter_context(running_mock())
        push_to = config.push_to or (gateway.url if gateway else "")
        try:
            app = create_replay_app(recording, push_to=push_to, **options)
        except ValueError as exc:
            raise SessionError(f"cannot replay {path}: {exc}") from exc
        # The replay app offers what MockServer needs, so pending long polls end at once at shutdown.
        url = stack.enter_context(serving(QuickMockServer(config_for(app)), name="mockmx-replay"))
        yield RecordedSession(path, False, url, push_url=push_url(push_to, NOTIFY_PATH), app=app, gateway=gateway)
    extension = ReplayHost.of(app).extension
    if extension is not None:
        extension.close()
        if extension.written and keep():
            _keep(extension.out, path)


def _partial(path: Path) -> Path:
    """Where a new recording of `path` is written until the test has passed."""
    return path.with_name(path.stem + ".partial.yaml")


def _keep(partial: Path, path: Path) -> None:
    """Make the new recording `partial` the test's recording `path`, if it loads."""
    try:
        load_recording(partial)
    except RecordingError as exc:
        raise SessionError(f"the new recording does not load, kept as {partial}:\n{exc}") from exc
    os.replace(partial, path)
