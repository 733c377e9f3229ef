"""Who the recorded sessions were: each recorded access token's user and device, as the recording tells them
(a login's or registration's answer, a whoami), so that replay can say whose session a token could be, and bind
the tokens a user declares (`--token @bob:localhost=TOKEN`) to the right one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockmx.record.model import Leg, Recording
from mockmx.replay.bindings import Bindings


@dataclass(frozen=True, slots=True)
class RecordedSession:
    token: str  # the access token as recorded (a placeholder such as `<token:1>` when redacted)
    user_id: str
    device_id: str | None

    def __str__(self) -> str:
        device = f" (device {self.device_id})" if self.device_id else ""
        return f"{self.user_id}{device} as {self.token}"


def recorded_sessions(recording: Recording) -> dict[str, RecordedSession]:
    """Every recorded access token whose user the recording tells, by token, in recorded order."""
    found: dict[str, RecordedSession] = {}
    for flow in recording.flows:
        response = flow.response
        if flow.leg != Leg.CLIENT or response is None or response.body_kind != "body":
            continue
        if not response.may_have_key("user_id"):  # so that a large recording's bodies stay unbuilt
            continue
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("user_id"), str):
            continue
        device = body.get("device_id") if isinstance(body.get("device_id"), str) else None
        token = body.get("access_token")
        if not isinstance(token, str):  # a whoami: the token is the request's
            authorization = flow.request.header("authorization") or ""
            token = authorization.partition(" ")[2].strip() or None
        if token and token not in found:
            found[token] = RecordedSession(token, body["user_id"], device)
    return found


def bind_declared(tokens: Mapping[str, str], sessions: Mapping[str, RecordedSession], bindings: Bindings) -> None:
    """Bind each declared live token to the recorded session of its user (`@user:server` or
    `@user:server/DEVICE`); a ValueError when the recording has no such session, or more than one."""
    for who, live in tokens.items():
        user_id, _, device_id = who.partition("/")
        matching = [
            session
            for session in sessions.values()
            if session.user_id == user_id and (not device_id or session.device_id == device_id)
        ]
        if not matching:
            known = ", ".join(sorted({session.user_id for session in sessions.values()})) or "none"
            raise ValueError(f"the recording has no session of {who} to bind a token to (its users: {known})")
        if len(matching) > 1:
            devices = ", ".join(f"{user_id}/{session.device_id}" for session in matching)
            raise ValueError(f"{user_id} has {len(matching)} sessions in the recording: name the device ({devices})")
        bindings.bind_secret(matching[0].token, live)
