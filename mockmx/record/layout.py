"""A recording as `mockmx record` lays it out, cut into its header and its flows before any YAML is read.

The recorder writes a header mapping whose last key is `flows:`, then each flow as one `- ` item at column 0 (see
writer.py). Cut there, each flow is read on its own, and a response's body, most of a recording's bytes, is left
as text until it is served (`LazyBody`). A file laid out otherwise (an alias, a key after `flows:`, a document
marker) is not cut: `split` returns None and the whole file is read as one document.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import yaml

from mockmx.problems import Problem, RecordingError
from mockmx.record.fastyaml import load_yaml

_FLOWS_KEY = re.compile(r"^flows:[ \t]*(?:#[^\n]*)?\n", re.MULTILINE)
# Each pattern starts with a line end, which the regular expression engine finds fast in a long text.
_ITEM = re.compile(r"\n-(?= |\n)")
_COLUMN_0 = re.compile(r"\n(?!- |-\n|#|[ \t]|\n|$)")  # a line at column 0 not an item, a comment or blank
_ALIAS = re.compile(r"[:-] \*\S")  # `*name` as a value
_RESPONSE = re.compile(r"\n  response:[ \t]*\n")
_RESPONSE_KEY = re.compile(r"\n {0,2}\S")  # a line out of the response's mapping
_BODY = re.compile(r"\n    (body|text|base64):(?:[ \t]+[|>][-+0-9]*)?[ \t]*\n")  # a body on the lines below
_BODY_END = re.compile(r"\n(?: {0,3}[^ \n]|    [^ \n-]|    -[^ \n])")  # a line that is not the body's
_OTHER_LINE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
_BODY_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_FIRST_LINE = re.compile(r"\n( *)[^ \n]")


@functools.cache
def _key_line(indent: int, key: str) -> re.Pattern[str]:
    """A line with `key` at column `indent`, its quotes (if any) or its spacing as a hand might write them."""
    return re.compile(rf"\n {{{indent}}}['\"]?{re.escape(key)}['\"]?[ \t]*:")


@dataclass(frozen=True, slots=True)
class LazyBody:
    """A recorded body still as text: `text[start:end]` is its key's line and the lines below it."""

    source: str
    text: str
    start: int
    end: int
    line: int  # of the key
    kind: str  # "body", "text" or "base64"

    def build(self) -> Any:
        """The body's value; a RecordingError, placed by line, when it is not valid YAML or not of its kind."""
        try:
            value = load_yaml(self.text[self.start : self.end])[self.kind]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (self.line + mark.line, mark.column + 1) if mark else (self.line, 5)
            problem = ", ".join(part for part in (exc.context, exc.problem) if part)
            raise RecordingError([Problem(self.source, line, column, f"YAML syntax error: {problem}")]) from exc
        if self.kind != "body" and not isinstance(value, str):
            raise self._error(f"{self.kind} must be a string")
        if self.kind == "base64" and not _BODY_BASE64.match(value):
            raise self._error("base64 is not base64")
        return value

    def may_have_key(self, key: str) -> bool:
        """False only when the body is surely not a mapping with `key`: so a scan over many bodies builds few."""
        first = _FIRST_LINE.search(self.text, self.text.index("\n", self.start), self.end)
        if first is None:
            return False
        return _key_line(len(first.group(1)), key).search(self.text, first.start(), self.end) is not None

    def _error(self, message: str) -> RecordingError:
        return RecordingError([Problem(self.source, self.line, 5, f"response {message}")])


@dataclass(frozen=True, slots=True)
class FlowText:
    """One flow's item: `text[start:end]`, from its first line (`line`), and its response body left as text."""

    start: int
    end: int
    line: int
    body: LazyBody | None

    def lines(self, text: str) -> list[str]:
        """The flow's lines, its response body's as one placeholder line; its end line left out."""
        if self.body is None:
            raw = text[self.start : self.end].split("\n")
        else:
            raw = [
                *text[self.start : self.body.start].split("\n"),
                f"    {self.body.kind}: ''",
                *text[self.body.end : self.end].split("\n"),
            ]
        # The recorder writes no blank line and no comment but the end line; anything else it left out goes to
        # BlockReader, which gives it up to libyaml.
        return [line for line in raw if line and line[0] != "#"]


def split(text: str, source: str) -> tuple[str, list[FlowText]] | None:
    """The header (up to and with `flows:`) and each flow, or None when `text` is not laid out as the recorder
    lays it out."""
    if any(brk in text for brk in _OTHER_LINE_BREAKS):
        return None  # lines that YAML breaks where the cut does not
    key = _FLOWS_KEY.search(text)
    if key is None or _COLUMN_0.search(text, key.end() - 1) or _has_alias(text, key.end()):
        return None
    starts = [match.start() + 1 for match in _ITEM.finditer(text, key.end() - 1)]
    if not _only_comments(text[key.end() : starts[0] if starts else len(text)]):
        return None
    flows = []
    line = text.count("\n", 0, key.end()) + 1
    position = key.end()
    for start, end in zip(starts, [*starts[1:], len(text)], strict=False):  # the ends: one more when no flow
        line += text.count("\n", position, start)
        position = start
        flows.append(FlowText(start, end, line, _response_body(text, source, start, end, line)))
    return text[: key.end()], flows


def _has_alias(text: str, start: int) -> bool:
    star = text.find("*", start)
    while star >= 0:
        if _ALIAS.match(text, star - 2):
            return True
        star = text.find("*", star + 1)
    return False


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n"))


def _response_body(text: str, source: str, start: int, end: int, line: int) -> LazyBody | None:
    response = _RESPONSE.search(text, start - 1, end)
    if response is None:
        return None
    body = _BODY.search(text, response.end() - 1, end)
    if body is None or _RESPONSE_KEY.search(text, response.end() - 1, body.start() + 1):
        return None  # no body below its key, or not the response's
    after = _BODY_END.search(text, body.end() - 1, end)
    body_end = after.start() + 1 if after else end
    if not text[body.end() : body_end].strip():
        return None
    key = body.start() + 1
    return LazyBody(source, text, key, body_end, line + text.count("\n", start, key), body.group(1))
