"""The `mockmx` command: `serve` a scenario, `check` scenario files."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn

from mockmx import __version__
from mockmx.app import create_app
from mockmx.homeserver.server import Homeserver
from mockmx.scenario.loader import ScenarioError, default_scenario, load_scenario
from mockmx.scenario.model import Scenario


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

    check = commands.add_parser("check", help="validate scenario files and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE")

    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.files)
    return _serve(args)


def _check(files: list[str]) -> int:
    failed = False
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            failed = True
            print(error, file=sys.stderr)
            continue
        print(
            f"{path}: ok ({len(scenario.users)} users, {len(scenario.rooms)} rooms, "
            f"{len(scenario.script)} scripted events, {len(scenario.faults)} fault rules)"
        )
    return 1 if failed else 0


def _serve(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return 2
    app = create_app(scenario=scenario)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        access_log=not args.quiet,
        log_level="warning" if args.quiet else "info",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config, scenario=scenario, homeserver=app.state.homeserver)
    # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught: that is a clean stop here.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


class _Server(uvicorn.Server):
    """uvicorn, plus a banner once the port is bound and an early wake-up of long polls at shutdown."""

    def __init__(self, config: uvicorn.Config, *, scenario: Scenario, homeserver: Homeserver) -> None:
        super().__init__(config)
        self.scenario = scenario
        self.homeserver = homeserver

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            url = f"http://{_url_host(host)}:{port}"
            self.homeserver.base_url = url
            print(banner(self.scenario, url), flush=True)

    async def shutdown(self, sockets: Any = None) -> None:
        # Pending /sync and /events polls answer now, empty, instead of holding Ctrl-C up until their timeout.
        self.homeserver.notifier.release_all()
        await super().shutdown(sockets)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def banner(scenario: Scenario, url: str) -> str:
    """What `mockmx serve` prints at start-up: where it listens, and the users and tokens to try."""
    lines = [f"mockmx {__version__}: homeserver {scenario.server_name!r} from {scenario.source}", f"  URL: {url}", ""]
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
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)
