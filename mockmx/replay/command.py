"""`mockmx replay FILE`: serve a recording until Ctrl-C, then say what matched nothing."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

from mockmx import __version__
from mockmx.problems import RecordingError
from mockmx.record.model import Leg
from mockmx.replay.policy import UnmatchedPolicy

if TYPE_CHECKING:
    from mockmx.record.model import Recording
    from mockmx.replay.state import ReplayState

_POLICIES = {
    UnmatchedPolicy.NOT_FOUND: "404 M_UNRECOGNIZED, with the closest recorded requests",
    UnmatchedPolicy.ERROR: "500 M_UNKNOWN, with the closest recorded requests",
    UnmatchedPolicy.PASSTHROUGH: "passed through to {upstream}",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the recording to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8008, help="port to bind, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--push-to",
        metavar="URL",
        help="push gateway to re-send the recorded notifications to (its base URL, or its full notify URL)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 at Ctrl-C if any request matched nothing or a push differed"
    )
    parser.add_argument(
        "--unmatched",
        choices=[policy.value for policy in UnmatchedPolicy],
        default=UnmatchedPolicy.NOT_FOUND.value,
        help="answer to a request that matches nothing: 404 M_UNRECOGNIZED, error (500 M_UNKNOWN), or passthrough "
        "to --upstream (default: %(default)s)",
    )
    parser.add_argument("--upstream", metavar="URL", help="the homeserver --unmatched passthrough forwards to")
    parser.add_argument(
        "--record-new",
        metavar="OUT",
        help="with --unmatched passthrough: write the recording with what passed through appended to it to OUT "
        "(redacted and linked as mockmx record writes it)",
    )
    parser.add_argument(
        "--token",
        metavar="USER=TOKEN",
        action="append",
        default=[],
        type=_declared_token,
        help="the access token your client sends as USER (@user:server, or @user:server/DEVICE when the recording "
        "has several of their devices): it stands for that user's recorded session; repeatable",
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="start over by itself once every recorded request has been answered, so the client can run again",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")


def _declared_token(value: str) -> tuple[str, str]:
    user, sep, token = value.partition("=")
    if not sep or not user.startswith("@") or ":" not in user or not token:
        raise argparse.ArgumentTypeError(f"expected USER=TOKEN, such as @bob:localhost=bob-token; got {value!r}")
    return user, token


def run(args: argparse.Namespace) -> int:
    """Serve the recording; 2 when it cannot start, 1 after Ctrl-C in strict mode with failures, else 0."""
    from mockmx.collection import freeze_survivors
    from mockmx.record.loader import load_recording
    from mockmx.replay.app import create_replay_app
    from mockmx.replay.host import ReplayHost
    from mockmx.server import MockServer, beyond_loopback_warning, bind, is_loopback, server_config

    try:
        recording = load_recording(args.file)
        app = create_replay_app(
            recording,
            push_to=args.push_to,
            strict=args.strict,
            unmatched=args.unmatched,
            upstream=args.upstream,
            record_new=args.record_new,
            tokens=dict(args.token),
            repeat=args.repeat,
        )
    except RecordingError as error:
        print(error, file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"mockmx replay: {error}", file=sys.stderr)
        return 2
    sock = bind(args.host, args.port, "mockmx replay")
    if not is_loopback(args.host):
        print(beyond_loopback_warning(args.host, "mockmx replay"), file=sys.stderr, flush=True)
    host = ReplayHost.of(app)
    state = host.state
    freeze_survivors()  # the recording stays in memory: full collections need not walk it again and again
    config = server_config(app, host=args.host, port=args.port, quiet=args.quiet)
    server = MockServer(
        config, on_started=lambda url: print(banner(recording, url, state, args.upstream, args.record_new), flush=True)
    )
    # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught: that is a clean stop here.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        return 2
    print(f"mockmx replay: {state.summary()}", flush=True)
    extension = host.extension
    if extension is not None:
        written = f"written to {extension.out}" if extension.written else f"nothing written to {extension.out}"
        print(f"mockmx replay: {extension.written} new flows passed through, {written}", flush=True)
    failures = state.failures()
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if args.strict and failures else 0


def banner(
    recording: Recording, url: str, state: ReplayState, upstream: str | None = None, record_new: str | None = None
) -> str:
    """What `mockmx replay` prints at start-up: what it serves, where, and what happens to misses and pushes."""
    client = sum(flow.leg == Leg.CLIENT for flow in recording.flows)
    pushes = len(recording.flows) - client
    lines = [
        f"mockmx {__version__}: replaying {recording.source} "
        f"({client} requests, {pushes} notifications; recorded {recording.started_at})",
        f"  URL: {url}",
        "",
    ]
    if state.push_to is not None:
        lines.append(f"  notifications: re-sent to {state.push_to} as the requests before them are replayed")
    elif pushes:
        lines.append("  notifications: not re-sent (no --push-to)")
    strict = "; --strict: Ctrl-C exits 1 after any" if state.strict else ""
    lines.append(f"  unmatched requests: {_POLICIES[state.unmatched].format(upstream=upstream)}{strict}")
    if record_new is not None:
        lines.append(f"  new flows: appended to a copy of the recording, {record_new}")
    if recording.torn_tail is not None:
        lines.append(
            f"  left out: the flow from line {recording.torn_tail} on, cut short by a kill while it was written"
        )
    lines.append(f"  what was replayed: {url}/_mockmx/replay")
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)
