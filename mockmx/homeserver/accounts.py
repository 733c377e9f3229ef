"""Users, their devices, and the access tokens that name a (user, device) session."""

from __future__ import annotations

import base64
import hmac
import itertools
import secrets
from dataclasses import dataclass, field

from mockmx.scenario.model import UserSpec


@dataclass(frozen=True, slots=True)
class Session:
    """Who a request is from: what an access token stands for."""

    user_id: str
    device_id: str
    is_guest: bool = False


@dataclass
class User:
    user_id: str
    password: str | None
    display_name: str | None  # None once cleared; guests start without one
    is_guest: bool = False
    devices: dict[str, str | None] = field(default_factory=dict)  # device_id -> display name
    avatar_url: str | None = None  # an mxc:// URI


class Accounts:
    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Session] = {}
        self._guest_numbers = itertools.count(1)

    def add_user(self, spec: UserSpec) -> None:
        # As Synapse registers a user: the display name is the localpart unless one is given.
        user = User(spec.user_id, spec.password, spec.display_name or spec.user_id[1:].split(":", 1)[0])
        self.users[spec.user_id] = user
        for device in spec.devices:
            user.devices[device.device_id] = device.display_name
            if device.access_token is not None:
                self.tokens[device.access_token] = Session(spec.user_id, device.device_id)

    def session(self, access_token: str) -> Session | None:
        return self.tokens.get(access_token)

    def resolve_login_user(self, name: str) -> str:
        """A full user id for what a client typed: `@alice:server`, `alice` or `@alice`.

        Like Synapse, the localpart is matched case-insensitively (local users are lower-case).
        """
        localpart, _, server = name.strip().removeprefix("@").partition(":")
        return f"@{localpart.lower()}:{server or self.server_name}"

    def check_password(self, user_id: str, password: str) -> bool:
        user = self.users.get(user_id)
        if user is None or user.password is None or user.is_guest:
            return False
        return hmac.compare_digest(user.password.encode(), password.encode())

    def login(self, user_id: str, device_id: str | None, display_name: str | None) -> tuple[str, Session]:
        """A new access token for the user's device (created when new, kept when it exists)."""
        user = self.users[user_id]
        device_id = device_id or _new_device_id()
        if device_id not in user.devices or display_name is not None:
            user.devices[device_id] = display_name
        session = Session(user_id, device_id, user.is_guest)
        token = _new_token(user_id)
        self.tokens[token] = session
        return token, session

    def logout(self, access_token: str) -> Session | None:
        """Forget the token and, as Synapse does, the device it was for (and the device's other tokens)."""
        session = self.tokens.pop(access_token, None)
        if session is None:
            return None
        for token, other in list(self.tokens.items()):
            if other.user_id == session.user_id and other.device_id == session.device_id:
                del self.tokens[token]
        user = self.users.get(session.user_id)
        if user is not None:
            user.devices.pop(session.device_id, None)
        return session

    def register_guest(self, display_name: str | None) -> tuple[str, Session]:
        # Synapse numbers its guests; the number alone is the localpart.
        user_id = f"@{next(self._guest_numbers)}:{self.server_name}"
        while user_id in self.users:
            user_id = f"@{next(self._guest_numbers)}:{self.server_name}"
        self.users[user_id] = User(user_id, None, None, is_guest=True)
        return self.login(user_id, None, display_name)

    def device_ids(self, user_id: str) -> list[str]:
        user = self.users.get(user_id)
        return list(user.devices) if user is not None else []


def _new_device_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _new_token(user_id: str) -> str:
    # Synapse's shape (`syt_<base64 localpart>_<random>`), so recordings and logs look familiar.
    localpart = user_id[1:].split(":", 1)[0]
    encoded = base64.urlsafe_b64encode(localpart.encode()).decode().rstrip("=")
    return f"syt_{encoded}_{secrets.token_urlsafe(15)}"
