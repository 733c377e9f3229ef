"""Percentiles by nearest rank, shared by the load generators and the runner."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The `pct` percentile of an ascending sequence (0 when it is empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0
