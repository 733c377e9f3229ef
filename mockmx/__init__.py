"""mockmx: a local mock and record/replay proxy for the Matrix protocol."""

from __future__ import annotations

__version__ = "0.1.0"
