"""`mockmx serve`'s flags for the limits (the connection limits and the most used memory ones), over the scenario's
`limits:` section."""

from __future__ import annotations

import argparse
from dataclasses import fields

from mockmx.limits import Limits

_DEFAULTS = Limits()


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits (over the scenario's limits: section)")
    group.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help=f"connections served at once; past it 503 M_LIMIT_EXCEEDED (default {_DEFAULTS.max_connections})",
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        metavar="SECONDS",
        help=f"time to send a whole request head; else 408 or closed (default {_DEFAULTS.request_timeout})",
    )
    group.add_argument(
        "--keep-alive-timeout",
        type=float,
        metavar="SECONDS",
        help=f"idle time after an answer before a connection closes (default {_DEFAULTS.keep_alive_timeout})",
    )
    group.add_argument(
        "--max-header-bytes",
        type=int,
        metavar="BYTES",
        help=f"request line and headers; past it 431 (default {_DEFAULTS.max_header_bytes})",
    )
    group.add_argument(
        "--max-room-events",
        type=_positive,
        metavar="N",
        help=f"events kept per room, the newest; the state always stays (default {_DEFAULTS.max_room_events:,})",
    )
    group.add_argument(
        "--max-to-device-per-device",
        type=_positive,
        metavar="N",
        help=f"undelivered to-device messages per device (default {_DEFAULTS.max_to_device_per_device:,})",
    )
    group.add_argument(
        "--max-gateway-notifications",
        type=_positive,
        metavar="N",
        help=f"notifications the push gateway keeps (default {_DEFAULTS.max_gateway_notifications:,})",
    )


def limits_from(args: argparse.Namespace, scenario_limits: Limits) -> Limits:
    """The scenario's limits with the flags given on the command line applied."""
    return scenario_limits.override(**{field.name: getattr(args, field.name, None) for field in fields(Limits)})


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value
