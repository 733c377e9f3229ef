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

from mockmx.collection import gc_paused
from mockmx.jsonpath import JsonPath, render_path
from mockmx.problems import Problem, RecordingError
from mockmx.record import layout
from mockmx.record.blockyaml import BlockReader, NotPlain
from mockmx.record.fastyaml import Loader, load_yaml
from mockmx.record.layout import FlowText, LazyBody
from mockmx.record.model import Flow, Leg, Links, Recording, Request, Response, Secrets
from mockmx.record.writer import WRITER_LINE

__all__ = ["RecordingError", "load_recording", "load_recording_text"]


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Load a recording file and check it against the format's JSON Schema."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise RecordingError([Problem(source, 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RecordingError([Problem(source, line, column, f"not UTF-8 text: {exc.reason}")]) from None
    return load_recording_text(text, source)


def load_recording_text(text: str, source: str = "<string>") -> Recording:
    """Load a recording from YAML text; `source` names it in problems."""
    text, torn_tail = _whole_flows(text)
    cut = layout.split(text, source)
    if cut is None:
        data, flows = _yaml(text, source), None
    else:
        with gc_paused():  # the flows' data and the Flows made of it hold no cycles (see fastyaml.py)
            data, flows = _read_cut(text, source, *cut)
    problems = _problems(data)
    if problems:
        placed = [_problem(source, _locate(text, flows, path), path, message) for path, message in problems]
        raise RecordingError(sorted(dict.fromkeys(placed), key=lambda problem: (problem.line, problem.column)))
    bodies = [flow.body for flow in flows] if flows is not None else [None] * len(data["flows"] or [])
    with gc_paused():
        return Recording(
            source=source,
            started_at=data["started_at"],
            upstreams=data["upstreams"],
            secrets=Secrets(data.get("secrets", Secrets.REDACTED)),
            flows=[_flow(flow, body) for flow, body in zip(data["flows"] or [], bodies, strict=True)],
            torn_tail=torn_tail,
        )


# The recorder writes no YAML aliases. A hand-edited file may use a few; many are a "billion laughs": a small file
# whose aliases of aliases become gigabytes once replay serves what they stand for.
ALIAS_BUDGET = 8


