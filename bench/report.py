"""The results table, and bench/results.md with the machine the figures came from."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

NOT_BUILT = "not built yet"


@dataclass(frozen=True)
class Row:
    benchmark: str
    mockmx: str
    limit: str = ""
    ratio: str = ""
    goal: str = ""
    met: str = ""  # "yes", "no (why)", or empty where there is no goal


COLUMNS = ("benchmark", "mockmx", "limit", "ratio", "goal", "met")


def table(rows: list[Row]) -> str:
    """A Markdown table, padded so it reads as well on a terminal."""
    cells = [list(COLUMNS)] + [[getattr(row, column) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |" for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def unmet(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row.met == "no" or row.met.startswith("no (")]


def machine() -> list[str]:
    """Where the figures came from: enough to tell whether another run is comparable."""
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("starlette", "uvicorn", "uvloop", "httptools", "aiohttp")
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"mockmx {_mockmx_revision()}",
        f"CPU: {_cpu_model()}, {os.cpu_count()} logical cores (load average at start: {load})",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {platform.python_version()} ({sys.implementation.name}); {versions}",
    ]


def write_results(
    path: Path, *, command: str, rows: list[Row], machine_lines: list[str], settings: list[str], notes: list[str]
) -> None:
    missed = unmet(rows)
    verdict = (
        "Every goal measured here is met."
        if not missed
        else "Goals not met: " + "; ".join(f"{row.benchmark} ({row.met})" for row in missed) + "."
    )
    unbuilt = [row.benchmark for row in rows if row.met == NOT_BUILT]
    if unbuilt:
        verdict += " Not measured, their benchmarks not built yet: " + "; ".join(unbuilt) + "."
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `{command}` on {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; every run "
            "overwrites this file. Ratios compare mockmx with the limit measured in the same run, interleaved, so "
            "they hold on a busy machine; absolute figures depend on the machine below.",
            "",
            "## Machine",
            "",
            *(f"- {line}" for line in machine_lines),
            "",
            "## Settings",
            "",
            *(f"- {line}" for line in settings),
            "",
            "## Figures",
            "",
            table(rows),
            "",
            verdict,
            "",
            "## Notes",
            "",
            *(f"- {line}" for line in notes),
            "",
        ]
    )
    path.write_text(text, encoding="utf-8")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mockmx_revision() -> str:
    """The version and commit measured, marked when the working tree differs from it."""
    from mockmx import __version__

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "mockmx"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__} at {commit}" + (" with local changes to mockmx/" if dirty else "")
