"""What replay answers a request that matches no recorded one (vcrpy's `record_mode.py`, for misses)."""

from __future__ import annotations

from enum import StrEnum


class UnmatchedPolicy(StrEnum):
    """The answer to a miss; every miss is also kept in `ReplayState.misses`, whatever the policy."""

    NOT_FOUND = "404"  # 404 M_UNRECOGNIZED, as a homeserver answers an unknown endpoint, with the near-miss report
    ERROR = "error"  # 500 M_UNKNOWN with the same report: loud, for clients that shrug a 404 off as "unsupported"
    PASSTHROUGH = "passthrough"  # forward to a real homeserver (`upstream`) and answer what it says

    @classmethod
    def parse(cls, value: str | UnmatchedPolicy) -> UnmatchedPolicy:
        """`value` as a policy, or a ValueError listing the valid ones."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(repr(policy.value) for policy in cls)
            raise ValueError(f"unknown unmatched-request policy {value!r}: expected one of {valid}") from None
