"""Changing the mock at run time, under `/_mockmx/`: start over, a new scenario, a script entry now, fault rules.

Scenario parts arrive in the scenario's own words (YAML or JSON) and are checked by the scenario loader, so a
mistake is refused with every problem at its line and column, as `mockmx check` reports them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import read_body, world
from mockmx.control.changes import Topic
from mockmx.control.params import controlled
from mockmx.errors import Codes, MatrixError
from mockmx.hosting import hosted_as
from mockmx.problems import ScenarioError
from mockmx.scenario.fragment import load_fault_rule, load_script_entry
from mockmx.scenario.loader import load_scenario_text
from mockmx.script import describe
from mockmx.world import Mock


def _mock(request: Request) -> Mock:
    return hosted_as(request.app, Mock)


async def reset(request: Request) -> Response:
    """Back to the scenario's start: users, rooms, tokens, queues, journals, fault counters, script clock."""
    mock = _mock(request)
    new = await mock.reset()
    return JSONResponse({"resets": mock.resets, **_summary(new.scenario)})


async def put_scenario(request: Request) -> Response:
    """Replace the world with one from the scenario in the body; a bad one changes nothing."""
    try:
        scenario = load_scenario_text(await _text(request), source="<PUT /_mockmx/scenario>")
    except ScenarioError as error:
        raise scenario_error(error) from None
    mock = _mock(request)
    await mock.reset(scenario)
    return JSONResponse({"resets": mock.resets, **_summary(scenario)})


async def run_script(request: Request) -> Response:
    """One `script:` entry: fired now and answered with the events it made, or scheduled when it has `after` or
    `every`."""
    text = await _text(request)
    current = world(request)
    hs = current.homeserver
    try:
        entry = load_script_entry(
            text,
            server=hs.server_name,
            users=hs.accounts.users,
            rooms={room_id: room.joined for room_id, room in hs.rooms.items()},
            aliases=hs.aliases,
        )
    except ScenarioError as error:
        raise scenario_error(error) from None
    if entry.after or entry.every is not None:
        index = current.script.schedule(entry)
        return JSONResponse({"scheduled": index, **describe(entry)})
    return JSONResponse({"event_ids": current.script.fire(entry), **describe(entry)})


async def list_faults(request: Request) -> Response:
    return JSONResponse({"faults": [rule.to_json() for rule in world(request).faults.rules]})


async def add_fault(request: Request) -> Response:
    """Add a rule (a `faults:` entry) after the others; answered with it and its id."""
    try:
        spec = load_fault_rule(await _text(request))
    except ScenarioError as error:
        raise scenario_error(error) from None
    rule = world(request).faults.add(spec)
    controlled(request).changes.fire(Topic.FAULTS)
    return JSONResponse(rule.to_json())


async def delete_faults(request: Request) -> Response:
    faults = world(request).faults
    removed = len(faults.rules)
    faults.clear()
    controlled(request).changes.fire(Topic.FAULTS)
    return JSONResponse({"removed": removed})


async def delete_fault(request: Request) -> Response:
    raw = request.path_params["fault_id"]
    if not (raw.isdigit() and world(request).faults.remove(int(raw))):
        raise MatrixError(404, f"No fault rule {raw}", Codes.NOT_FOUND)
    controlled(request).changes.fire(Topic.FAULTS)
    return JSONResponse({"removed": 1})


async def _text(request: Request) -> str:
    body = await read_body(request)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MatrixError(400, "The body must be UTF-8 text (YAML or JSON)", Codes.NOT_JSON) from None


def scenario_error(error: ScenarioError) -> MatrixError:
    """A scenario (or part of one) that does not load: 400 with every problem, where it is."""
    problems = [{"line": p.line, "column": p.column, "message": p.message} for p in error.problems]
    return MatrixError(400, str(error), Codes.BAD_JSON, extra={"problems": problems})


def _summary(scenario: Any) -> dict[str, Any]:
    return {
        "server_name": scenario.server_name,
        "users": len(scenario.users),
        "rooms": len(scenario.rooms),
        "source": scenario.source,
    }
