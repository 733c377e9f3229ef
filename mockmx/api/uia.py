"""User-Interactive Authentication for endpoints where a signed-in user proves their password again.

`confirm_password` is all such an endpoint needs: it lets the request through once the UIA session has a
completed `m.login.password` stage for the very user the access token belongs to, and raises the 401 otherwise.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mockmx.api.request import homeserver, require_str
from mockmx.api.session import login_user
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.uia import PASSWORD


def operation(request: Request) -> str:
    """What a UIA session is for: a session started for one endpoint cannot authorise another."""
    return f"{request.method} {request.url.path}"


def confirm_password(request: Request, body: dict[str, Any], session: Session) -> dict[str, Any]:
    """The request's parameters (its body without `auth`, or an earlier request's of the same UIA session) once
    `auth` proves the password of `session`'s user; else the 401 asking for it, or 403 for another user's password.
    """
    hs = homeserver(request)
    user = hs.accounts.users.get(session.user_id)
    # As in Synapse, a user without a password is offered no flow, and so can never complete one.
    flows = [[PASSWORD]] if user is not None and user.password is not None else []
    uia = hs.uia.authenticate(
        body, operation=operation(request), flows=flows, checks={PASSWORD: lambda auth: _password(hs, auth)}
    )
    if uia.completed[PASSWORD] != session.user_id:
        raise MatrixError(403, "Invalid auth", Codes.FORBIDDEN)
    return uia.params


def _password(hs: Homeserver, auth: dict[str, Any]) -> str:
    """The user whose password the `m.login.password` stage gives (identified as a login identifies them)."""
    user_id = hs.accounts.resolve_login_user(login_user(auth))
    if not hs.accounts.check_password(user_id, require_str(auth, "password")):
        raise MatrixError(403, "Invalid username or password", Codes.FORBIDDEN)
    return user_id
