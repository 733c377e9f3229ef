"""One YAML document as plain JSON-like data, remembering where each value stands, and the problems found in it.

Values already reported as wrong are marked `invalid`: later passes neither trust them nor report them again,
so one mistake gives one problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import yaml

from mockmx.jsonpath import JsonPath, render_path
from mockmx.problems import Problem
from mockmx.web.json_gate import unservable

_TAG = "tag:yaml.org,2002:"
# Far above any hand-written scenario, far below what would exhaust memory.
MAX_VALUES = 200_000


class _TooBig(Exception):
    def __init__(self, position: tuple[int, int]) -> None:
        self.position = position


_JSON_SCALAR_TAGS = frozenset(_TAG + name for name in ("null", "bool", "int", "float", "str"))


class Document:
    """The problems found so far, and where every value of the document stands."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.value_marks: dict[JsonPath, tuple[int, int]] = {(): (1, 1)}
        self.key_marks: dict[JsonPath, tuple[int, int]] = {}
        self.invalid: set[JsonPath] = set()
        self._constructor = yaml.constructor.SafeConstructor()
        self._values = 0

    def report(
        self, path: JsonPath, message: str, *, key: str | None = None, position: tuple[int, int] | None = None
    ) -> None:
        """Report a problem with the value at `path`, or with its entry `key` (pointing at the key)."""
        if position is None and key is not None:
            position = self.key_marks.get((*path, key))
        line, column = position or self.position(path)
        where = render_path(path)
        self.problems.append(Problem(self.source, line, column, f"{where}: {message}" if where else message))

    def position(self, path: JsonPath) -> tuple[int, int]:
        while path not in self.value_marks:
            path = path[:-1]
        return self.value_marks[path]

    def line(self, path: JsonPath) -> int:
        return self.position(path)[0]

    def sorted_problems(self) -> list[Problem]:
        unique = dict.fromkeys(self.problems)
        return sorted(unique, key=lambda problem: (problem.line, problem.column))

    def get(self, path: JsonPath, mapping: dict[str, Any], key: str) -> Any:
        """The value of `key` in the mapping at `path`, or None when it is missing or already reported as wrong."""
        return None if (*path, key) in self.invalid else mapping.get(key)

    def items(self, path: JsonPath, mapping: dict[str, Any], key: str) -> Iterator[tuple[JsonPath, Any]]:
        """The entries of the list under `key` that were not reported as wrong, with their paths."""
        for index, item in enumerate(self.get(path, mapping, key) or ()):
            if (*path, key, index) not in self.invalid:
                yield (*path, key, index), item

    def read(self, text: str, expected: str = "a mapping with at least 'server_name'") -> Any:
        """The document's data (a dict when it is usable at all), or None after reporting why not; `expected`
        says what its top level should be (a scenario's, unless the text is one part of a scenario)."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = ", ".join(part for part in (exc.context, exc.problem) if part)
            self.problems.append(Problem(self.source, line, column, f"YAML syntax error: {problem}"))
            return None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            message = f"YAML syntax error: unacceptable character #x{code:04x}: {exc.reason}"
            self.problems.append(Problem(self.source, line, column, message))
            return None
        except RecursionError:
            return self._too_deep()
        if root is None:
            self.report((), f"the file is empty; expected {expected}")
            return None
        if not isinstance(root, yaml.MappingNode):
            got = "a list" if isinstance(root, yaml.SequenceNode) else f"{root.value!r}"
            self.value_marks[()] = _position(root.start_mark)
            self.report((), f"expected {expected} at the top level, got {got}")
            return None
        try:
            return self._data(root, (), set())
        except RecursionError:
            return self._too_deep()
        except _TooBig as exc:
            line, column = exc.position
            message = f"the document spells more than {MAX_VALUES} values (aliases expanded); refused"
            self.problems.append(Problem(self.source, line, column, message))
            return None

    def _too_deep(self) -> None:
        self.problems.append(Problem(self.source, 1, 1, "YAML syntax error: the document is nested too deeply"))

    def _data(self, node: yaml.Node, path: JsonPath, active: set[int]) -> Any:
        self._values += 1
        if self._values > MAX_VALUES:
            # Aliases copy what they name: a kilobyte of nested ones spells billions of values ("billion laughs").
            raise _TooBig(_position(node.start_mark))
        self.value_marks[path] = _position(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in active:
            return self._broken(path, "an alias refers to a node that contains it")
        if node.tag not in (_TAG + "map", _TAG + "seq"):
            return self._broken(path, f"unsupported YAML tag {node.tag!r}")
        active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self._data(item, (*path, index), active) for index, item in enumerate(node.value)]
            return self._mapping(node, path, active)
        finally:
            active.discard(id(node))

    def _mapping(self, node: yaml.Node, path: JsonPath, active: set[int]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        own = [(key, value) for key, value in node.value if key.tag != _TAG + "merge"]
        # `<<: *anchor` merges: the node's own keys win, then earlier merged mappings over later ones.
        for key_node, value_node in node.value:
            if key_node.tag != _TAG + "merge":
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, yaml.MappingNode):
                    self.value_marks[(*path, "<<")] = _position(source.start_mark)
                    self._broken((*path, "<<"), "'<<' merges mappings only")
                    continue
                merged = self._data(source, path, active)
                result.update(merged if isinstance(merged, dict) else {})
        self.value_marks[path] = _position(node.start_mark)
        first_seen: dict[str, int] = {}
        for key_node, value_node in own:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "str"):
                got = f"{key_node.value} (quote it)" if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.report(path, f"keys must be strings, got {got}", position=_position(key_node.start_mark))
                continue
            key = key_node.value
            self.key_marks[(*path, key)] = _position(key_node.start_mark)
            if key in first_seen:
                self.report(path, f"duplicate key {key!r} (first at line {first_seen[key]})", key=key)
            first_seen.setdefault(key, key_node.start_mark.line + 1)
            result[key] = self._data(value_node, (*path, key), active)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        if node.tag == _TAG + "timestamp":
            return node.value  # YAML 1.1 reads `2024-01-01` as a date; JSON has no dates, keep the text
        if node.tag not in _JSON_SCALAR_TAGS:
            return self._broken(path, f"unsupported YAML tag {node.tag!r}")
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError):
            return self._broken(path, f"{node.value!r} is not a valid {node.tag.removeprefix(_TAG)}")
        if isinstance(value, float) and not math.isfinite(value):
            return self._broken(path, f"expected a finite number, got {node.value}")
        problem = unservable(value)  # the gate request bodies pass: what the mock stores, it must serve back
        if problem is not None:
            return self._broken(path, problem)
        return value

    def _broken(self, path: JsonPath, message: str) -> None:
        self.report(path, message)
        self.invalid.add(path)


def _position(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1
