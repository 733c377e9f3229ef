"""Which localparts a client may register: Synapse's rules (`RegistrationHandler.check_username`)."""

from __future__ import annotations

import re
import string

from mockmx.errors import Codes, MatrixError

_ALLOWED = frozenset("_-./=+" + string.ascii_lowercase + string.digits)
MAX_USER_ID_LENGTH = 255
# Numbers are what guests and generated accounts get: Synapse keeps them out of clients' hands.
GENERATED = re.compile(r"\d+")


def check_localpart(localpart: str, server_name: str) -> None:
    """400 M_INVALID_USERNAME when `localpart` is not one a client may ask for (whether or not it is taken)."""
    if not set(localpart) <= _ALLOWED:
        raise MatrixError(400, "User ID can only contain characters a-z, 0-9, or '=_-./+'", Codes.INVALID_USERNAME)
    if not localpart:
        raise MatrixError(400, "User ID cannot be empty", Codes.INVALID_USERNAME)
    if localpart.startswith("_"):
        raise MatrixError(400, "User ID may not begin with _", Codes.INVALID_USERNAME)
    if len(f"@{localpart}:{server_name}") > MAX_USER_ID_LENGTH:
        raise MatrixError(
            400, f"User ID may not be longer than {MAX_USER_ID_LENGTH} characters", Codes.INVALID_USERNAME
        )
    if GENERATED.fullmatch(localpart):
        raise MatrixError(400, "Numeric user IDs are reserved for guest users.", Codes.INVALID_USERNAME)
