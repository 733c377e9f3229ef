"""User-Interactive Authentication sessions: how long they live and how many are kept, on a clock the test turns."""

from __future__ import annotations

from typing import Any

import pytest

from mockmx.errors import MatrixError
from mockmx.homeserver.uia import DUMMY, MAX_SESSIONS, SESSION_LIFETIME_MS, AuthRequired, InteractiveAuth

FLOWS = [[DUMMY]]
CHECKS = {DUMMY: lambda auth: True}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def start(uia: InteractiveAuth, operation: str = "POST /register", **params: Any) -> str:
    with pytest.raises(AuthRequired) as caught:
        uia.authenticate(params, operation=operation, flows=FLOWS, checks=CHECKS)
    assert caught.value.status == 401
    session: str = caught.value.extra["session"]
    return session


def complete(uia: InteractiveAuth, session: str, operation: str = "POST /register") -> dict[str, Any]:
    body = {"auth": {"type": DUMMY, "session": session}}
    return uia.authenticate(body, operation=operation, flows=FLOWS, checks=CHECKS).params


def test_a_session_completes_with_the_parameters_it_was_started_with() -> None:
    uia = InteractiveAuth(Clock())
    session = start(uia, username="kim")
    assert complete(uia, session) == {"username": "kim"}


def test_a_session_expires_after_48_hours() -> None:
    clock = Clock()
    uia = InteractiveAuth(clock)
    kept, expired = start(uia), start(uia)
    clock.now += SESSION_LIFETIME_MS
    complete(uia, kept)  # exactly 48 hours old: still there
    clock.now += 1
    with pytest.raises(MatrixError) as caught:
        complete(uia, expired)
    assert (caught.value.status, caught.value.errcode) == (400, "M_UNKNOWN")


def test_the_oldest_sessions_go_beyond_the_bound() -> None:
    uia = InteractiveAuth(Clock())
    oldest = start(uia)
    newer = [start(uia) for _ in range(MAX_SESSIONS)]
    with pytest.raises(MatrixError) as caught:
        complete(uia, oldest)
    assert caught.value.errcode == "M_UNKNOWN"
    complete(uia, newer[0])
    assert len(uia) == MAX_SESSIONS


def test_the_first_challenge_has_no_errcode() -> None:
    uia = InteractiveAuth(Clock())
    with pytest.raises(AuthRequired) as caught:
        uia.authenticate({}, operation="POST /register", flows=FLOWS, checks=CHECKS)
    body = caught.value.body()
    assert b"errcode" not in body and b"completed" not in body
    assert b'"flows":[{"stages":["m.login.dummy"]}]' in body
