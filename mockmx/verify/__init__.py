"""Notification assertions: the notifications a run sent against the ones expected, volatile fields aside.

`sources.py` reads notifications from the gateway's journal, a recording, a file or a URL; `compare.py` pairs
them up and words every difference; `paths.py` reads the field paths of `ignore`; `command.py` is
`mockmx verify`.
"""

from mockmx.verify.compare import (
    Comparison,
    Difference,
    assert_notifications,
    compare_notifications,
    describe,
    differences,
)
from mockmx.verify.paths import DEFAULT_IGNORE
from mockmx.verify.sources import notifications_of, pushed_in, read_notifications

__all__ = [
    "DEFAULT_IGNORE",
    "Comparison",
    "Difference",
    "assert_notifications",
    "compare_notifications",
    "describe",
    "differences",
    "notifications_of",
    "pushed_in",
    "read_notifications",
]
