"""A user's devices: `GET /devices`, `GET`/`PUT`/`DELETE /devices/{deviceId}`, `POST /delete_devices`.

Deleting asks for the user's password again (User-Interactive Authentication) and logs out the devices' tokens.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import (
    authenticate,
    authenticate_user,
    homeserver,
    optional_str,
    parse_json_object,
    read_body,
    read_json_object,
)
from mockmx.api.uia import confirm_password
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.server import Homeserver

MAX_DISPLAY_NAME_LENGTH = 100  # Synapse's MAX_DEVICE_DISPLAY_NAME_LEN


async def get_devices(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    devices = [_device(hs, session.user_id, device_id) for device_id in hs.accounts.device_ids(session.user_id)]
    return JSONResponse({"devices": devices})


async def get_device(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    device_id = request.path_params["device_id"]
    if device_id not in hs.accounts.device_ids(session.user_id):
        raise MatrixError(404, "No device found", Codes.NOT_FOUND)
    return JSONResponse(_device(hs, session.user_id, device_id))


async def put_device(request: Request) -> Response:
    session = authenticate(request)
    body = await read_json_object(request)
    display_name = optional_str(body, "display_name")
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        message = f"Device display name is too long (max {MAX_DISPLAY_NAME_LENGTH})"
        raise MatrixError(400, message, Codes.TOO_LARGE)
    user = homeserver(request).accounts.users[session.user_id]
    device_id = request.path_params["device_id"]
    if device_id not in user.devices:
        # Only application services may create devices this way; the mock serves none.
        raise MatrixError(404, "Unknown device", Codes.NOT_FOUND)
    if display_name is not None:
        user.devices[device_id] = display_name
    return JSONResponse({})


async def delete_device(request: Request) -> Response:
    session = authenticate_user(request)
    body = await _body_or_empty(request)
    confirm_password(request, body, session)
    homeserver(request).delete_devices(session.user_id, [request.path_params["device_id"]])
    return JSONResponse({})


async def delete_devices(request: Request) -> Response:
    session = authenticate_user(request)
    body = await _body_or_empty(request)
    devices = body.get("devices")
    if devices is None:
        raise MatrixError(400, "Missing param: devices", Codes.MISSING_PARAM)
    if not isinstance(devices, list) or not all(isinstance(device_id, str) for device_id in devices):
        raise MatrixError(400, "'devices' must be an array of strings", Codes.BAD_JSON)
    confirm_password(request, body, session)
    homeserver(request).delete_devices(session.user_id, devices)
    return JSONResponse({})


def _device(hs: Homeserver, user_id: str, device_id: str) -> dict[str, Any]:
    """A device as Synapse shows it, leaving out what it would show as null: the spec types those as strings."""
    device: dict[str, Any] = {"user_id": user_id, "device_id": device_id}
    display_name = hs.accounts.users[user_id].devices.get(device_id)
    if display_name is not None:
        device["display_name"] = display_name
    seen = hs.accounts.last_seen.get((user_id, device_id))
    if seen is not None:
        ip, ts = seen
        if ip is not None:
            device["last_seen_ip"] = ip
        device["last_seen_ts"] = ts
    return device


async def _body_or_empty(request: Request) -> dict[str, Any]:
    """The JSON object body; like Synapse, a body that is no JSON at all (old clients sent none) counts as `{}`."""
    try:
        return parse_json_object(await read_body(request))
    except MatrixError as error:
        if error.errcode != Codes.NOT_JSON:
            raise
        return {}
