"""One part of a scenario sent on its own (a script entry, a fault rule), as the control API takes them: checked
by the same schema and builder as a whole file, so the words and the problems are the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from mockmx.problems import ScenarioError
from mockmx.scenario.builder import Builder
from mockmx.scenario.document import Document
from mockmx.scenario.fault_rules import fault_rule
from mockmx.scenario.model import FaultSpec, ScriptedEventSpec
from mockmx.scenario.schema import check_schema

SOURCE = "<request body>"
T = TypeVar("T")


def load_script_entry(
    text: str,
    *,
    server: str,
    users: Iterable[str],
    rooms: Mapping[str, Iterable[str]],
    aliases: Mapping[str, str],
) -> ScriptedEventSpec:
    """A `script:` entry (YAML or JSON) referring to the given users and rooms (room id -> joined members)."""
    return _load(
        text,
        "script",
        "scriptedEvent",
        lambda document, data: Builder.for_world(document, server, users, rooms, aliases).scripted_event(data),
    )


def load_fault_rule(text: str) -> FaultSpec:
    """A `faults:` entry (YAML or JSON)."""
    return _load(text, "faults", "fault", lambda document, data: fault_rule(document, (), data))


def _load(text: str, section: str, definition: str, build: Callable[[Document, dict[str, Any]], T | None]) -> T:
    """One entry of the scenario's `section`, checked against the schema's `definition`, then built."""
    document = Document(SOURCE)
    data = document.read(text, expected=f"a mapping, one entry of a scenario's '{section}'")
    built = None
    if isinstance(data, dict):
        check_schema(document, data, definition)
        if () not in document.invalid:
            built = build(document, data)
    if document.problems or built is None:
        raise ScenarioError(document.sorted_problems())
    return built
