"""Record mode `new`: the requests replay passes on to the homeserver, appended as flows to a copy of the recording.

The copy is the recording's own text (comments and all) with each new flow written after it the way `mockmx
record` writes one: redacted, linked and fsync'd before the client gets its answer. The new flows keep the
recording's meaning: a credential the client got from the replay is redacted to the placeholder it stands for,
a new one gets the next number of its kind, and a token passed back links to the recorded flow that returned it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mockmx.record.entry import MultiMap, body_fields, seconds
from mockmx.record.links import Linker
from mockmx.record.model import Leg, Recording, Secrets
from mockmx.record.redact import DEFAULT_FIELDS, PLACEHOLDER, Redactor
from mockmx.record.writer import RecordingWriter, appendable
from mockmx.replay.bindings import Bindings


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One request passed on to the homeserver and its answer, as plain data (headers: the kept ones, see
    mockmx/record/entry.py); `began` and `ended` are Unix times."""

    method: str
    path: str  # as sent, percent-encoding kept, without the query
    query: MultiMap
    headers: MultiMap
    content: bytes
    status: int
    response_headers: MultiMap
    response_content: bytes
    began: float
    ended: float


class RecordingExtension:
    """Appends exchanges to `out`, a copy of `recording` made when the first one comes (never, if none does)."""

    def __init__(
        self,
        recording: Recording,
        out: str | os.PathLike[str],
        *,
        bindings: Bindings,
        returned: Mapping[str, int],
        secret_fields: Iterable[str] = (),
    ) -> None:
        self.out = Path(out)
        self.source = Path(recording.source)
        self.text = _whole_flows(self.source.read_text("utf-8"), recording.torn_tail)
        if not appendable(self.text):
            raise ValueError(
                f"record mode new appends to {recording.source} as mockmx record writes: its last key must be "
                "`flows:`, with its flows as a block list under it"
            )
        self.bindings = bindings
        self.linker = Linker(returned)
        self.redactor: Redactor | None = None
        if recording.secrets is not Secrets.KEPT:
            self.redactor = Redactor.configured(redact=[name for name in secret_fields if name not in DEFAULT_FIELDS])
            for found in PLACEHOLDER.finditer(self.text):
                self.redactor.count_past(found[0])
        self.next_id = len(recording.flows) + 1
        self.started = _started(recording)
        self.written = 0  # flows appended
        self._writer: RecordingWriter | None = None
        self._lock = asyncio.Lock()

    async def append(self, exchange: Exchange) -> None:
        """Write `exchange` as the next flow, durably, before returning; flows go in the order they come."""
        async with self._lock:
            entry = self._entry(exchange)
            await asyncio.to_thread(self._append, entry)
            self.next_id += 1
            self.written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def _append(self, entry: dict[str, Any]) -> None:
        if self._writer is None:
            start = self.text if self.text.endswith("\n") else self.text + "\n"
            self._writer = RecordingWriter(self.out, {}, start=start)
        self._writer.append(entry)

    def _entry(self, exchange: Exchange) -> dict[str, Any]:
        content_type = exchange.headers.get("content-type")
        response_type = exchange.response_headers.get("content-type")
        entry: dict[str, Any] = {
            "id": self.next_id,
            "leg": Leg.CLIENT.value,
            "at": seconds(exchange.began - self.started),
            "took": seconds(exchange.ended - exchange.began),
            "request": {
                "method": exchange.method,
                "path": exchange.path,
                **({"query": exchange.query} if exchange.query else {}),
                "headers": exchange.headers,
                **body_fields(exchange.content, content_type if isinstance(content_type, str) else None),
            },
            "response": {
                "status": exchange.status,
                "headers": exchange.response_headers,
                **body_fields(exchange.response_content, response_type if isinstance(response_type, str) else None),
            },
        }
        if self.redactor is not None:
            for recorded, live in self.bindings.bound_secrets():
                self.redactor.learn(live, recorded)
            entry = self.redactor.redact(entry)
        if links := self.linker.links(entry):
            entry["links"] = links
        return entry


def _whole_flows(text: str, torn_tail: int | None) -> str:
    """`text` without the torn flow the loader left out (it begins on line `torn_tail`)."""
    if torn_tail is None:
        return text
    return "".join(text.splitlines(keepends=True)[: torn_tail - 1])


def _started(recording: Recording) -> float:
    """When the recording started, as a Unix time; a hand-written recording with no parsable time: its last flow's
    end, `time.time()` seconds ago, so that new flows come after it."""
    try:
        return datetime.fromisoformat(recording.started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        ends = [flow.at + (flow.took or 0.0) for flow in recording.flows]
        return time.time() - max(ends, default=0.0)
