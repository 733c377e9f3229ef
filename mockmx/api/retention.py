"""`GET /_mockmx/limits`: the limits in force, and for each thing the mock keeps in memory its bound, how much it
keeps now and how much fell out since the world began (a reset starts the counts over)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import world
from mockmx.crypto.participants import MAX_DECRYPTED
from mockmx.limits import CONNECTION_LIMITS
from mockmx.world import World


async def show_limits(request: Request) -> Response:
    current = world(request)
    limits = current.homeserver.limits
    return JSONResponse(
        {
            "connections": {name: getattr(limits, name) for name in CONNECTION_LIMITS},
            "memory": memory_report(current),
        }
    )


def memory_report(current: World) -> dict[str, dict[str, Any]]:
    """Each bounded store: `limit` (with what it counts `per`, and the `setting` that changes it), `kept`, `dropped`."""
    hs = current.homeserver
    limits = hs.limits
    rooms = hs.rooms.values()
    deliveries = current.push_sender.deliveries
    return {
        "room_events": _entry(
            "limits.max_room_events",
            limits.max_room_events,
            sum(len(room.timeline) for room in rooms),
            sum(room.dropped for room in rooms),
            per="room",
        ),
        "transactions": _entry(
            "limits.max_transactions", limits.max_transactions, len(current.transactions), current.transactions.dropped
        ),
        "to_device": _entry(
            "limits.max_to_device_per_device",
            limits.max_to_device_per_device,
            hs.to_device.pending_count(),
            hs.to_device.dropped,
            per="device",
        ),
        "gateway_notifications": _entry(
            "limits.max_gateway_notifications",
            limits.max_gateway_notifications,
            current.gateway.kept(),
            current.gateway.dropped,
        ),
        "notifications": _entry(
            "limits.max_notifications_per_user",
            limits.max_notifications_per_user,
            hs.notifications.kept(),
            hs.notifications.dropped,
            per="user",
        ),
        "failed_pushes": _entry(
            "limits.max_failed_pushes", limits.max_failed_pushes, len(deliveries.failed), deliveries.failed_let_go
        ),
        "media_bytes": _entry(
            "media.max_total_bytes", hs.media.max_total_bytes, hs.media.total_bytes, hs.media.evictions
        ),
        "request_journal": _entry(
            "journal_limit", current.requests.limit, len(current.requests.entries), current.requests.dropped
        ),
        "to_device_journal": _entry(
            "journal_limit",
            current.to_device.messages.maxlen or 0,
            len(current.to_device.messages),
            current.to_device.dropped,
        ),
        "decrypted": _entry(
            None, MAX_DECRYPTED, hs.encrypted_users.decrypted_kept(), hs.encrypted_users.decrypted_dropped
        ),
    }


def _entry(setting: str | None, limit: int, kept: int, dropped: int, *, per: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"limit": limit, "kept": kept, "dropped": dropped, "setting": setting}
    if per is not None:
        entry["per"] = per
    return entry
