"""`JsonBytes`: an answer whose JSON body is already encoded, made without Starlette's header handling.

The answers a load test gets most (an event id, `{}`) are a few encoded bytes: Starlette's `Response` works out
their headers from general rules on each one; here they are the two every such answer has.
"""

from __future__ import annotations

from starlette.responses import Response


class JsonBytes(Response):
    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        # The attributes Response.__call__ sends, set as Response.__init__ would set them for this body.
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
