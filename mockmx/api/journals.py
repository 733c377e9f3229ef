"""A mock's journals under `/_mockmx/`: to-device messages, and (for the inspector) rooms, the script and the
pushers' attempts. `wait` and `count` make a read wait until enough entries match, woken by changes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import latest_world, world
from mockmx.control.changes import matching, wait_until
from mockmx.control.params import controlled, known_filters, waiting
from mockmx.control.to_device_log import FILTERS as TO_DEVICE_FILTERS
from mockmx.control.to_device_log import by_device
from mockmx.homeserver.rooms import Event, Room

TIMELINE_SHOWN = 50  # the latest events of a room's timeline the inspector gets


async def list_to_device(request: Request) -> Response:
    host = controlled(request)
    filters = known_filters(request, TO_DEVICE_FILTERS)
    wait, count = waiting(request)

    def compute() -> tuple[list[dict[str, Any]], bool]:
        return matching(latest_world(request).to_device.select(**filters), count)  # a reset may come meanwhile

    messages = await wait_until(host.changes, wait, compute)
    return JSONResponse({"devices": by_device(messages), "dropped": latest_world(request).to_device.dropped})


async def list_rooms(request: Request) -> Response:
    """Every room: its name, alias, members and their memberships, state, and latest timeline events."""
    hs = world(request).homeserver
    now = hs.clock_ms()
    return JSONResponse({"rooms": [_room(room, now) for room in hs.rooms.values()]})


def _room(room: Room, now: int) -> dict[str, Any]:
    members = {
        state_key: event.content.get("membership")
        for (event_type, state_key), event in room.state.items()
        if event_type == "m.room.member"
    }
    return {
        "room_id": room.room_id,
        "name": room.name,
        "alias": room.canonical_alias,
        "members": members,
        "state": [_event(event, now) for event in room.state.values()],
        "timeline": [_event(event, now) for event in room.timeline[-TIMELINE_SHOWN:]],
        "events": len(room.timeline),
    }


def _event(event: Event, now: int) -> dict[str, Any]:
    return event.serialize(now)


async def show_script(request: Request) -> Response:
    """The scripted events fired (the latest) and those still to come."""
    script = world(request).script
    return JSONResponse({"fired": list(script.fired), "upcoming": script.upcoming()})


async def list_push_attempts(request: Request) -> Response:
    """Every attempt of the mock's pushers to push, retries included, the latest kept."""
    return JSONResponse({"attempts": list(world(request).push_sender.attempts)})
