"""Scenario files in, a `Scenario` out, or every problem in the file with its line and column.

Three passes over one YAML document: its nodes become plain data remembering where each value stands
(`document.py`), `schema.json` checks the shape (`schema.py`), then `Builder` resolves references and checks
what a schema cannot say (unknown users, duplicates, keys that exclude each other) while it builds the model
(`builder.py`, with `fault_rules.py` and `push.py` for the parts that refer to no user or room).
"""

from __future__ import annotations

import functools
import os
from importlib import resources

from mockmx.problems import Problem, ScenarioError
from mockmx.scenario.builder import Builder
from mockmx.scenario.document import Document
from mockmx.scenario.model import Scenario
from mockmx.scenario.schema import check_schema

__all__ = ["Problem", "ScenarioError", "default_scenario", "load_scenario", "load_scenario_text"]


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario file."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise ScenarioError([Problem(source, 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError([Problem(source, line, column, f"not UTF-8 text: {exc.reason}")]) from exc
    return load_scenario_text(text, source)


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Load and validate a scenario from YAML text; `source` names it in problems."""
    document = Document(source)
    data = document.read(text)
    scenario = None
    if isinstance(data, dict):
        check_schema(document, data)
        scenario = Builder(document, data).build()
    if document.problems or scenario is None:
        raise ScenarioError(document.sorted_problems())
    return scenario


@functools.cache
def default_scenario() -> Scenario:
    """The built-in scenario `mockmx serve` runs without --scenario."""
    resource = resources.files("mockmx") / "scenario" / "default.yaml"
    return load_scenario_text(resource.read_text(encoding="utf-8"), source=str(resource))
