"""Passthrough: a request the recording does not hold, answered by the upstream homeserver instead (and kept as
a new flow when the replay records them), and the logins that make the upstream accept the client's tokens."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from starlette.requests import Request
from starlette.responses import Response

from mockmx.errors import MatrixError
from mockmx.record import Flow
from mockmx.record.entry import MultiMap, kept_headers
from mockmx.record.redact import PLACEHOLDER
from mockmx.replay.extend import Exchange, RecordingExtension
from mockmx.replay.replayer import Replayer
from mockmx.replay.shape import Shape

log = logging.getLogger("mockmx.replay")
# Headers a passed-through request must not carry to the upstream as they came.
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
# The upstream's answer headers passed back with its body.
_ANSWER_HEADERS = frozenset({"content-type", "retry-after", "location"})


class Passthrough:
    """The upstream homeserver a replay passes misses to, and the copy of the recording they are added to."""

    def __init__(self, upstream: str, replayer: Replayer, extension: RecordingExtension | None) -> None:
        self.client = httpx.AsyncClient(base_url=upstream.rstrip("/"))
        self.replayer = replayer
        self.extension = extension

    async def aclose(self) -> None:
        await self.client.aclose()

    async def answer(
        self,
        request: Request,
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
            answer = await self.forward_until_stopped(request, url, content, wait)
        except MatrixError:
            log.warning("mockmx replay: %s", self.replayer.miss(got, shown, "passthrough: no answer from the upstream"))
            raise
        log.warning("mockmx replay: %s", self.replayer.miss(got, shown, f"passthrough: {answer.status_code}"))
        extension = self.extension
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

    async def forward(self, request: Request, url: str, content: bytes, wait: float) -> httpx.Response:
        """The upstream homeserver's answer to the request (to `url`, its path and query), waiting `wait` seconds
        longer for a long poll; a 502 MatrixError when it does not answer."""
        headers = [(name, value) for name, value in request.headers.items() if name not in _HOP_HEADERS]
        try:
            return await self.client.request(
                request.method, url, headers=headers, content=content, timeout=httpx.Timeout(30 + wait)
            )
        except httpx.HTTPError as exc:
            raise MatrixError(502, f"mockmx replay: the upstream homeserver did not answer: {exc}") from exc

    async def forward_until_stopped(self, request: Request, url: str, content: bytes, wait: float) -> httpx.Response:
        """`forward`, except that a long poll is given up (a 503) when the replay stops, as replayed polls end then:
        a poll passed through must not hold the server's shutdown up for its whole timeout."""
        if wait <= 0:
            return await self.forward(request, url, content, wait)
        forward = asyncio.ensure_future(self.forward(request, url, content, wait))
        stopped = asyncio.ensure_future(self.replayer.hold_unanswered(None))
        try:
            await asyncio.wait({forward, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (forward, stopped):
                if not task.done():
                    task.cancel()
        if not forward.cancelled() and forward.done():
            return forward.result()
        raise MatrixError(503, "mockmx replay: stopping: the long poll passed on to the upstream was given up")

    async def sign_in(self, request: Request, flow: Flow, url: str, content: bytes) -> None:
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
            and self.replayer.bindings.secret_is_free(value)
        }
        if not tokens:
            return
        try:
            answer = await self.forward(request, url, content, 0)
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
                self.replayer.bindings.bind_secret(placeholder, real[name])
