"""The recorder's writer process: makes the flows the proxy hands it into entries and appends them to the recording.

mitmproxy handles every flow on one thread. Capturing, redacting, linking and dumping each flow as YAML on it, and
writing and fsyncing one flow at a time, halved the proxy's throughput (bench/run.py, record overhead). So the proxy
only snapshots each flow and pipes it here, in the order the flows complete. This process builds the entries in that
same order (ids, placeholders and links depend on it), writes all the flows that have come in meanwhile with one
write and one fsync (group commit), and reports the id of the last flow on disk; the proxy holds each flow's
response until then.

The writer gets its `Setup` as JSON on its command line, then a pickled `Snapshot` per flow on stdin, each behind its
length (4 bytes). It answers a line each on stdout: `ready`, `written N` (every flow up to id N is on disk), or
`failed PROBLEM` (it has stopped, and no flow after the last `written` is on disk).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mitmproxy import connection, http
from mitmproxy import flow as mitmproxy_flow

from mockmx.record.capture import capture
from mockmx.record.links import Linker
from mockmx.record.model import Leg
from mockmx.record.redact import Redactor
from mockmx.record.writer import RecordingWriter

_LENGTH_BYTES = 4
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Setup:
    """The recording to write: its file, its header, when it started, and its secret fields (None: keep secrets)."""

    path: str
    header: dict[str, Any]
    started: float
    secret_fields: dict[str, str] | None


@dataclass(frozen=True)
class Snapshot:
    """A flow as it completed: its id and leg, mitmproxy's state of its request and response, and its error."""

    id: int
    leg: Leg
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, flow: http.HTTPFlow, *, flow_id: int, leg: Leg, error: str | None = None) -> Snapshot:
        """`flow` as it is now; `error`, when given, in place of the flow's own."""
        if error is None and flow.error is not None:
            error = flow.error.msg
        request = flow.request.get_state()  # type: ignore[no-untyped-call]
        response = flow.response.get_state() if flow.response is not None else None  # type: ignore[no-untyped-call]
        return cls(flow_id, leg, request, response, error)