def _yaml(text: str, source: str, first_line: int = 1) -> Any:
    """The data in `text`, which starts at line `first_line` of `source`."""
    if "*" in text:
        _check_aliases(text, source, first_line)
    try:
        return load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + first_line, mark.column + 1) if mark else (first_line, 1)
        problem = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise RecordingError([Problem(source, line, column, f"YAML syntax error: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise RecordingError([Problem(source, first_line, 1, f"YAML error: {exc}")]) from exc


def _check_aliases(text: str, source: str, first_line: int) -> None:
    """A RecordingError at the first alias past the budget; a YAML error is left for the loading to report."""
    aliases = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > ALIAS_BUDGET:
                    mark = event.start_mark
                    line, column = (mark.line + first_line, mark.column + 1) if mark else (first_line, 1)
                    message = f"more than {ALIAS_BUDGET} YAML aliases: mockmx record writes none, and replay would "
                    message += "expand each one"
                    raise RecordingError([Problem(source, line, column, message)])
    except yaml.YAMLError:
        return


def _read_cut(text: str, source: str, header: str, cut: list[FlowText]) -> tuple[Any, list[FlowText]]:
    """The data of a recording cut into flows (layout.py): each flow read on its own, its response body left as
    text; flows in the recorder's plain lines by BlockReader, any other by libyaml. Every flow's syntax errors."""
    data = _yaml(header, source)
    reader = BlockReader()
    flows: list[Any] = []
    kept: list[FlowText] = []
    errors: list[Problem] = []
    for flow in cut:
        try:
            item = reader.read(flow.lines(text))
        except NotPlain:
            flow = FlowText(flow.start, flow.end, flow.line, None)  # its body read with it, then
            try:
                item = _yaml(text[flow.start : flow.end], source, flow.line)
            except RecordingError as error:
                errors += error.problems
                continue
        flows.append(item[0])
        kept.append(flow)
    if errors:
        raise RecordingError(errors)
    if isinstance(data, dict) and cut:
        data["flows"] = flows
    return data, kept


def _locate(text: str, flows: list[FlowText] | None, path: JsonPath) -> tuple[yaml.Node | None, JsonPath, int]:
    """The node tree to find `path` in, the path within it, and the line that tree starts at: a flow's own when
    the recording was cut into flows, so that a problem in flow 40,000 composes one flow, not 40,000."""
    if flows is None:
        return _compose(text), path, 1
    if len(path) >= 2 and path[0] == "flows" and isinstance(path[1], int) and path[1] < len(flows):
        flow = flows[path[1]]
        return _compose(text[flow.start : flow.end]), (0, *path[2:]), flow.line
    return _compose(text[: flows[0].start] if flows else text), path, 1


def _problems(data: Any) -> list[tuple[JsonPath, str]]:
    """Where `data` breaks the format, and how; empty for a recording that loads."""
    # jsonschema_rs checks a valid file tens of times faster; only a failing one goes through jsonschema, whose
    # errors carry the paths the problems are placed by.
    if not _fast_validator().is_valid(data):
        flows = data.get("flows") if isinstance(data, dict) else None
        if not isinstance(flows, list):
            return [(tuple(error.absolute_path), _describe(error)) for error in _validator().iter_errors(data)]
        # jsonschema takes seconds over 50,000 flows: it sees only the ones jsonschema_rs finds fault with.
        flow_is_valid = _fast_flow_validator().is_valid
        faulty = [index for index, flow in enumerate(flows) if not flow_is_valid(flow)]
        some = {**data, "flows": [flows[index] for index in faulty]}
        return [
            (_flow_path(tuple(error.absolute_path), faulty), _describe(error))
            for error in _validator().iter_errors(some)
        ]
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
    start = _last_flow_end(text) or _FLOWS_KEY.search(text)
    if start is None or not text[start.end() :].strip():
        return text, None
    return text[: start.end()], text.count("\n", 0, start.end()) + 1


def _last_flow_end(text: str) -> re.Match[str] | None:
    """The last `# end of flow N` line, found from the end: a large recording has 50,000 of them."""
    position = len(text)
    while (position := text.rfind("# end of flow ", 0, position)) >= 0:
        if (position == 0 or text[position - 1] == "\n") and (end := _FLOW_END.match(text, position)):
            return end
    return None


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


@functools.cache
def _fast_flow_validator() -> Any:
    schema = _schema()
    return jsonschema_rs.validator_for({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/flow"})


def _flow_path(path: JsonPath, wrong: list[int]) -> JsonPath:
    """`path` in the flows `wrong` picked out, as a path in all the flows."""
    if len(path) >= 2 and path[0] == "flows" and isinstance(path[1], int):
        return ("flows", wrong[path[1]], *path[2:])
    return path


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


def _problem(source: str, located: tuple[yaml.Node | None, JsonPath, int], path: JsonPath, message: str) -> Problem:
    root, within, first_line = located
    line, column = _position(root, within)
    line += first_line - 1
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


def _flow(data: dict[str, Any], body: LazyBody | None) -> Flow:
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
        response=Response(status=response["status"], **_message_fields(response, body))
        if response is not None
        else None,
        error=data.get("error"),
        links=Links(
            txn_id=links.get("txn_id"),
            returned=links.get("returned", {}),
            passed=links.get("passed", {}),
            events=links.get("events", []),
        ),
    )


def _message_fields(data: dict[str, Any], lazy: LazyBody | None = None) -> dict[str, Any]:
    kind = "body" if "body" in data else "text" if "text" in data else "base64" if "base64" in data else None
    body = lazy if lazy is not None else data.get(kind) if kind else None
    fields: dict[str, Any] = {"headers": data["headers"], "body": body, "body_kind": kind}
    return fields
