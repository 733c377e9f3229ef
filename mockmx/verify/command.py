"""`mockmx verify EXPECTED ACTUAL`: exit 0 when the notifications match, 1 with the differences when not."""

from __future__ import annotations

import argparse
import sys

from mockmx.verify.paths import DEFAULT_IGNORE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`mockmx verify`'s arguments."""
    where = "a recording, a journal JSON file, a YAML/JSON list of notifications, or a mock's notifications URL"
    parser.add_argument("expected", metavar="EXPECTED", help=f"the notifications expected: {where}")
    parser.add_argument("actual", metavar="ACTUAL", help="the notifications sent, from any of the same")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help=f"also ignore this field, e.g. room_id or content['m.relates_to'] (default: {', '.join(DEFAULT_IGNORE)})",
    )
    parser.add_argument("--no-default-ignore", action="store_true", help="compare the default ignored fields too")
    parser.add_argument("--partial", action="store_true", help="compare only the fields the expected ones give")
    parser.add_argument("--any-order", action="store_true", help="accept the notifications in any order")


def run(args: argparse.Namespace) -> int:
    """Compare and print the verdict; 2 when an input cannot be read."""
    from mockmx.verify.compare import compare_notifications
    from mockmx.verify.sources import read_notifications

    ignore = [*([] if args.no_default_ignore else DEFAULT_IGNORE), *args.ignore]
    try:
        expected = read_notifications(args.expected)
        actual = read_notifications(args.actual)
        comparison = compare_notifications(
            actual, expected, ignore=ignore, partial=args.partial, ordered=not args.any_order
        )
    except ValueError as exc:
        print(f"mockmx verify: {exc}", file=sys.stderr)
        return 2
    print(comparison.report())
    return 0 if comparison.ok else 1