class WriterProcess:
    """The proxy's end: starts the writer, sends it flows, and tells each flow when it is on disk."""

    def __init__(self, setup: Setup, *, command: list[str] | None = None) -> None:
        """Start a writer on `setup` and wait until it has written the header; raise RuntimeError saying why it
        could not. `command` runs the writer (by default, this module's `main`)."""
        self.path = Path(setup.path)
        self._process = subprocess.Popen(
            [*(command or [sys.executable, "-m", __name__]), json.dumps(dataclasses.asdict(setup))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to_writer, self._from_writer = self._process.stdin.fileno(), self._process.stdout.fileno()
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()
        self._sent = self._written_up_to = 0  # the last flow sent, and the last the writer reported on disk
        self._unsent = bytearray()
        self._received = bytearray()
        self._problem: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if (reply := self._process.stdout.readline()) != b"ready\n":
            self._receive(reply)
            self.close()
            raise RuntimeError(self._problem or f"the writer process ended (status {self._process.wait()})")
        os.set_blocking(self._to_writer, False)
        os.set_blocking(self._from_writer, False)

    async def append(self, snapshot: Snapshot) -> None:
        """Return once the flow is on disk; raise RuntimeError saying why when it will not be."""
        if self._problem is not None:
            raise RuntimeError(self._problem)
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            loop.add_reader(self._from_writer, self._readable)
        on_disk = loop.create_future()
        self._waiting.append((snapshot.id, on_disk))
        self._sent = snapshot.id
        self._send(_message(snapshot))
        await on_disk

    def finish(self, snapshots: Iterable[Snapshot] = ()) -> None:
        """Send the last flows, and wait (blocking) until the writer has written everything and exited; raise
        RuntimeError saying why when it could not."""
        if self._process.returncode is not None:
            return
        self._stop_listening()
        os.set_blocking(self._to_writer, True)
        last = b"".join(_message(snapshot) for snapshot in snapshots)
        self._sent = max([self._sent, *(snapshot.id for snapshot in snapshots)])
        with contextlib.suppress(OSError):  # the writer is gone: what it said before going tells why
            _write_all(self._to_writer, bytes(self._unsent) + last)
        self._unsent.clear()
        self._ended(finishing=True)
        if self._problem is not None:
            raise RuntimeError(self._problem)

    def close(self) -> None:
        """Let the writer write what it has and exit; what it says meanwhile is no longer of interest."""
        with contextlib.suppress(RuntimeError):
            self.finish()

    # -- sending ---------------------------------------------------------------------------------------------------

    def _send(self, message: bytes) -> None:
        if not self._unsent:
            try:
                message = message[os.write(self._to_writer, message) :]
            except BlockingIOError:
                pass
            except OSError:  # the writer is gone
                self._ended()
                return
            if message:
                assert self._loop is not None
                self._loop.add_writer(self._to_writer, self._send_unsent)
        self._unsent += message

    def _send_unsent(self) -> None:
        try:
            del self._unsent[: os.write(self._to_writer, self._unsent)]
        except BlockingIOError:
            return
        except OSError:
            self._ended()
            return
        if not self._unsent and self._loop is not None:
            self._loop.remove_writer(self._to_writer)

    # -- receiving -------------------------------------------------------------------------------------------------

    def _stop_listening(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._from_writer)
            self._loop.remove_writer(self._to_writer)
        self._loop = None

    def _readable(self) -> None:
        try:
            chunk = os.read(self._from_writer, _READ_SIZE)
        except BlockingIOError:
            return
        if chunk:
            self._receive(chunk)
        else:
            self._ended()

    def _receive(self, chunk: bytes) -> None:
        self._received += chunk
        *lines, unfinished = self._received.split(b"\n")
        self._received = bytearray(unfinished)
        for line in lines:
            word, _, rest = line.decode(errors="replace").partition(" ")
            if word == "written":
                self._written(int(rest))
            else:
                self._problem = self._problem or (rest if word == "failed" else f"the writer said {line!r}")
                self._fail_waiting()

    def _written(self, last_id: int) -> None:
        self._written_up_to = last_id
        while self._waiting and self._waiting[0][0] <= last_id:
            _, on_disk = self._waiting.popleft()
            if not on_disk.done():  # else its waiter was cancelled
                on_disk.set_result(None)

    def _ended(self, *, finishing: bool = False) -> None:
        """Nothing more goes to the writer: read what it says until it exits, then fail whatever it has not written
        (blocking, but only ever for a writer that is finishing or gone)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stop_listening()
        with contextlib.suppress(OSError):
            self._process.stdin.close()  # a broken pipe's last flush may fail: nothing in it matters any more
        os.set_blocking(self._from_writer, True)
        with self._process.stdout:
            while chunk := os.read(self._from_writer, _READ_SIZE):
                self._receive(chunk)
        status = self._process.wait()
        if self._problem is None and (self._written_up_to < self._sent or not finishing):
            self._problem = f"the writer process ended unexpectedly (status {status})"
        self._fail_waiting()

    def _fail_waiting(self) -> None:
        while self._waiting:
            _, on_disk = self._waiting.popleft()
            if not on_disk.done():
                on_disk.set_exception(RuntimeError(self._problem))


# -- the writer's end --------------------------------------------------------------------------------------------


class _Entries:
    """Entries from snapshots, in the order they come: redacted, and linked to the flows before them."""

    def __init__(self, setup: Setup) -> None:
        self.started = setup.started
        self.redactor = Redactor(fields=setup.secret_fields) if setup.secret_fields is not None else None
        self.linker = Linker()
        # capture() reads a flow's request, response and error only; the connections are placeholders.
        self._client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=0)
        self._server = connection.Server(address=None)

    def entry(self, snapshot: Snapshot) -> dict[str, Any]:
        flow = http.HTTPFlow(self._client, self._server)
        flow.request = http.Request.from_state(snapshot.request)  # type: ignore[no-untyped-call]
        if snapshot.response is not None:
            flow.response = http.Response.from_state(snapshot.response)  # type: ignore[no-untyped-call]
        flow.error = mitmproxy_flow.Error(snapshot.error) if snapshot.error is not None else None
        entry = capture(flow, flow_id=snapshot.id, leg=snapshot.leg, started=self.started)
        if self.redactor is not None:
            entry = self.redactor.redact(entry)
        if links := self.linker.links(entry):
            entry["links"] = links
        return entry


def main(argv: list[str] | None = None) -> int:
    """The writer: `Setup` JSON as the argument, snapshots on stdin until it closes, reports on stdout."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Ctrl-C (or a stop sent to the whole group) stops the proxy, which then closes our stdin: we stop after
        # writing what it sent, not in the middle of a write.
        signal.signal(signum, signal.SIG_IGN)
    replies = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing printed by accident can garble the replies

    def reply(line: str) -> None:
        _write_all(replies, (line.replace("\n", " ") + "\n").encode(errors="replace"))

    setup = Setup(**json.loads((sys.argv[1:] if argv is None else argv)[0]))
    try:
        writer = RecordingWriter(setup.path, setup.header)
    except OSError as exc:
        reply(f"failed cannot write the recording {setup.path}: {exc}")
        return 1
    reply("ready")
    entries = _Entries(setup)
    with contextlib.closing(writer):
        for snapshots in _messages(sys.stdin.fileno()):
            flows = []
            for snapshot in snapshots:
                try:
                    flows.append(entries.entry(snapshot))
                except Exception as exc:  # a flow this code cannot handle must not pass unrecorded either
                    reply(f"failed cannot record {_request_line(snapshot)}: {exc!r}")
                    return 1
            try:
                writer.append_many(flows)
            except OSError as exc:
                reply(f"failed cannot write to {setup.path}: {exc}")
                return 1
            reply(f"written {snapshots[-1].id}")
    return 0


def _messages(fd: int) -> Iterator[list[Snapshot]]:
    """All the snapshots that have come in, at each read, until the other end closes."""
    buffer = bytearray()
    while chunk := os.read(fd, _READ_SIZE):
        buffer += chunk
        snapshots, start = [], 0
        while len(buffer) - start >= _LENGTH_BYTES:
            end = start + _LENGTH_BYTES + int.from_bytes(buffer[start : start + _LENGTH_BYTES], "big")
            if end > len(buffer):
                break
            snapshots.append(pickle.loads(buffer[start + _LENGTH_BYTES : end]))
            start = end
        del buffer[:start]
        if snapshots:
            yield snapshots


def _message(snapshot: Snapshot) -> bytes:
    data = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_LENGTH_BYTES, "big") + data


def _request_line(snapshot: Snapshot) -> str:
    return f"{snapshot.request['method'].decode(errors='replace')} {snapshot.request['path'].decode(errors='replace')}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    sys.exit(main())
