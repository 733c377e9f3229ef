"""`mockmx serve`'s flags for the limits, over the scenario's `limits:` section."""

from __future__ import annotations

import argparse

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


def limits_from(args: argparse.Namespace, scenario_limits: Limits) -> Limits:
    """The scenario's limits with the flags given on the command line applied."""
    return scenario_limits.override(
        max_connections=args.max_connections,
        request_timeout=args.request_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        max_header_bytes=args.max_header_bytes,
    )
