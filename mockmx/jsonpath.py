"""Where a value stands in a JSON document, and how messages name it: `rooms[0].members[2]`."""

from __future__ import annotations

JsonPath = tuple[str | int, ...]


def render_path(path: JsonPath) -> str:
    """`rooms[0].members[2]`; keys that are not identifiers as `to_device['@bob:localhost']`."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append(f".{step}" if parts else step)
        else:
            parts.append(f"[{step!r}]")
    return "".join(parts)
