"""Routing on the path as the client sent it, so a percent-encoded `/` or newline stays inside its segment.

Matrix ids and txnIds are opaque and percent-encoded in paths (`#a/b:hs` is `%23a%2Fb%3Ahs`); routing on the
decoded path would split them. Route parameters use the `segment` convertor, which decodes each one.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send


class SegmentConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return _unquote(value) if "%" in value else value

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


# Room ids and user ids come percent-encoded in nearly every request, the same ones again and again.
_unquote = lru_cache(maxsize=1024)(unquote)

register_url_convertor("segment", SegmentConvertor())


class RawPathRouting:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw and b"%" in raw:
            # A copy: the server's own access log still reads the decoded path from the original scope.
            scope = {**scope, "path": raw.decode("latin-1")}
        await self.app(scope, receive, send)
