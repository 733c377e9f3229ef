"""Refresh tokens: each names a device's session and the access token issued beside it.

Refreshing gives a new pair. As the spec says, the old refresh token stays valid until the new access token or the
new refresh token is first used (so a client whose answer got lost can try again); then the old pair is revoked,
its access token included. Refreshing the same old token again replaces the unused pair it gave before, so a
device never has more than two pairs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass
class RefreshToken:
    user_id: str
    device_id: str
    access_token: str  # the access token issued with it
    previous: str | None = None  # the refresh token it replaced, revoked when this pair is first used
    successor: str | None = None  # the refresh token it was exchanged for, while that pair is unused


class RefreshTokens:
    def __init__(self) -> None:
        self._tokens: dict[str, RefreshToken] = {}
        self._unused: dict[str, str] = {}  # access token of a refreshed pair not used yet -> its refresh token

    def issue(self, user_id: str, device_id: str, access_token: str) -> str:
        """A refresh token for a device's first access token (at login or registration)."""
        token = _new_refresh_token(user_id)
        self._tokens[token] = RefreshToken(user_id, device_id, access_token)
        return token

    def get(self, refresh_token: str) -> RefreshToken | None:
        """The pair `refresh_token` names, while it is valid."""
        return self._tokens.get(refresh_token)

    def exchange(self, refresh_token: str, access_token: str) -> tuple[str, list[str]]:
        """A new refresh token to go with the new `access_token`, and the access tokens this revokes.

        `refresh_token` must be valid (see `get`). Using it is the first use of its own pair, which revokes the
        pair it replaced; an unused pair it was exchanged for before is revoked too.
        """
        pair = self._tokens[refresh_token]
        revoked = self._retire_previous(pair)
        if pair.successor is not None:
            successor = self._tokens.pop(pair.successor)
            self._unused.pop(successor.access_token, None)
            revoked.append(successor.access_token)
        token = _new_refresh_token(pair.user_id)
        self._tokens[token] = RefreshToken(pair.user_id, pair.device_id, access_token, previous=refresh_token)
        pair.successor = token
        self._unused[access_token] = token
        return token, revoked

    def first_use(self, access_token: str) -> list[str]:
        """`access_token` was used: when that is its refreshed pair's first use, the access tokens this revokes."""
        refresh_token = self._unused.get(access_token) if self._unused else None
        if refresh_token is None:
            return []
        return self._retire_previous(self._tokens[refresh_token])

    def drop_device(self, user_id: str, device_id: str) -> None:
        for token, pair in list(self._tokens.items()):
            if pair.user_id == user_id and pair.device_id == device_id:
                del self._tokens[token]
                self._unused.pop(pair.access_token, None)

    def _retire_previous(self, pair: RefreshToken) -> list[str]:
        self._unused.pop(pair.access_token, None)
        if pair.previous is None:
            return []
        previous = self._tokens.pop(pair.previous)
        pair.previous = None
        return [previous.access_token]


def _new_refresh_token(user_id: str) -> str:
    # Synapse's refresh tokens start `syr_`, as its access tokens start `syt_`.
    localpart = user_id[1:].split(":", 1)[0]
    return f"syr_{localpart.encode().hex()[:16]}_{secrets.token_urlsafe(15)}"
