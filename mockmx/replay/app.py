"""`create_replay_app`: a Starlette application answering as a recording says, and re-sending its notifications."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Collection, Mapping
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockmx.collection import gc_paused
from mockmx.control.inspector import replay_flows
from mockmx.control.middleware import ControlMiddleware
from mockmx.control.routes import COMMON_ROUTES
from mockmx.errors import Codes, MatrixError
from mockmx.hosting import attach
from mockmx.record import Recording, load_recording
from mockmx.record.entry import multimap
from mockmx.record.model import Secrets
from mockmx.replay.extend import RecordingExtension
from mockmx.replay.host import ReplayHost
from mockmx.replay.passthrough import Passthrough
from mockmx.replay.policy import UnmatchedPolicy
from mockmx.replay.replayer import Replayer
from mockmx.replay.shape import TOKEN_FIELDS
from mockmx.replay.state import ReplayState
from mockmx.web.body import read_body
from mockmx.web.cors import BrowserCORS
from mockmx.web.errors import EXCEPTION_HANDLERS
from mockmx.web.paths import RawPathRouting

log = logging.getLogger("mockmx.replay")
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def create_replay_app(
    recording: Recording | str | os.PathLike[str],
    *,
    push_to: str | None = None,
    strict: bool = False,
    unmatched: UnmatchedPolicy | str = UnmatchedPolicy.NOT_FOUND,
    upstream: str | None = None,
    record_new: str | os.PathLike[str] | None = None,
    tokens: Mapping[str, str] | None = None,
    repeat: bool = False,
    control_token: str | None = None,
) -> Starlette:
    """A server that answers as `recording` (or the recording file it names) did; `ReplayHost.of(app)` holds it,
    and its `state` what it did.

    `push_to` is the push gateway (base or notify URL) that gets the recorded notifications; `unmatched` what a
    request matching nothing is answered (`upstream` is the homeserver `passthrough` forwards to); `strict` marks
    misses as failures for the plugin and `mockmx replay` to report. `record_new` (with passthrough) is where a copy
    of the recording with the passed-through requests appended as flows is written, once there is one
    (`ReplayHost.extension`, see extend.py). `tokens` maps users (`@user:server`, or `@user:server/DEVICE`) to
    the access tokens the client sends as them: each stands for that user's recorded session. With `repeat`, the
    replay starts over by itself once every recorded request has been answered (`POST /_mockmx/reset` does it
    at any time).

    With passthrough, a login or registration the recording answers is made on the upstream too, so that the
    client holds a real access token for the requests that pass through (unless the recording kept its secrets).
    """
    policy = UnmatchedPolicy.parse(unmatched)
    if record_new is not None and policy is not UnmatchedPolicy.PASSTHROUGH:
        raise ValueError("record_new keeps what passes through to the upstream: it needs unmatched='passthrough'")
    if not isinstance(recording, Recording):
        recording = load_recording(recording)
    for name, url in (("push_to", push_to), ("upstream", upstream)):
        if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise ValueError(f"{name} must be an http:// or https:// URL, got {url!r}")
    if policy is UnmatchedPolicy.PASSTHROUGH and upstream is None:
        raise ValueError("unmatched='passthrough' needs an upstream homeserver URL to pass requests to")
    loaded = recording

    def start() -> Replayer:
        state = ReplayState(loaded, strict=strict, unmatched=policy, push_to=push_to)
        # An index of every recorded request, with no cycles in it: the collector would walk it all for nothing.
        with gc_paused():
            return Replayer(loaded, state=state, push_to=push_to, tokens=tokens)

    replayer = start()  # once here, so that a wrong declared token stops the app from being made
    extension = None
    if record_new is not None:
        extension = RecordingExtension(
            recording,
            record_new,
            bindings=replayer.bindings,
            returned=replayer.returned,
            secret_fields=replayer.secret_fields,
        )
    passthrough = None
    if policy is UnmatchedPolicy.PASSTHROUGH and upstream is not None:
        base = upstream

        def passthrough(replayer: Replayer) -> Passthrough:
            return Passthrough(base, replayer, extension)

    routes = [
        Route("/_mockmx/replay", _replay_status, methods=["GET"]),
        Route("/_mockmx/reset", _reset, methods=["POST"]),
        Route("/_mockmx/replay/flows", replay_flows, methods=["GET"]),
        *COMMON_ROUTES,  # the inspector and the request journal
        Route("/{path:path}", _answer, methods=METHODS),
    ]
    host = ReplayHost(
        replayer,
        start=start,
        passthrough=passthrough,
        extension=extension,
        repeat=repeat,
        control_token=control_token,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await host.stop()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(BrowserCORS),
            Middleware(ControlMiddleware, controlled=host),
            Middleware(RawPathRouting),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    attach(app, host)
    return app


async def _answer(request: Request) -> Response:
    host = ReplayHost.of(request.app)
    if host.repeat and host.replayer.finished:
        await host.reset()
    replayer = host.replayer
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1").partition("?")[0] if raw else request.scope["path"]
    query_string = request.scope.get("query_string", b"").decode("latin-1")
    query = multimap(parse_qsl(query_string, keep_blank_values=True))
    content = await read_body(request)
    got = replayer.live_shape(
        method=request.method,
        path=path,
        query=query,
        authorization=request.headers.get("authorization"),
        content=content,
        content_type=request.headers.get("content-type"),
    )
    long_poll = _seconds(query.get("timeout"))
    url = path + ("?" + query_string if query_string else "")
    entry = replayer.match(got)
    if entry is not None:
        flow = entry.flow
        if flow.response is None:
            if (flow.error or "").startswith("unfinished"):
                await replayer.hold_unanswered(long_poll or None)
            raise MatrixError(502, f"mockmx replay: the recorded request got no answer ({flow.error})")
        if host.passthrough is not None and replayer.recording.secrets is not Secrets.KEPT:
            await host.passthrough.sign_in(request, flow, url, content)
        await replayer.hold(entry, long_poll)
        return replayer.respond(entry)

    shown = request.method + " " + path + ("?" + _redacted(query, replayer.secret_fields) if query else "")
    policy = replayer.state.unmatched
    if policy is UnmatchedPolicy.PASSTHROUGH and host.passthrough is not None:
        return await host.passthrough.answer(request, got, shown, url, query, content, long_poll)
    miss = replayer.miss(got, shown, f"{policy.value}")
    log.warning("mockmx replay: %s", miss)
    status, errcode = (404, Codes.UNRECOGNIZED) if policy is UnmatchedPolicy.NOT_FOUND else (500, Codes.UNKNOWN)
    raise MatrixError(
        status,
        f"mockmx replay: {miss.message}",
        errcode,
        extra={"mockmx_near_misses": [near.to_dict() for near in miss.near]},
    )


async def _reset(request: Request) -> Response:
    """Start the recording over (`POST /_mockmx/reset`): what a test suite calls before each test."""
    host = ReplayHost.of(request.app)
    await host.reset()
    return JSONResponse({"runs": host.runs})


async def _replay_status(request: Request) -> Response:
    """What the replay did so far, as JSON: the answered flows, the misses, the re-sent notifications."""
    return JSONResponse(ReplayHost.of(request.app).state.to_json())


def _seconds(timeout: str | list[str] | None) -> float:
    """A long poll's `timeout` (milliseconds) in seconds; 0 for none or nonsense."""
    try:
        return max(int(timeout), 0) / 1000 if isinstance(timeout, str) else 0.0
    except ValueError:
        return 0.0


def _redacted(query: dict[str, str | list[str]], secret_fields: Collection[str]) -> str:
    hidden = {*TOKEN_FIELDS, *secret_fields}
    return "&".join(f"{name}={'<redacted>' if name in hidden else value}" for name, value in query.items())
