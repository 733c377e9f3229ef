"""Users, their devices, and the access tokens that name a (user, device) session."""

from __future__ import annotations

import base64
import hmac
import itertools
import secrets
from dataclasses import dataclass, field

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.refresh_tokens import RefreshTokens
from mockmx.homeserver.usernames import check_localpart
from mockmx.scenario.model import UserSpec

# A bound on what registration can add: far more accounts than any test makes, far fewer than exhaust memory.
MAX_REGISTERED_USERS = 10_000


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
        self.refresh_tokens = RefreshTokens()
        # (user_id, device_id) -> (IP address, time in ms) of the device's latest authenticated request
        self.last_seen: dict[tuple[str, str], tuple[str | None, int]] = {}
        self._guest_numbers = itertools.count(1)
        self._registered = 0

    def add_user(self, spec: UserSpec) -> None:
        # As Synapse registers a user: the display name is the localpart unless one is given.
        user = User(spec.user_id, spec.password, spec.display_name or spec.user_id[1:].split(":", 1)[0])
        self.users[spec.user_id] = user
        for device in spec.devices:
            user.devices[device.device_id] = device.display_name
            if device.access_token is not None:
                self.tokens[device.access_token] = Session(spec.user_id, device.device_id)

    def session(self, access_token: str) -> Session | None:
        session = self.tokens.get(access_token)
        if session is not None:
            # The first use of a refreshed access token revokes the pair it replaced.
            for revoked in self.refresh_tokens.first_use(access_token):
                self.tokens.pop(revoked, None)
        return session

    def seen(self, session: Session, ip: str | None, now_ms: int) -> None:
        """The device made an authenticated request: what `GET /devices` shows as `last_seen_ip`/`last_seen_ts`."""
        self.last_seen[(session.user_id, session.device_id)] = (ip, now_ms)

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

    def with_refresh_token(self, token: str, session: Session) -> str:
        """A refresh token for a freshly issued access token (a login or registration that asked for one)."""
        return self.refresh_tokens.issue(session.user_id, session.device_id, token)

    def refresh(self, refresh_token: str) -> tuple[str, str] | None:
        """A new (access token, refresh token) pair for the device `refresh_token` names; None when it is not valid."""
        pair = self.refresh_tokens.get(refresh_token)
        if pair is None:
            return None
        user = self.users[pair.user_id]
        token = _new_token(pair.user_id)
        self.tokens[token] = Session(pair.user_id, pair.device_id, user.is_guest)
        new_refresh_token, revoked = self.refresh_tokens.exchange(refresh_token, token)
        for old in revoked:
            self.tokens.pop(old, None)
        return token, new_refresh_token

    def logout(self, access_token: str) -> Session | None:
        """Forget the token and, as Synapse does, the device it was for (and the device's other tokens)."""
        session = self.tokens.get(access_token)
        if session is not None:
            self.delete_device(session.user_id, session.device_id)
        return session

    def delete_device(self, user_id: str, device_id: str, *, keep_token: str | None = None) -> None:
        """Forget the device and log out every token it has (but `keep_token`, which keeps the device too)."""
        for token, other in list(self.tokens.items()):
            if other.user_id == user_id and other.device_id == device_id and token != keep_token:
                del self.tokens[token]
        kept = self.tokens.get(keep_token) if keep_token is not None else None
        if kept is not None and (kept.user_id, kept.device_id) == (user_id, device_id):
            return
        self.refresh_tokens.drop_device(user_id, device_id)
        self.last_seen.pop((user_id, device_id), None)
        user = self.users.get(user_id)
        if user is not None:
            user.devices.pop(device_id, None)

    def register_guest(self, display_name: str | None) -> tuple[str, Session]:
        user_id = self._numbered_user_id()
        self.users[user_id] = User(user_id, None, None, is_guest=True)
        return self.login(user_id, None, display_name)

    def check_available(self, localpart: str) -> str:
        """The user id `localpart` names if a client may register it; else 400 M_INVALID_USERNAME or M_USER_IN_USE."""
        check_localpart(localpart, self.server_name)
        user_id = f"@{localpart}:{self.server_name}"
        if user_id in self.users:
            raise MatrixError(400, "User ID already taken.", Codes.USER_IN_USE)
        return user_id

    def register(self, localpart: str | None, password: str) -> str:
        """A new account (a numbered one without `localpart`, as Synapse makes); its user id."""
        if self._registered >= MAX_REGISTERED_USERS:
            raise MatrixError(403, f"This mock takes at most {MAX_REGISTERED_USERS} new accounts", Codes.FORBIDDEN)
        user_id = self.check_available(localpart) if localpart is not None else self._numbered_user_id()
        # As Synapse registers a user: the display name starts as the localpart.
        self.users[user_id] = User(user_id, password, user_id[1:].split(":", 1)[0])
        self._registered += 1
        return user_id

    def set_password(self, user_id: str, password: str) -> None:
        self.users[user_id].password = password

    def _numbered_user_id(self) -> str:
        # Synapse numbers its guests and the accounts registered without a username; the number is the localpart.
        user_id = f"@{next(self._guest_numbers)}:{self.server_name}"
        while user_id in self.users:
            user_id = f"@{next(self._guest_numbers)}:{self.server_name}"
        return user_id

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
