"""What is wrong with a file the user wrote or recorded: problems at a line and column, and the error carrying them.

ValueError
 └── FileError            a file that does not load, with every problem found in it
      ├── ScenarioError   a scenario file (`mockmx check`, `mockmx serve --scenario`)
      └── RecordingError  a recording file (`mockmx replay`, the pytest plugin)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a 1-based line and column."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class FileError(ValueError):
    """A file that does not load; `problems` lists everything wrong with it, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(map(str, self.problems)))


class ScenarioError(FileError):
    """A scenario file that does not load."""


class RecordingError(FileError):
    """A recording file that does not load."""
