"""The seam between a server and the app it serves.

A server (`mockmx.server.MockServer`, the test fixtures' quick server) knows an app only as `Hosted`: it tells it
where it was bound and asks it to end pending long polls at shutdown. The app's own object (a `Mock`, a replay's
`ReplayHost`) is attached to the Starlette app once, and reached through `hosted_as`, the one typed accessor.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from starlette.applications import Starlette

T = TypeVar("T")

# Where the object is kept on the app: a plain attribute, as it is read on every request (Starlette's `app.state`
# finds its attributes through `__getattr__`, after a failed lookup).
_ATTRIBUTE = "mockmx_hosted"


class Hosted(Protocol):
    """What a server asks of the app it serves."""

    def bound_at(self, url: str) -> None:
        """The server is listening at `url` (known only once bound, so that port 0 works)."""

    def release_long_polls(self) -> None:
        """Answer every pending long poll now, so that shutdown is not held up by their timeouts."""


def attach(app: Starlette, hosted: Hosted) -> None:
    """Make `hosted` the object behind `app`, for servers and endpoints to reach."""
    setattr(app, _ATTRIBUTE, hosted)


def hosted_by(app: Any) -> Hosted:
    """The object behind an app made by `create_app` or `create_replay_app`."""
    hosted: Hosted = getattr(app, _ATTRIBUTE)
    return hosted


def hosted_as(app: Any, kind: type[T]) -> T:
    """The object behind `app` (a request's `app` will do), checked to be a `kind`."""
    hosted = getattr(app, _ATTRIBUTE)
    if not isinstance(hosted, kind):
        raise TypeError(f"this app serves a {type(hosted).__name__}, not a {kind.__name__}")
    return hosted


def http_url(host: str, port: int) -> str:
    """The URL of a plain HTTP server bound at `host`:`port` (an IPv6 address in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"
