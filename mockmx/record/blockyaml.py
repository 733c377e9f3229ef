"""The block YAML that `mockmx record` writes, read line by line, to the same data PyYAML's safe loader gives.

The recorder's dumper writes block mappings and sequences, one key or item a line, with plain or single-quoted
scalars and `{}` or `[]` for empty collections. Those lines need none of libyaml's general machinery: each is split
by one regular expression and its scalars resolved by PyYAML's own resolver, once per distinct text, which makes a
recording's flows some five times faster to read than composing them. Anything else (a double-quoted or multi-line
scalar, a block scalar, an anchor, a tag, a flow collection, a comment after a value, odd indentation) raises
`NotPlain`, and the caller reads that text with libyaml instead, so the result never differs.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode

__all__ = ["BlockReader", "NotPlain"]


class NotPlain(Exception):
    """Text this reader does not read; libyaml's reading of it is the right one."""


# A line: indentation, then either `- ` item markers or a `key:` (plain or single-quoted key) and its value.
_LINE = re.compile(
    r"(?P<indent> *)"
    r"(?:(?P<dash>-)(?: +|$)"
    r"|(?P<key>'(?:[^']|'')*'"  # single-quoted
    r"|[^\s'\"#&*!|>%@`?:\-\[\]{},][^\n]*?"  # plain, starting with no indicator
    r"|[-?:][^\s\n][^\n]*?"  # plain, starting with `-`, `?` or `:` not followed by a space
    r"):(?: +|$))?"
    r"(?P<rest>[^\n]*)"
)
# What PyYAML reads as printable (yaml.reader.Reader.NON_PRINTABLE), less the line breaks and tabs.
_NOT_PRINTABLE = re.compile("[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MISSING = object()
_NEW_MAP = object()
_NEW_LIST = object()
_Entry = tuple[int, str, Any, str, Any]  # column, kind ("-", ":" or ""), key, the rest of the line, its value
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_FIRST_UNSAFE = frozenset("'\"#&*!|>%@`[]{},")


class BlockReader:
    """Reads lines of the recorder's block YAML; keeps the scalars it resolved, as a recording repeats most."""

    def __init__(self) -> None:
        self._resolver = yaml.SafeLoader("")
        self._scalars: dict[str, Any] = {}
        self._lines: dict[str, _Entry] = {}

    def read(self, lines: list[str]) -> Any:
        """The data of `lines` (one YAML node, without line ends; blank and comment lines already left out)."""
        entries = list(map(self._split, lines))
        if not entries:
            return None
        value, end = self._node(entries, 0, entries[0][0])
        if end != len(entries):
            raise NotPlain
        return value

    def _split(self, line: str) -> _Entry:
        """(column, kind, key, rest): kind "-" for an item marker, ":" for a key, "" for a bare scalar."""
        split = self._lines.get(line)
        if split is not None:
            return split
        split = self._split_new(line)
        if len(self._lines) < 200_000:
            self._lines[line] = split
        return split

    def _split_new(self, line: str) -> _Entry:
        if "\t" in line or _NOT_PRINTABLE.search(line):  # libyaml refuses the one, and says where
            raise NotPlain
        match = _LINE.fullmatch(line)
        if match is None:
            raise NotPlain
        column = len(match["indent"])
        rest = match["rest"].rstrip(" ")
        if match["dash"] is not None:
            return (column, "-", None, rest, None)
        if match["key"] is not None:
            # The value too, once for every line that repeats it; `{}` and `[]` are made anew at each use.
            value = _NEW_MAP if rest == "{}" else _NEW_LIST if rest == "[]" else self.scalar(rest) if rest else None
            return (column, ":", self.scalar(match["key"]), rest, value)
        return (column, "", None, rest, None)

    def _node(self, entries: list[_Entry], index: int, column: int) -> tuple[Any, int]:
        """The node whose first line is `entries[index]`, at `column`; and the index after it."""
        first = entries[index]
        if first[0] != column:
            raise NotPlain
        if first[1] == "-":
            return self._sequence(entries, index, column)
        if first[1] == ":":
            return self._mapping(entries, index, column)
        if index + 1 < len(entries) and entries[index + 1][0] > column:
            raise NotPlain  # a multi-line plain scalar
        return self.scalar(first[3]), index + 1

    def _sequence(self, entries: list[_Entry], index: int, column: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        while index < len(entries) and entries[index][0] == column and entries[index][1] == "-":
            rest = entries[index][3]
            if rest:  # the item starts on this line, two columns in: read it as a line of its own
                entries[index] = self._split(" " * (column + 2) + rest)
                value, index = self._node(entries, index, column + 2)
            elif index + 1 < len(entries) and entries[index + 1][0] > column:
                value, index = self._node(entries, index + 1, entries[index + 1][0])
            else:
                value, index = None, index + 1
            items.append(value)
        if index < len(entries) and entries[index][0] > column:
            raise NotPlain
        return items, index

    def _mapping(self, entries: list[_Entry], index: int, column: int) -> tuple[dict[Any, Any], int]:
        mapping: dict[Any, Any] = {}
        end = len(entries)
        while index < end:
            _, kind, key, rest, value = entries[index]
            if entries[index][0] != column or kind != ":":
                break
            index += 1
            if rest:
                if value is _NEW_MAP:
                    value = {}
                elif value is _NEW_LIST:
                    value = []
            elif index < end and entries[index][0] > column:
                value, index = self._node(entries, index, entries[index][0])
            elif index < end and entries[index][0] == column and entries[index][1] == "-":
                value, index = self._sequence(entries, index, column)  # a sequence under a key, not indented
            mapping[key] = value  # keys are scalars, all hashable
        if index < end and entries[index][0] > column:
            raise NotPlain
        return mapping, index

    def scalar(self, text: str) -> Any:
        """A one-line scalar's value: plain (resolved as PyYAML does), single-quoted, `{}` or `[]`."""
        if text == "{}":
            return {}
        if text == "[]":
            return []
        value = self._scalars.get(text, _MISSING)
        if value is not _MISSING:
            return value
        value = self._resolve(text)
        if len(self._scalars) < 200_000:  # ids and tokens are mostly distinct: keep the table bounded
            self._scalars[text] = value
        return value

    def _resolve(self, text: str) -> Any:
        if text[0] == "'":
            quoted = _SINGLE_QUOTED.fullmatch(text)
            if quoted is None:
                raise NotPlain
            return quoted[1].replace("''", "'")
        if text[0] in _FIRST_UNSAFE or " #" in text or ": " in text or text.endswith(":"):
            raise NotPlain
        if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
            raise NotPlain
        resolver = self._resolver
        tag = resolver.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if tag == "tag:yaml.org,2002:str":
            return text
        node = ScalarNode(tag, text)
        if tag == "tag:yaml.org,2002:int":
            return resolver.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return resolver.construct_yaml_float(node)
        if tag == "tag:yaml.org,2002:bool":
            return resolver.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:null":
            return None
        raise NotPlain  # a timestamp, a merge key, `=`
