"""The recorder, a mitmproxy addon: every flow through the reverse-proxy listeners into one YAML recording.

The first `--mode` is the client leg (client to homeserver), any other the push leg (homeserver to push gateway).
Each flow is redacted, written and fsync'd before its response goes on to the client, so whatever a client has
received is on disk. That work happens in a writer process (writer_process.py), in the order the flows complete,
so that it neither takes the proxy's time nor lets a long poll or a slow disk hold other flows up. On its own:

    mitmdump -s mockmx/record/addon.py --mode reverse:http://127.0.0.1:8008@8080 \\
        --mode reverse:http://127.0.0.1:8090@8091 --set mockmx_out=session.yaml
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import mitmproxy.version
from mitmproxy import ctx, exceptions, http
from mitmproxy.addonmanager import Loader
from mitmproxy.proxy.mode_specs import ProxyMode, ReverseMode

from mockmx import __version__
from mockmx.hosting import http_url
from mockmx.record.model import Leg, Secrets
from mockmx.record.redact import DEFAULT_FIELDS, Redactor
from mockmx.record.writer_process import Setup, Snapshot, WriterProcess

logger = logging.getLogger(__name__)

_RECORDED = "mockmx_recorded"  # flow metadata: already in the file (a flow can see `response` and then `error`)


class Recorder:
    """Streams flows into a recording file (`mockmx_out`), secrets replaced, links between flows kept."""

    def __init__(self) -> None:
        self.writer: WriterProcess | None = None
        self.started = 0.0
        self.flows_written = 0
        self.failed = False
        self._in_flight: dict[str, http.HTTPFlow] = {}
        self._redaction: tuple[bool, tuple[str, ...], tuple[str, ...]] | None = None
        self._waiting: set[http.HTTPFlow] = set()  # flows whose answer waits until they are on disk

    def load(self, loader: Loader) -> None:
        loader.add_option(
            "mockmx_out", str, "", "Write the recording to this YAML file (overwritten), one flow at a time."
        )
        loader.add_option(
            "mockmx_keep_secrets", bool, False, "Record access tokens, passwords and other credentials verbatim."
        )
        loader.add_option(
            "mockmx_redact_fields",
            Sequence[str],
            [],
            "More JSON keys and query parameters whose values are secrets, on top of the defaults.",
        )
        loader.add_option(
            "mockmx_keep_fields",
            Sequence[str],
            [],
            f"Default secret fields to record verbatim after all (of: {', '.join(DEFAULT_FIELDS)}).",
        )

    def configure(self, updated: set[str]) -> None:
        unknown = [name for name in ctx.options.mockmx_keep_fields if name not in DEFAULT_FIELDS]
        if unknown:
            raise _options_error(
                f"mockmx_keep_fields: not a default secret field: {', '.join(unknown)} "
                f"(expected some of: {', '.join(DEFAULT_FIELDS)})"
            )
        if any(not name for name in ctx.options.mockmx_redact_fields):
            raise _options_error("mockmx_redact_fields: field names must not be empty")
        if self.writer is not None and self._redaction_options() != self._redaction:
            if self.flows_written:
                raise _options_error("what is redacted cannot change in the middle of a recording")
            self._open(str(self.writer.path))  # nothing recorded yet: start the file afresh, its header too
        if "mockmx_out" in updated and ctx.options.mockmx_out:
            if self.writer is not None and self.writer.path == Path(ctx.options.mockmx_out):
                return  # the same options again (a script reload, deferred options): keep recording
            self._open(ctx.options.mockmx_out)

    def running(self) -> None:
        if self.writer is None:
            logger.error("mockmx record: no recording file: set mockmx_out (`--set mockmx_out=FILE`)")
            return
        logger.info(f"mockmx record: recording to {self.writer.path}")
        proxyserver = ctx.master.addons.get("proxyserver")  # type: ignore[no-untyped-call]
        for instance in proxyserver.servers if proxyserver else ():
            mode = instance.mode
            if isinstance(mode, ReverseMode):
                for host, port, *_ in instance.listen_addrs:
                    logger.info(f"  {self._leg_of(mode)} leg: {http_url(host, port)} -> {mode.data}")

    def request(self, flow: http.HTTPFlow) -> None:
        self._in_flight[flow.id] = flow

    async def response(self, flow: http.HTTPFlow) -> None:
        await self._record(flow)

    async def error(self, flow: http.HTTPFlow) -> None:
        await self._record(flow)

    def done(self) -> None:
        if self.writer is not None and not self.failed:
            # Requests still waiting for an answer (long polls, typically): on record, so nothing is lost.
            unfinished = [
                self._snapshot(flow, error="unfinished: the recorder stopped before the response")
                for flow in self._in_flight.values()
            ]
            try:
                self.writer.finish(unfinished)
            except RuntimeError as exc:
                self._fail(str(exc))
        self._close()

    async def _record(self, flow: http.HTTPFlow) -> None:
        self._in_flight.pop(flow.id, None)
        if self.writer is None or self.failed or flow.metadata.get(_RECORDED):
            return
        self._waiting.add(flow)
        try:
            await self.writer.append(self._snapshot(flow))
        except RuntimeError as exc:  # the writer's problem
            self._fail(str(exc))
        except Exception as exc:  # a flow this code cannot handle must not pass unrecorded either
            self._fail(f"cannot record {flow.request.method} {flow.request.path}: {exc!r}")
        finally:
            self._waiting.discard(flow)

    def _snapshot(self, flow: http.HTTPFlow, *, error: str | None = None) -> Snapshot:
        """The flow as it is now, numbered here, in the order flows complete: the writer keeps that order."""
        flow.metadata[_RECORDED] = True
        self.flows_written += 1
        return Snapshot.of(flow, flow_id=self.flows_written, leg=self._leg_of(flow.client_conn.proxy_mode), error=error)

    def _fail(self, problem: str) -> NoReturn:
        self.failed = True
        for unwritten in self._waiting:  # no client may get an answer that is not on record
            if unwritten.killable:
                unwritten.kill()  # type: ignore[no-untyped-call]
        # Like mitmproxy's own save addon: we really want to crash visibly instead of letting traffic through
        # unrecorded, and an error logged from a hook would not stop the proxy.
        sys.stderr.write(f"mockmx record: {problem}; stopping the recorder\n")
        sys.stderr.flush()
        sys.exit(1)

    def _open(self, path: str) -> None:
        self._close()
        self.started = time.time()
        self._redaction = self._redaction_options()
        keep_secrets, redact, keep = self._redaction
        secret_fields = None if keep_secrets else Redactor.configured(redact=redact, keep=keep).fields
        try:
            self.writer = WriterProcess(Setup(path, self._header(), self.started, secret_fields))
        except RuntimeError as exc:
            raise _options_error(str(exc)) from None
        self.flows_written = 0

    def _redaction_options(self) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
        options = ctx.options
        return options.mockmx_keep_secrets, tuple(options.mockmx_redact_fields), tuple(options.mockmx_keep_fields)

    def _leg_of(self, mode: ProxyMode) -> Leg:
        modes = ctx.options.mode
        return Leg.CLIENT if not modes or mode.full_spec == modes[0] else Leg.PUSH

    def _header(self) -> dict[str, Any]:
        upstreams: dict[str, str] = {}
        for spec in ctx.options.mode:
            mode = ProxyMode.parse(spec)
            if isinstance(mode, ReverseMode):
                upstreams.setdefault(self._leg_of(mode).value, mode.data)
        return {
            "mockmx_recording": 1,
            "started_at": datetime.fromtimestamp(self.started, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "recorder": f"mockmx {__version__}, mitmproxy {mitmproxy.version.VERSION}",
            "upstreams": upstreams,
            "secrets": (Secrets.KEPT if ctx.options.mockmx_keep_secrets else Secrets.REDACTED).value,
        }

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _options_error(message: str) -> exceptions.OptionsError:
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]


addons = [Recorder()]
