"""Notification assertions: the notifications a run sent against the ones expected, volatile fields aside.

`sources.py` reads notifications from the gateway's journal, a recording, a file or a URL; `compare.py` pairs
them up and words every difference; `paths.py` reads the field paths of `ignore`; `command.py` is
`mockmx verify`.

The names below load on first use: `mockmx verify --help` should not load HTTP and YAML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.lazy import exports

if TYPE_CHECKING:
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
_HOMES = {
    "Comparison": "mockmx.verify.compare",
    "DEFAULT_IGNORE": "mockmx.verify.paths",
    "Difference": "mockmx.verify.compare",
    "assert_notifications": "mockmx.verify.compare",
    "compare_notifications": "mockmx.verify.compare",
    "describe": "mockmx.verify.compare",
    "differences": "mockmx.verify.compare",
    "notifications_of": "mockmx.verify.sources",
    "pushed_in": "mockmx.verify.sources",
    "read_notifications": "mockmx.verify.sources",
}

__getattr__ = exports(__name__, _HOMES)
