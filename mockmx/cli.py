"""The `mockmx` command: `serve` a scenario, `check` scenario files, `record` real traffic, `replay` it, `verify`
notifications."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import textwrap
from collections.abc import Sequence

from mockmx import __version__
from mockmx.limits import Limits
from mockmx.limits_cli import add_limit_arguments, limits_from
from mockmx.problems import ScenarioError
from mockmx.replay import command as replay_command
from mockmx.scenario.loader import default_scenario, load_scenario
from mockmx.scenario.model import Scenario
from mockmx.verify import command as verify_command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mockmx command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="mockmx", description="A mock Matrix homeserver for local development.")
    parser.add_argument("--version", action="version", version=f"mockmx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a scenario as a mock homeserver")
    serve.add_argument("--scenario", metavar="FILE", help="scenario file (default: the built-in default scenario)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8008, help="port to bind, 0 for any free one (default: %(default)s)")
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines (for load tests)")
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="Bearer token the control API (/_mockmx/) and the inspector ask for; beyond loopback they need one",
    )
    serve.add_argument(
        "--journal-limit",
        type=_positive,
        metavar="N",
        help="requests the request journal keeps (default: the scenario's journal_limit, else 10000)",
    )
    add_limit_arguments(serve)

    check = commands.add_parser("check", help="validate scenario files and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE")

    record = commands.add_parser(
        "record",
        help="record real traffic through a reverse proxy into a YAML recording",
        description="Record a client's traffic with a real homeserver (and, with --gateway-upstream, the "
        "homeserver's pushes to a gateway) into one YAML file, secrets replaced by placeholders.",
    )
    record.add_argument("--upstream", required=True, metavar="URL", help="the homeserver, e.g. http://127.0.0.1:8008")
    record.add_argument(
        "--listen", type=int, default=8080, metavar="PORT", help="client leg port (default: %(default)s)"
    )
    record.add_argument("--gateway-upstream", metavar="URL", help="the push gateway to forward the push leg to")
    record.add_argument(
        "--gateway-listen", type=int, default=8091, metavar="PORT", help="push leg port (default: %(default)s)"
    )
    record.add_argument("--out", required=True, metavar="FILE", help="the recording to write (overwritten)")
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    record.add_argument("--keep-secrets", action="store_true", help="record tokens and passwords verbatim")
    record.add_argument("--quiet", action="store_true", help="no line per flow on the terminal (errors still show)")
    record.add_argument(
        "--redact-field",
        action="append",
        default=[],
        metavar="NAME",
        help="also redact this JSON key or query parameter (repeatable)",
    )
    record.add_argument(
        "--keep-field",
        action="append",
        default=[],
        metavar="NAME",
        help="record this default secret field verbatim (repeatable)",
    )

    verify = commands.add_parser(
        "verify",
        help="compare the notifications sent with the ones expected; exit 1 with the differences",
        description="Compare the notifications in ACTUAL with those in EXPECTED, ignoring volatile fields.",
    )
    verify_command.add_arguments(verify)

    replay = commands.add_parser(
        "replay",
        help="serve a recording: answer as it did, re-send its notifications",
        description="Serve a recording as a homeserver: requests matching recorded ones get the recorded answers "
        "(ids, tokens and transaction ids mapped), and the recorded notifications go to --push-to.",
    )
    replay_command.add_arguments(replay)

    # An option the command does not know is reported with that command's usage, not the top-level one.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "check":
        return _check(args.files)
    if args.command == "record":
        return _record(args)
    if args.command == "verify":
        return verify_command.run(args)
    if args.command == "replay":
        return replay_command.run(args)
    return _serve(args)


def _record(args: argparse.Namespace) -> int:
    for option, url in (("--upstream", args.upstream), ("--gateway-upstream", args.gateway_upstream)):
        if url is not None and not url.startswith(("http://", "https://")):
            print(f"mockmx record: {option} must be an http:// or https:// URL, got {url!r}", file=sys.stderr)
            return 2
    if args.gateway_upstream and args.gateway_listen == args.listen:
        print("mockmx record: --listen and --gateway-listen must differ", file=sys.stderr)
        return 2
    # Imported here: mitmproxy takes a while to import, and `serve` and `check` do not need it (nor install it).
    try:
        from mockmx.record.run import RecordConfig, run_recorder
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != "mitmproxy":
            raise
        print('mockmx record: recording needs mitmproxy, an extra: pip install "mockmx[record]"', file=sys.stderr)
        return 2

    config = RecordConfig(
        upstream=args.upstream.rstrip("/"),
        out=args.out,
        host=args.host,
        listen=args.listen,
        gateway_upstream=args.gateway_upstream.rstrip("/") if args.gateway_upstream else None,
        gateway_listen=args.gateway_listen,
        keep_secrets=args.keep_secrets,
        redact_fields=args.redact_field,
        keep_fields=args.keep_field,
        quiet=args.quiet,
    )
    return run_recorder(config)


def _check(files: list[str]) -> int:
    failed = False
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            failed = True
            print(error, file=sys.stderr)
            continue
        counts = (
            (len(scenario.users), "user"),
            (len(scenario.rooms), "room"),
            (len(scenario.script), "scripted event"),
            (len(scenario.faults), "fault rule"),
        )
        print(f"{path}: ok ({', '.join(_count(n, noun) for n, noun in counts)})")
    return 1 if failed else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _serve(args: argparse.Namespace) -> int:
    # Imported here, as each command imports what it needs: `check` and `--help` need no server.
    from mockmx.app import create_app
    from mockmx.collection import freeze_survivors
    from mockmx.server import MockServer, beyond_loopback_warning, bind, is_loopback, server_config

    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return 2
    sock = bind(args.host, args.port, "mockmx serve")
    local = is_loopback(args.host)
    if not local:
        print(beyond_loopback_warning(args.host, "mockmx serve"), file=sys.stderr, flush=True)
    limits = limits_from(args, scenario.limits)
    scenario = dataclasses.replace(scenario, limits=limits)  # the flags reach the world (and a reset's)
    app = create_app(scenario=scenario, journal_limit=args.journal_limit, control_token=args.control_token)
    freeze_survivors()  # full collections stay short however much state the run piles up
    config = server_config(app, host=args.host, port=args.port, quiet=args.quiet, limits=limits)
    token = args.control_token

    def started(url: str) -> None:
        print(banner(scenario, url, local=local, limits=limits, control_token=token), flush=True)

    server = MockServer(config, on_started=started)
    # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught: that is a clean stop here.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0


def banner(
    scenario: Scenario,
    url: str,
    *,
    local: bool = True,
    limits: Limits | None = None,
    control_token: str | None = None,
) -> str:
    """What `mockmx serve` prints at start-up: where it listens, and the users and tokens to try."""
    source = "the default scenario" if scenario.source == default_scenario().source else scenario.source
    reach = "" if local else "  (reachable from other machines)"
    lines = [f"mockmx {__version__}: homeserver {scenario.server_name!r} from {source}", f"  URL: {url}{reach}", ""]
    example_token = None
    lines.append("  users:")
    for user in scenario.users:
        lines.append(f"    {user.user_id}" + (f"  password: {user.password}" if user.password else ""))
        for device in user.devices:
            if device.access_token:
                example_token = example_token or device.access_token
                lines.append(f"      device {device.device_id}  access token: {device.access_token}")
    if scenario.rooms:
        lines.append("  rooms:")
        for room in scenario.rooms:
            label = "  ".join(part for part in (room.room_id, room.alias, room.name) if part)
            members = f"{len(room.members)} member" + ("" if len(room.members) == 1 else "s")
            lines.append(f"    {label}  ({members})")
    if example_token:
        lines += ["", f"  try: curl -H 'Authorization: Bearer {example_token}' {url}/_matrix/client/v3/account/whoami"]
    if limits is not None:
        lines += ["", f"  limits: {limits.describe()}"]
        lines += textwrap.wrap(
            f"kept in memory: {limits.describe_retention()}", 116, initial_indent="  ", subsequent_indent="    "
        )
    lines += ["", *control_lines(url, local=local, token=control_token)]
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)


def control_lines(url: str, *, local: bool, token: str | None) -> list[str]:
    """Where the inspector and the control API are, and what they need beyond loopback."""
    if not local and token is None:
        return [
            "  inspector and control API (/_mockmx/): off, as the server is reachable from other machines;",
            "    start it with --control-token TOKEN to use them with that token",
        ]
    lines = [f"  inspector: {url}/_mockmx/" + (f"?control_token={token}" if token else "")]
    lines.append(f"  control API: {url}/_mockmx/openapi.json")
    if token is not None:
        lines.append("    it needs the header  Authorization: Bearer <the --control-token>")
    return lines


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value
