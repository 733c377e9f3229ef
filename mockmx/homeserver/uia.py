"""User-Interactive Authentication: sessions that collect completed stages until one of an endpoint's flows is done.

An endpoint names its flows (lists of stage types) and a check for each stage type it offers. The first request
without `auth` gets a 401 naming the flows and a new session; later requests pass `auth` with a stage's credentials
and the session, until a flow is complete. As in Synapse, a session serves one operation (method and path) only,
remembers the request's parameters for requests that leave them out, and expires after 48 hours.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockmx.errors import Codes, MatrixError

PASSWORD = "m.login.password"
DUMMY = "m.login.dummy"

SESSION_LIFETIME_MS = 48 * 60 * 60 * 1000  # Synapse's SESSION_EXPIRE_MS
MAX_SESSIONS = 1000  # the oldest are forgotten first: a client abandoning sessions cannot grow the mock

# Checks one stage's `auth` dict and returns what it proved (Synapse keeps the user id a password proved). A check
# raises a 401 or 403 MatrixError for wrong credentials, which the client may retry in the same session; any other
# error (a malformed `auth`) is the request's answer.
StageCheck = Callable[[dict[str, Any]], Any]


class AuthRequired(MatrixError):
    """A 401 asking for (more) authentication: `{"flows", "params", "session"}`, the spec's auth response, with
    `completed` after the first request, and a failed stage's `errcode` and `error` only after a failure."""

    def __init__(self, auth: dict[str, Any], failure: MatrixError | None = None) -> None:
        super().__init__(
            401,
            failure.msg if failure else "Additional authentication required",
            failure.errcode if failure else Codes.UNKNOWN,
            extra=auth,
        )
        self.failure = failure

    def body(self) -> bytes:
        if self.failure is not None:
            return super().body()
        return json.dumps(self.extra, separators=(",", ":")).encode()


@dataclass
class UiaSession:
    session_id: str
    operation: str  # the method and path it was started for
    created_ms: int
    params: dict[str, Any]  # the request's body without `auth`, as last given
    completed: dict[str, Any] = field(default_factory=dict)  # stage type -> what its check returned
    data: dict[str, Any] = field(default_factory=dict)  # what the endpoint keeps between requests


class InteractiveAuth:
    """The homeserver's UIA sessions, newest last, bounded in number and in age."""

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self.clock_ms = clock_ms
        self._sessions: dict[str, UiaSession] = {}

    def authenticate(
        self,
        body: dict[str, Any],
        *,
        operation: str,
        flows: list[list[str]],
        checks: Mapping[str, StageCheck],
        remember: Mapping[str, Any] | None = None,
    ) -> UiaSession:
        """The session once a flow is complete (its `params` are the request's); else raises `AuthRequired`.

        A request whose `auth` has credentials but no session starts one, and succeeds at once when that stage
        completes a flow (as with Synapse). What `remember` holds goes into the session's `data` either way, for a
        later request of the session that leaves it out (None values are not remembered).
        """
        auth = body.get("auth")
        if auth is not None and not isinstance(auth, dict):
            raise MatrixError(400, "'auth' must be an object", Codes.BAD_JSON)
        params = {key: value for key, value in body.items() if key != "auth"}
        session_id = auth.get("session") if auth else None
        if session_id is None:
            session = self._start(operation, params)
        elif not isinstance(session_id, str):
            raise MatrixError(400, "'auth.session' must be a string", Codes.BAD_JSON)
        else:
            session = self._resume(session_id, operation, params)
        session.data.update((key, value) for key, value in (remember or {}).items() if value is not None)
        if not auth:
            raise AuthRequired(self._challenge(session, flows))
        failure = None
        stage = auth.get("type")
        if stage is not None:
            if not isinstance(stage, str):
                raise MatrixError(400, "'auth.type' must be a string", Codes.BAD_JSON)
            check = checks.get(stage) if any(stage in flow for flow in flows) else None
            if check is None:
                failure = MatrixError(400, f"Unrecognized authentication type {stage!r}", Codes.UNRECOGNIZED)
            else:
                try:
                    session.completed[stage] = check(auth)
                except MatrixError as error:
                    if error.status not in (401, 403):
                        raise
                    failure = error
        if any(all(stage in session.completed for stage in flow) for flow in flows):
            return session
        raise AuthRequired({**self._challenge(session, flows), "completed": list(session.completed)}, failure)

    def __len__(self) -> int:
        return len(self._sessions)

    def _start(self, operation: str, params: dict[str, Any]) -> UiaSession:
        self._expire()
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session = UiaSession(secrets.token_urlsafe(18), operation, self.clock_ms(), params)
        self._sessions[session.session_id] = session
        return session

    def _resume(self, session_id: str, operation: str, params: dict[str, Any]) -> UiaSession:
        self._expire()
        session = self._sessions.get(session_id)
        if session is None:
            raise MatrixError(400, f"Unknown session ID: {session_id}", Codes.UNKNOWN)
        if session.operation != operation:
            raise MatrixError(
                403, "Requested operation has changed during the UI authentication session.", Codes.FORBIDDEN
            )
        if params:
            session.params = params
        return session

    def _expire(self) -> None:
        oldest_kept = self.clock_ms() - SESSION_LIFETIME_MS
        while self._sessions:
            first = next(iter(self._sessions.values()))
            if first.created_ms >= oldest_kept:
                break
            del self._sessions[first.session_id]

    @staticmethod
    def _challenge(session: UiaSession, flows: list[list[str]]) -> dict[str, Any]:
        return {"session": session.session_id, "flows": [{"stages": flow} for flow in flows], "params": {}}
