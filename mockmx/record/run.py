"""`mockmx record`: mitmproxy's DumpMaster with the recorder, one reverse-proxy listener per leg."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import exceptions
from mitmproxy.options import Options
from mitmproxy.tools.dump import DumpMaster

from mockmx.record.addon import Recorder


@dataclass(frozen=True, kw_only=True)
class RecordConfig:
    """What `mockmx record` was asked to do."""

    upstream: str
    out: str
    host: str = "127.0.0.1"
    listen: int = 8080
    gateway_upstream: str | None = None
    gateway_listen: int = 8091
    keep_secrets: bool = False
    redact_fields: Sequence[str] = field(default_factory=list)
    keep_fields: Sequence[str] = field(default_factory=list)
    quiet: bool = False  # no line per flow (mitmdump's flow_detail 0)

    def modes(self) -> list[str]:
        """mitmproxy `mode` specs: the client leg first, then the push leg when there is one."""
        modes = [f"reverse:{self.upstream}@{self.host}:{self.listen}"]
        if self.gateway_upstream:
            modes.append(f"reverse:{self.gateway_upstream}@{self.host}:{self.gateway_listen}")
        return modes


def run_recorder(config: RecordConfig) -> int:
    """Record until Ctrl-C (or SIGTERM); the exit status. A failed write exits at once with status 1."""
    return asyncio.run(_record(config))


async def _record(config: RecordConfig) -> int:
    logging.getLogger().setLevel(logging.DEBUG)  # mitmproxy's terminal log decides what is shown
    for noisy in ("asyncio", "hpack", "tornado"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    master = DumpMaster(Options())
    master.addons.add(Recorder())  # type: ignore[no-untyped-call]
    try:
        master.options.update(  # type: ignore[no-untyped-call]
            mode=config.modes(),
            mockmx_keep_secrets=config.keep_secrets,
            mockmx_redact_fields=list(config.redact_fields),
            mockmx_keep_fields=list(config.keep_fields),
            mockmx_out=config.out,
            **({"flow_detail": 0} if config.quiet else {}),
        )
    except exceptions.OptionsError as exc:
        print(f"mockmx record: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_without_cancelled_connections)
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, master.shutdown)
        except NotImplementedError:  # Windows' proactor loop
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(master.shutdown))
    await master.run()
    return 0


def _without_cancelled_connections(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's default handling of uncaught errors, less one that is no error: at shutdown mitmproxy cancels the
    connections still open (a homeserver's keep-alive connection to the push leg), and Python 3.11's asyncio
    streams then ask each cancelled connection task for its exception, which raises CancelledError and printed a
    traceback on every Ctrl-C."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)
