"""The recording file, written so that it is valid YAML after every flow: a header mapping whose last key is
`flows:`, then each flow appended as one complete `- ...` list item ending in a `# end of flow N` line. A flow, or
a group of flows that came in together, is written and fsync'd in one go before the next.

A recorder killed at any moment leaves the header and every flow it finished writing. Linux can cut a write short
when the process is killed in the middle of it; whatever follows the last end line is such a torn write, and the
loader leaves it out. A write that fails is cut back to the last whole flow before the error is raised.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style, keys in the order given, long lines kept whole, multi-line strings as `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """`data` as block-style YAML, in insertion order, without line wrapping."""
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
    )
    return text


WRITER_LINE = "# A mockmx recording: real traffic through `mockmx record`, secrets replaced by placeholders.\n"
HEADER_COMMENT = WRITER_LINE + (
    "# Format: docs/recording-format.md; schema: mockmx/record/schema.json; `at` and `took` are seconds.\n"
)


_TOP_LEVEL_KEY = re.compile(r"^[^\s#-][^:\n]*:", re.MULTILINE)


def appendable(text: str) -> bool:
    """Whether flows can be appended to recording `text` as they are to a file `mockmx record` writes: its last
    top-level key is `flows:`, with the flows (if any) as a block list under it."""
    keys = list(_TOP_LEVEL_KEY.finditer(text))
    if not keys or keys[-1].group() != "flows:":
        return False
    rest = text[keys[-1].end() :].split("\n", 1)[0].strip()
    return rest == "" or rest.startswith("#")


def flow_end(flow_id: int) -> str:
    """The line that closes flow `flow_id`: everything before it reached the file."""
    return f"# end of flow {flow_id}\n"


class RecordingWriter:
    """Creates (or overwrites) a recording file with `header`, then appends flows to it, one or a group at a time."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any], *, start: str | None = None) -> None:
        """`start`, when given, is the text the file begins with instead of `header`: a recording to continue,
        up to its last whole flow, with `flows:` its last key (see `appendable`)."""
        self.path = Path(path)
        # O_APPEND: after a failed write is cut back, the next write starts at the cut, not past it.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._size = 0
        try:
            self._write(start if start is not None else HEADER_COMMENT + dump_yaml(header) + "flows:\n")
            _fsync_directory(self.path.parent)
        except OSError:
            self.close()
            raise

    def append(self, flow: dict[str, Any]) -> None:
        """Write one flow and make it durable; raises OSError (after removing any partial write) when that fails."""
        self.append_many([flow])

    def append_many(self, flows: Sequence[dict[str, Any]]) -> None:
        """Write flows (in the order given) with one write and one fsync; when that fails, none of them stays."""
        self._write("".join(dump_yaml([flow]) + flow_end(flow["id"]) for flow in flows))

    def close(self) -> None:
        """Close the file; safe to call twice."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError:
            # Leave the file as it was after the last whole flow, so that it still loads.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)


def _fsync_directory(directory: Path) -> None:
    """Make the new file's directory entry durable too; some filesystems cannot, and lose nothing a kill would."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
