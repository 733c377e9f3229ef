"""The one renderer of error answers: every error leaves as a Matrix error body (`errcode`, `error`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from mockmx.errors import Codes, MatrixError
from mockmx.problems import RecordingError
from mockmx.web.allow import allowed_methods

log = logging.getLogger("mockmx")


def render(error: MatrixError, extra_headers: Mapping[str, str] | None = None) -> Response:
    """`error` as an answer: its status, its JSON body and its headers (a 429's Retry-After, say)."""
    headers = {**error.headers, **(extra_headers or {})}
    return Response(error.body(), status_code=error.status, headers=headers, media_type="application/json")


async def _matrix_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MatrixError)  # Starlette dispatches by type; this narrows it for mypy
    return render(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing misses: 404 for an unknown endpoint, 405 for a known one with the wrong method."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # Starlette names the first matching route's methods only: `OPTIONS /login` would not list POST.
        # Routing left the scope as the innermost mount saw it: match the path afresh from the top.
        fresh = {"type": "http", "path": request.scope["path"], "root_path": "", "method": request.method}
        methods = sorted(allowed_methods(request.app.router.routes, fresh) | {"OPTIONS"})
        allow = {"Allow": ", ".join(methods)}
        if request.method == "OPTIONS":  # as Synapse: 200 and an empty object for any path it serves
            return Response(b"{}", headers=allow, media_type="application/json")
        return render(MatrixError(405, "Unrecognized request", Codes.UNRECOGNIZED), allow)
    if exc.status_code == 404:
        return render(MatrixError(exc.status_code, "Unrecognized request", Codes.UNRECOGNIZED), exc.headers)
    return render(MatrixError(exc.status_code, exc.detail, Codes.UNKNOWN), exc.headers)


async def _recording_error(request: Request, exc: Exception) -> Response:
    # A replayed recording broken where loading it did not look: a response body is read when it is served.
    assert isinstance(exc, RecordingError)
    log.error("%s %s: the recording cannot answer: %s", request.method, request.url.path, exc)
    return render(MatrixError(500, f"mockmx replay: the recording cannot answer this request: {exc}", Codes.UNKNOWN))


async def _server_error(request: Request, exc: Exception) -> Response:
    # A bug in mockmx, never the client's input: answer as Synapse does, and keep the traceback in the log only.
    log.exception("internal error on %s %s", request.method, request.url.path)
    return render(MatrixError(500, "Internal server error", Codes.UNKNOWN))


# For `Starlette(exception_handlers=...)`: Matrix errors as raised, routing misses, broken recordings, and bugs.
EXCEPTION_HANDLERS: Mapping[type[Exception], ExceptionHandler] = {
    MatrixError: _matrix_error,
    HTTPException: _http_error,
    RecordingError: _recording_error,
    Exception: _server_error,
}
