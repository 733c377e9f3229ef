"""Matrix errors as data: endpoints raise `MatrixError`, one handler renders `{"errcode", "error", ...}`."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class Codes(StrEnum):
    FORBIDDEN = "M_FORBIDDEN"
    UNKNOWN_TOKEN = "M_UNKNOWN_TOKEN"
    MISSING_TOKEN = "M_MISSING_TOKEN"
    BAD_JSON = "M_BAD_JSON"
    NOT_JSON = "M_NOT_JSON"
    NOT_FOUND = "M_NOT_FOUND"
    LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
    UNRECOGNIZED = "M_UNRECOGNIZED"
    UNKNOWN = "M_UNKNOWN"
    MISSING_PARAM = "M_MISSING_PARAM"
    INVALID_PARAM = "M_INVALID_PARAM"
    TOO_LARGE = "M_TOO_LARGE"
    ROOM_IN_USE = "M_ROOM_IN_USE"
    GUEST_ACCESS_FORBIDDEN = "M_GUEST_ACCESS_FORBIDDEN"
    USER_IN_USE = "M_USER_IN_USE"
    BAD_STATE = "M_BAD_STATE"
    INVALID_SIGNATURE = "M_INVALID_SIGNATURE"
    WRONG_ROOM_KEYS_VERSION = "M_WRONG_ROOM_KEYS_VERSION"
    CANNOT_OVERWRITE_MEDIA = "M_CANNOT_OVERWRITE_MEDIA"
    NOT_YET_UPLOADED = "M_NOT_YET_UPLOADED"
    INVALID_USERNAME = "M_INVALID_USERNAME"


class MatrixError(Exception):
    """An error answer: HTTP status, Matrix errcode, message, and any extra body fields or headers."""

    def __init__(
        self,
        status: int,
        msg: str,
        errcode: str | Codes = Codes.UNKNOWN,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
        self.errcode = str(errcode)
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> bytes:
        return json.dumps({"errcode": self.errcode, "error": self.msg, **self.extra}, separators=(",", ":")).encode()


def limit_exceeded(retry_after_ms: int, msg: str = "Too Many Requests") -> MatrixError:
    """A 429 the way Synapse sends it: `retry_after_ms` in the body and `Retry-After` (seconds) in the headers."""
    retry_after_s = max(1, -(-retry_after_ms // 1000))
    return MatrixError(
        429,
        msg,
        Codes.LIMIT_EXCEEDED,
        extra={"retry_after_ms": retry_after_ms},
        headers={"Retry-After": str(retry_after_s)},
    )


def unknown_token(msg: str = "Unknown access token") -> MatrixError:
    return MatrixError(401, msg, Codes.UNKNOWN_TOKEN, extra={"soft_logout": False})
