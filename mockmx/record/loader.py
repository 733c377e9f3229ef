"""Recording files in, a `Recording` out, or every problem in the file with its line and column."""

from __future__ import annotations

import functools
import json
import os
import re
from importlib import resources
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator, ValidationError

from mockmx.jsonpath import JsonPath, render_path
from mockmx.problems import Problem, RecordingError
from mockmx.record.fastyaml import Loader, load_yaml
from mockmx.record.model import Flow, Leg, Links, Recording, Request, Response, Secrets
from mockmx.record.writer import WRITER_LINE

__all__ = ["RecordingError", "load_recording", "load_recording_text"]


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Load a recording file and check it against the format's JSON Schema."""
    source = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise RecordingError([Problem(source, 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise RecordingError([Problem(source, 1, 1, f"not UTF-8 text: {exc.reason}")]) from exc
    return load_recording_text(text, source)


def load_recording_text(text: str, source: str = "<string>") -> Recording:
    """Load a recording from YAML text; `source` names it in problems."""
    text, torn_tail = _whole_flows(text)
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise RecordingError([Problem(source, line, column, f"YAML syntax error: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise RecordingError([Problem(source, 1, 1, f"YAML error: {exc}")]) from exc
    problems = _problems(data)
    if problems:
        root = _compose(text)
        placed = [_problem(source, root, path, message) for path, message in problems]
        raise RecordingError(sorted(dict.fromkeys(placed), key=lambda problem: (problem.line, problem.column)))
    return Recording(
        source=source,
        started_at=data["started_at"],
        upstreams=data["upstreams"],
        secrets=Secrets(data.get("secrets", Secrets.REDACTED)),
        flows=[_flow(flow) for flow in data["flows"] or []],
        torn_tail=torn_tail,
    )


def _problems(data: Any) -> list[tuple[JsonPath, str]]:
    """Where `data` breaks the format, and how; empty for a recording that loads."""
    # jsonschema_rs checks a valid file tens of times faster; only a failing one goes through jsonschema, whose
    # errors carry the paths the problems are placed by.
    if not _fast_validator().is_valid(data):
        return [(tuple(error.absolute_path), _describe(error)) for error in _validator().iter_errors(data)]
    flows = data["flows"] or []
    wrong = next((index for index, flow in enumerate(flows) if flow["id"] != index + 1), None)
    return [] if wrong is None else [(("flows", wrong, "id"), f"expected id {wrong + 1} (ids count up from 1)")]


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text`, which knows where each value stands: composed only to place problems, as the
    tree of a large file costs more than the data."""
    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


_FLOW_END = re.compile(r"^# end of flow \d+\n", re.MULTILINE)
_FLOWS_KEY = re.compile(r"^flows:[ \t]*\n", re.MULTILINE)


def _whole_flows(text: str) -> tuple[str, int | None]:
    """`text` without a torn last flow (a write the recorder was killed in the middle of), and the line where the
    torn part began. Only files `mockmx record` wrote: in those, every whole flow ends in its end line."""
    if not text.startswith(WRITER_LINE):
        return text, None
    ends = list(_FLOW_END.finditer(text))
    start = ends[-1] if ends else _FLOWS_KEY.search(text)
    if start is None or not text[start.end() :].strip():
        return text, None
    return text[: start.end()], text.count("\n", 0, start.end()) + 1


@functools.cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((resources.files("mockmx") / "record" / "schema.json").read_text("utf-8"))
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


@functools.cache
def _fast_validator() -> Any:
    return jsonschema_rs.validator_for(_schema())


def _describe(error: ValidationError) -> str:
    """jsonschema's verdict, in the file's words where its own would quote a whole flow back."""
    if error.validator == "const":
        return f"expected {error.validator_value!r}, got {error.instance!r}"
    if error.validator == "anyOf" and all(set(option) == {"required"} for option in error.validator_value):
        names = ", ".join(repr(name) for option in error.validator_value for name in option["required"])
        return f"missing one of {names}"
    if error.validator == "not":  # the only `not` in the schema: two kinds of body at once
        return "a body is one of 'body', 'text' or 'base64', not several"
    message = str(error.message)
    return message if len(message) <= 160 else message[:157] + "..."


def _problem(source: str, root: yaml.Node | None, path: JsonPath, message: str) -> Problem:
    line, column = _position(root, path)
    where = render_path(path)
    return Problem(source, line, column, f"{where}: {message}" if where else message)


def _position(node: yaml.Node | None, path: JsonPath) -> tuple[int, int]:
    """Where the value at `path` stands, or its nearest enclosing value that exists."""
    if node is None:
        return 1, 1
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1, node.start_mark.column + 1


def _flow(data: dict[str, Any]) -> Flow:
    links = data.get("links", {})
    response = data.get("response")
    return Flow(
        id=data["id"],
        leg=Leg(data["leg"]),
        at=data["at"],
        took=data.get("took"),
        request=Request(
            method=data["request"]["method"],
            path=data["request"]["path"],
            query=data["request"].get("query", {}),
            **_message_fields(data["request"]),
        ),
        response=Response(status=response["status"], **_message_fields(response)) if response is not None else None,
        error=data.get("error"),
        links=Links(
            txn_id=links.get("txn_id"),
            returned=links.get("returned", {}),
            passed=links.get("passed", {}),
            events=links.get("events", []),
        ),
    )


def _message_fields(data: dict[str, Any]) -> dict[str, Any]:
    kind = next((kind for kind in ("body", "text", "base64") if kind in data), None)
    fields: dict[str, Any] = {"headers": data["headers"], "body": data.get(kind) if kind else None, "body_kind": kind}
    return fields
