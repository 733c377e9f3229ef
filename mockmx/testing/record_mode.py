"""When a test's recording is made afresh and when it is replayed, in the style of VCR.py's record modes."""

from __future__ import annotations

from enum import StrEnum


class RecordMode(StrEnum):
    """`--mockmx-record-mode`, or `record_mode` in the marker or `mockmx_config`."""

    NONE = "none"  # replay only; a missing recording fails the test (the default: CI never reaches a homeserver)
    ONCE = "once"  # record when the recording is missing, replay it otherwise
    NEW = "new"  # as once, and a request the recording does not hold goes to the homeserver and is added to it
    ALL = "all"  # record every time, replacing the recording

    @classmethod
    def parse(cls, value: str | RecordMode) -> RecordMode:
        """`value` as a mode; a ValueError listing the valid ones."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(mode.value for mode in cls)
            raise ValueError(f"unknown record mode {value!r}; expected one of: {valid}") from None
