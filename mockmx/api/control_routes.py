"""A mock's control API routes under `/_mockmx/` (see control/static/openapi.json): the inspector's and the request
journal's, which a replay serves too, and those that change or read a mock's world."""

from __future__ import annotations

from starlette.routing import Route

from mockmx.api import control, journals, retention
from mockmx.control.routes import COMMON_ROUTES

MOCK_CONTROL_ROUTES = [
    Route("/_mockmx/reset", control.reset, methods=["POST"]),
    Route("/_mockmx/scenario", control.put_scenario, methods=["PUT"]),
    Route("/_mockmx/script", control.run_script, methods=["POST"]),
    Route("/_mockmx/script", journals.show_script, methods=["GET"]),
    Route("/_mockmx/faults", control.list_faults, methods=["GET"]),
    Route("/_mockmx/faults", control.add_fault, methods=["POST"]),
    Route("/_mockmx/faults", control.delete_faults, methods=["DELETE"]),
    Route("/_mockmx/faults/{fault_id}", control.delete_fault, methods=["DELETE"]),
    Route("/_mockmx/to_device", journals.list_to_device, methods=["GET"]),
    Route("/_mockmx/rooms", journals.list_rooms, methods=["GET"]),
    Route("/_mockmx/push_attempts", journals.list_push_attempts, methods=["GET"]),
    Route("/_mockmx/limits", retention.show_limits, methods=["GET"]),
    *COMMON_ROUTES,
]
