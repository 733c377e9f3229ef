"""Field paths as the diff prints them (`devices[0].tweaks.sound`), and patterns over them for `ignore`.

A pattern is a path with wildcards: `[*]` (or `[]`) for any list index, `*` for any key. Keys that are not
identifiers are quoted, as the diff prints them: `content['m.relates_to'].event_id`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from mockmx.jsonpath import JsonPath, render_path

__all__ = ["DEFAULT_IGNORE", "IgnoreList", "JsonPath", "render_path"]

# What differs from run to run whatever the code under test does: ids the homeserver makes up, and the time a
# pushkey was registered. Counts, tweaks, priorities and room ids are meaningful, and compared.
DEFAULT_IGNORE: tuple[str, ...] = ("event_id", "id", "devices[*].pushkey_ts")


class _Any:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ANY_INDEX = _Any("[*]")
ANY_KEY = _Any("*")
Step = str | int | _Any

_STEP = re.compile(
    r"""(?P<dot>\.)?(?:
        (?P<name>[^.\[\]'"]+)
      | \[(?P<index>\d*|\*)\]
      | \[(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]
    )""",
    re.VERBOSE,
)


def parse_pattern(text: str) -> tuple[Step, ...]:
    """`devices[*].pushkey_ts` as steps; a ValueError saying where it stops making sense."""
    steps: list[Step] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or (match["dot"] and not steps) or (match["name"] and steps and not match["dot"]):
            raise ValueError(f"cannot read the field path {text!r} at character {position + 1}")
        if match["name"] is not None:
            steps.append(ANY_KEY if match["name"] == "*" else match["name"])
        elif match["index"] is not None:
            steps.append(int(match["index"]) if match["index"].isdigit() else ANY_INDEX)
        else:
            steps.append(ast.literal_eval(match["quoted"]))
        position = match.end()
    if not steps:
        raise ValueError("an empty field path")
    return tuple(steps)


class IgnoreList:
    """Field paths left out of a comparison, with everything below them."""

    def __init__(self, patterns: Iterable[str]) -> None:
        if isinstance(patterns, str):  # a lone string would otherwise be read as one pattern per character
            patterns = [patterns]
        self.patterns = tuple(dict.fromkeys(patterns))
        self._parsed = tuple(parse_pattern(pattern) for pattern in self.patterns)

    def covers(self, path: JsonPath) -> bool:
        return any(len(pattern) == len(path) and all(map(_step_matches, pattern, path)) for pattern in self._parsed)


def _step_matches(pattern: Step, step: str | int) -> bool:
    if pattern is ANY_INDEX:
        return isinstance(step, int)
    if pattern is ANY_KEY:
        return isinstance(step, str)
    return pattern == step
