"""What `/notify` accepts: the push gateway spec's shape, plus what real homeservers send where it is stricter."""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes, MatrixError

_STRINGS = ("event_id", "room_id", "sender", "sender_display_name", "room_name", "room_alias")
PRIORITIES = ("high", "low")


def validate_notification(body: dict[str, Any]) -> dict[str, Any]:
    """The body's `notification`, checked; a Matrix 400 naming the first field that is wrong."""
    notification = body.get("notification")
    if notification is None:
        raise MatrixError(400, "Missing param: notification", Codes.MISSING_PARAM)
    if not isinstance(notification, dict):
        raise MatrixError(400, "'notification' must be an object", Codes.BAD_JSON)
    for key in _STRINGS:
        _expect(notification, key, str, "a string")
    # Synapse sends `"type": null` on badge-only updates although the schema says string: accept both.
    if notification.get("type") is not None:
        _expect(notification, "type", str, "a string")
    _expect(notification, "content", dict, "an object")
    _expect(notification, "user_is_target", bool, "a boolean")
    if "prio" in notification and notification["prio"] not in PRIORITIES:
        raise MatrixError(400, "'notification.prio' must be 'high' or 'low'", Codes.BAD_JSON)
    if "counts" in notification:
        counts = notification["counts"]
        if not isinstance(counts, dict):
            raise MatrixError(400, "'notification.counts' must be an object", Codes.BAD_JSON)
        for key in ("unread", "missed_calls"):
            if key in counts and not _is_int(counts[key]):
                raise MatrixError(400, f"'notification.counts.{key}' must be an integer", Codes.BAD_JSON)
    _validate_devices(notification)
    return notification


def _validate_devices(notification: dict[str, Any]) -> None:
    devices = notification.get("devices")
    if devices is None:
        raise MatrixError(400, "Missing param: notification.devices", Codes.MISSING_PARAM)
    if not isinstance(devices, list) or not devices:
        raise MatrixError(400, "'notification.devices' must be a non-empty array", Codes.BAD_JSON)
    for index, device in enumerate(devices):
        where = f"notification.devices[{index}]"
        if not isinstance(device, dict):
            raise MatrixError(400, f"'{where}' must be an object", Codes.BAD_JSON)
        for key in ("app_id", "pushkey"):
            if key not in device:
                raise MatrixError(400, f"Missing param: {where}.{key}", Codes.MISSING_PARAM)
            if not isinstance(device[key], str):
                raise MatrixError(400, f"'{where}.{key}' must be a string", Codes.BAD_JSON)
        if "pushkey_ts" in device and not _is_int(device["pushkey_ts"]):
            raise MatrixError(400, f"'{where}.pushkey_ts' must be an integer", Codes.BAD_JSON)
        for key in ("data", "tweaks"):
            if key in device and not isinstance(device[key], dict):
                raise MatrixError(400, f"'{where}.{key}' must be an object", Codes.BAD_JSON)
        data = device.get("data", {})
        if "format" in data and not isinstance(data["format"], str):
            raise MatrixError(400, f"'{where}.data.format' must be a string", Codes.BAD_JSON)


def _expect(container: dict[str, Any], key: str, kind: type, described: str) -> None:
    if key in container and not isinstance(container[key], kind):
        raise MatrixError(400, f"'notification.{key}' must be {described}", Codes.BAD_JSON)


def _is_int(value: object) -> bool:
    """An integer as the spec's JSON Schema counts one: 3, and 3.0 too (a number with no fraction)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)
