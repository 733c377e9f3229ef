"""`create_replay_app`: a Starlette application answering as a recording says, and re-sending its notifications."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Collection
from typing import cast
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockmx.api.request import read_body
from mockmx.errors import Codes, MatrixError
from mockmx.record import Flow, Recording, load_recording
from mockmx.record.entry import MultiMap, kept_headers, multimap
from mockmx.record.redact import PLACEHOLDER
from mockmx.replay.extend import Exchange, RecordingExtension
from mockmx.replay.policy import UnmatchedPolicy
from mockmx.replay.replayer import Replayer
from mockmx.replay.shape import TOKEN_FIELDS, Shape
from mockmx.replay.state import ReplayState

log = logging.getLogger("mockmx.replay")
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
# Headers a passed-through request must not carry to the upstream as they came.
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
# The upstream's answer headers passed back with its body.
_ANSWER_HEADERS = frozenset({"content-type", "retry-after", "location"})


class _ServerHooks:
    """What `MockServer` asks of the app it serves (it was written for create_app's homeserver): a place to note
    its URL, and a notifier whose `release_all` ends pending long polls at shutdown."""

    def __init__(self, replayer: Replayer) -> None:
        self.base_url: str | None = None
        self.notifier = replayer


def create_replay_app(
    recording: Recording | str | os.PathLike[str],
    *,
    push_to: str | None = None,
    strict: bool = False,
    unmatched: UnmatchedPolicy | str = UnmatchedPolicy.NOT_FOUND,
    upstream: str | None = None,
    record_new: str | os.PathLike[str] | None = None,
) -> Starlette:
    """A server that answers as `recording` (or the recording file it names) did, with its state in
    `app.state.replay` (a `ReplayState`).

    `push_to` is the push gateway (base or notify URL) that gets the recorded notifications; `unmatched` what a
    request matching nothing is answered (`upstream` is the homeserver `passthrough` forwards to); `strict` marks
    misses as failures for the plugin and `mockmx replay` to report. `record_new` (with passthrough) is where a copy
    of the recording with the passed-through requests appended as flows is written, once there is one
    (`app.state.extension`, see extend.py).

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
    state = ReplayState(recording, strict=strict, unmatched=policy, push_to=push_to)
    replayer = Replayer(recording, state=state, push_to=push_to)
    passthrough = httpx.AsyncClient(base_url=upstream.rstrip("/")) if upstream is not None else None
    extension = None
    if record_new is not None:
        extension = RecordingExtension(
            recording,
            record_new,
            bindings=replayer.bindings,
            returned=replayer.returned,
            secret_fields=replayer.secret_fields,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await replayer.stop()
            if passthrough is not None:
                await passthrough.aclose()
            if extension is not None:
                extension.close()

    app = Starlette(
        routes=[
            Route("/_mockmx/replay", _replay_status, methods=["GET"]),
            Route("/{path:path}", _answer, methods=METHODS),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
            )
        ],
        exception_handlers={MatrixError: _matrix_error},
        lifespan=lifespan,
    )
    app.state.replay = state
    app.state.replayer = replayer
    app.state.passthrough = passthrough
    app.state.extension = extension
    app.state.homeserver = _ServerHooks(replayer)
    return app


async def _answer(request: Request) -> Response:
    replayer = cast(Replayer, request.app.state.replayer)
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
        if replayer.state.unmatched is UnmatchedPolicy.PASSTHROUGH and replayer.recording.secrets != "kept":
            await _sign_in_upstream(request, replayer, flow, url, content)
        await replayer.hold(entry, long_poll)
        return replayer.respond(entry)

    shown = request.method + " " + path + ("?" + _redacted(query, replayer.secret_fields) if query else "")
    policy = replayer.state.unmatched
    if policy is UnmatchedPolicy.PASSTHROUGH:
        return await _pass_through(request, replayer, got, shown, url, query, content, long_poll)
    miss = replayer.miss(got, shown, f"{policy.value}")
    log.warning("mockmx replay: %s", miss)
    status, errcode = (404, Codes.UNRECOGNIZED) if policy is UnmatchedPolicy.NOT_FOUND else (500, Codes.UNKNOWN)
    raise MatrixError(
        status,
        f"mockmx replay: {miss.message}",
        errcode,
        extra={"mockmx_near_misses": [near.to_dict() for near in miss.near]},
    )


async def _pass_through(
    request: Request,
    replayer: Replayer,
    got: Shape,
    shown: str,
    url: str,
    query: MultiMap,
    content: bytes,
    wait: float,
) -> Response:
    """A miss answered by the upstream homeserver, still reported as a miss, and kept as a new flow when the
    replay records them (`record_new`)."""
    began = time.time()
    try:
        answer = await _forward_until_stopped(request, replayer, url, content, wait)
    except MatrixError:
        log.warning("mockmx replay: %s", replayer.miss(got, shown, "passthrough: no answer from the upstream"))
        raise
    log.warning("mockmx replay: %s", replayer.miss(got, shown, f"passthrough: {answer.status_code}"))
    extension = cast(RecordingExtension | None, request.app.state.extension)
    if extension is not None:
        exchange = Exchange(
            method=request.method,
            path=url.partition("?")[0],
            query=query,
            headers=kept_headers(request.headers.items()),
            content=content,
            status=answer.status_code,
            response_headers=kept_headers(answer.headers.multi_items()),
            response_content=answer.content,
            began=began,
            ended=time.time(),
        )
        await extension.append(exchange)  # on disk before the client has it, as mockmx record does
    kept = {name: value for name, value in answer.headers.items() if name in _ANSWER_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


async def _forward(request: Request, url: str, content: bytes, wait: float) -> httpx.Response:
    """The upstream homeserver's answer to the request (to `url`, its path and query), waiting `wait` seconds
    longer for a long poll; a 502 MatrixError when it does not answer."""
    client = cast(httpx.AsyncClient, request.app.state.passthrough)
    headers = [(name, value) for name, value in request.headers.items() if name not in _HOP_HEADERS]
    try:
        return await client.request(
            request.method, url, headers=headers, content=content, timeout=httpx.Timeout(30 + wait)
        )
    except httpx.HTTPError as exc:
        raise MatrixError(502, f"mockmx replay: the upstream homeserver did not answer: {exc}") from exc


async def _forward_until_stopped(
    request: Request, replayer: Replayer, url: str, content: bytes, wait: float
) -> httpx.Response:
    """`_forward`, except that a long poll is given up (a 503) when the replay stops, as replayed polls end then:
    a poll passed through must not hold the server's shutdown up for its whole timeout."""
    if wait <= 0:
        return await _forward(request, url, content, wait)
    forward = asyncio.ensure_future(_forward(request, url, content, wait))
    stopped = asyncio.ensure_future(replayer.hold_unanswered(None))
    try:
        await asyncio.wait({forward, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (forward, stopped):
            if not task.done():
                task.cancel()
    if not forward.cancelled() and forward.done():
        return forward.result()
    raise MatrixError(503, "mockmx replay: stopping: the long poll passed on to the upstream was given up")


async def _sign_in_upstream(request: Request, replayer: Replayer, flow: Flow, url: str, content: bytes) -> None:
    """Make a login or registration the recording answers (with placeholders for its tokens) on the upstream too,
    and bind the tokens it returns to the recorded ones: the client then holds credentials the upstream accepts
    on the requests passed through to it."""
    recorded = flow.response
    body = recorded.body if recorded is not None and recorded.body_kind == "body" else None
    if recorded is None or not 200 <= recorded.status < 300 or not isinstance(body, dict):
        return
    tokens = {
        name: value
        for name in ("access_token", "refresh_token")
        if isinstance(value := body.get(name), str)
        and PLACEHOLDER.fullmatch(value)
        and replayer.bindings.secret_is_free(value)
    }
    if not tokens:
        return
    try:
        answer = await _forward(request, url, content, 0)
        real = answer.json() if answer.is_success else None
        why = f"it answered {answer.status_code}"
    except MatrixError as exc:
        real, why = None, exc.msg
    except ValueError:
        real, why = None, "its answer is not JSON"
    if not isinstance(real, dict) or not isinstance(real.get("access_token"), str):
        log.warning(
            "mockmx replay: could not sign in on the upstream as %s %s did (%s); requests passed through will "
            "carry a token it does not know",
            request.method,
            url.partition("?")[0],
            why,
        )
        return
    for name, placeholder in tokens.items():
        if isinstance(real.get(name), str):
            replayer.bindings.bind_secret(placeholder, real[name])


async def _replay_status(request: Request) -> Response:
    """What the replay did so far, as JSON: the answered flows, the misses, the re-sent notifications."""
    state = cast(ReplayState, request.app.state.replay)
    return JSONResponse(state.to_json())


async def _matrix_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MatrixError)  # Starlette dispatches by type; this narrows it for mypy
    return Response(exc.body(), status_code=exc.status, headers=exc.headers, media_type="application/json")


def _seconds(timeout: str | list[str] | None) -> float:
    """A long poll's `timeout` (milliseconds) in seconds; 0 for none or nonsense."""
    try:
        return max(int(timeout), 0) / 1000 if isinstance(timeout, str) else 0.0
    except ValueError:
        return 0.0


def _redacted(query: dict[str, str | list[str]], secret_fields: Collection[str]) -> str:
    hidden = {*TOKEN_FIELDS, *secret_fields}
    return "&".join(f"{name}={'<redacted>' if name in hidden else value}" for name, value in query.items())
