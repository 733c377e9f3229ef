"""One part of a scenario sent on its own (a script entry, a fault rule), as the control API takes them: checked
by the same schema and builder as a whole file, so the words and the problems are the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mockmx.problems import ScenarioError
from mockmx.scenario.builder import Builder
from mockmx.scenario.document import Document
from mockmx.scenario.fault_rules import fault_rule
from mockmx.scenario.model import FaultSpec, ScriptedEventSpec
from mockmx.scenario.schema import check_schema

SOURCE = "<request body>"


def load_script_entry(
    text: str,
    *,
    server: str,
    users: Iterable[str],
    rooms: Mapping[str, Iterable[str]],
    aliases: Mapping[str, str],
) -> ScriptedEventSpec:
    """A `script:` entry (YAML or JSON) referring to the given users and rooms (room id -> joined members)."""
    document = Document(SOURCE)
    data = document.read(text, expected="a mapping, one entry of a scenario's 'script'")
    entry = None
    if isinstance(data, dict):
        check_schema(document, data, "scriptedEvent")
        if () not in document.invalid:
            entry = Builder.for_world(document, server, users, rooms, aliases).scripted_event(data)
    if document.problems or entry is None:
        raise ScenarioError(document.sorted_problems())
    return entry


def load_fault_rule(text: str) -> FaultSpec:
    """A `faults:` entry (YAML or JSON)."""
    document = Document(SOURCE)
    data = document.read(text, expected="a mapping, one entry of a scenario's 'faults'")
    rule = None
    if isinstance(data, dict):
        check_schema(document, data, "fault")
        if () not in document.invalid:
            rule = fault_rule(document, (), data)
    if document.problems or rule is None:
        raise ScenarioError(document.sorted_problems())
    return rule
