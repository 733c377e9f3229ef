"""Who may use the control API and the inspector: anyone on a loopback bind, else only with the control token.

A mock bound beyond loopback without `--control-token` refuses them all: resetting or reading the journal is
not for whoever can reach the port. A browser has no header to send on a page load, so opening the page with
`?control_token=...` sets a cookie that its own requests then carry.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlsplit

from starlette.types import Scope

from mockmx.errors import Codes, MatrixError

COOKIE = "mockmx_control"
QUERY = "control_token"


class ControlGate:
    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.loopback = True  # until the server says where it is bound

    def bound_at(self, url: str) -> None:
        from mockmx.server import is_loopback  # the server module loads uvicorn, which an app need not

        self.loopback = is_loopback(urlsplit(url).hostname or "")

    def refusal(self, scope: Scope) -> MatrixError | None:
        """Why the control request in `scope` is refused, or None to serve it."""
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is not None and scope["method"] not in ("GET", "HEAD"):
            # Another site's page must not reset the mock through the user's browser.
            host = headers.get(b"host", b"").decode("latin-1")
            if urlsplit(origin.decode("latin-1")).netloc != host:
                return MatrixError(403, "The control API takes no cross-origin changes", Codes.FORBIDDEN)
        if self.token is None:
            if self.loopback:
                return None
            return MatrixError(
                403,
                "The control API is off on a server reachable from other machines: start it with --control-token",
                Codes.FORBIDDEN,
            )
        given = _token(scope, headers)
        if given is None:
            return MatrixError(401, "The control API needs the control token (Bearer)", Codes.MISSING_TOKEN)
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return MatrixError(401, "Wrong control token", Codes.UNKNOWN_TOKEN)
        return None


def _token(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization")
    if authorization is not None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    cookie = headers.get(b"cookie")
    if cookie is not None:
        morsel = SimpleCookie(cookie.decode("latin-1")).get(COOKIE)
        if morsel is not None:
            return morsel.value
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return query.get(QUERY)
