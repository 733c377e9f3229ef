"""The replay engine: finds the recorded flow a live request stands for, takes it (binding the request's credentials
and transaction id to the recorded ones), and writes the recorded answer in the values this client knows.

A long poll whose recorded answer carries events that later requests sent (a sync woken by a message) waits until
those requests have been replayed, up to its own `timeout`: a client sees events no earlier than it saw them live.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from starlette.responses import Response

from mockmx.errors import Codes, MatrixError
from mockmx.record.model import Flow, Leg, Recording
from mockmx.replay.bindings import PLACEHOLDER, Bindings
from mockmx.replay.index import AmbiguousToken, Entry, FlowIndex
from mockmx.replay.matchers import Context, Recorded
from mockmx.replay.pushes import PushReplayer, push_triggers
from mockmx.replay.sessions import bind_declared, recorded_sessions
from mockmx.replay.shape import SECRET_FIELDS, TOKEN_FIELDS, Shape, Slot, build_shape, tag_body, tag_content
from mockmx.replay.state import Miss, ReplayState

# Recorded response headers worth sending back (content-type goes as the media type).
ANSWER_HEADERS = ("retry-after", "location", "set-cookie")


class Replayer:
    """One replay of one recording: its index, its bindings, what it has answered, and its pushes."""

    def __init__(
        self,
        recording: Recording,
        *,
        state: ReplayState,
        push_to: str | None = None,
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        self.recording = recording
        self.state = state
        self.bindings = Bindings()
        self.sessions = recorded_sessions(recording)
        bind_declared(tokens or {}, self.sessions, self.bindings)
        self.served: set[int] = set()
        self.released = False
        # Fields redacted with --redact-field: secrets, as far as replay can tell.
        self.secret_fields = SECRET_FIELDS | (_redacted_fields(recording) - TOKEN_FIELDS)
        # Every id and token a response introduced, and the first flow that did (Recording.returned_by, indexed).
        self.returned: dict[str, int] = {}
        for flow in recording.flows:
            for value in flow.links.returned.values():
                self.returned.setdefault(value, flow.id)
        entries = []
        self._waits_for: dict[int, set[int]] = {}
        for flow in recording.flows:
            if flow.leg != Leg.CLIENT:
                continue
            entries.append(Entry(flow, Recorded(flow.id, self._recorded_shape(flow), flow.links.passed)))
            causes = {self.returned[event] for event in flow.links.events if event in self.returned} - {flow.id}
            if causes:
                self._waits_for[flow.id] = causes
        self.index = FlowIndex(entries)
        self._client_flows = len(entries)
        self.pushes = (
            PushReplayer(push_triggers(recording, self.returned), push_to=push_to, state=state) if push_to else None
        )
        self._by_txn: dict[tuple[str | None, str, str], Entry] = {}
        self._change: asyncio.Event | None = None

    def live_shape(
        self,
        *,
        method: str,
        path: str,
        query: dict[str, str | list[str]],
        authorization: str | None,
        content: bytes,
        content_type: str | None,
    ) -> Shape:
        """A live request's shape, its credentials mapped to the recorded ones they are bound to."""
        return build_shape(
            method=method,
            path=path,
            query=query,
            authorization=authorization,
            body=tag_content(content, content_type),
            secret_fields=self.secret_fields,
            translate=self._translate,
        )

    def match(self, got: Shape) -> Entry | None:
        """The recorded flow that answers `got`, taken; or a transaction's earlier answer when `got` retries it.
        An access token that more than one recorded session could stand for is a 401, never a guess."""
        try:
            entry = self.index.find(got, Context(self.bindings, self.served))
        except AmbiguousToken as ambiguous:
            raise self._ambiguous(got, ambiguous.sessions) from None
        if entry is None:
            entry = self._retried(got)
            if entry is not None:
                self.state.answered.append(entry.flow.id)
            return entry
        self._take(entry, got)
        return entry

    def _ambiguous(self, got: Shape, tokens: list[str]) -> MatrixError:
        sessions = [str(self.sessions.get(token, token)) for token in tokens]
        message = (
            f"mockmx replay: the recording has {len(tokens)} sessions this access token could stand for "
            f"({'; '.join(sessions)}), so it is bound to none: log in as the recording did, or say whose token it "
            "is (mockmx replay --token @user:server=TOKEN; in pytest, the mockmx marker's tokens={'@user:server': "
            "TOKEN})"
        )
        miss = Miss(got.describe(), (), "401 M_UNKNOWN_TOKEN: " + message)
        self.state.misses.append(miss)
        return MatrixError(401, message, Codes.UNKNOWN_TOKEN, extra={"soft_logout": False})

    @property
    def finished(self) -> bool:
        """Whether every recorded client request has been answered."""
        return len(self.served) >= self._client_flows

    def miss(self, got: Shape, request: str, answer: str) -> Miss:
        """Keep a miss in the state with its near misses, and return it."""
        near = self.index.near_misses(got, Context(self.bindings, self.served))
        miss = Miss(request, tuple(near), answer)
        self.state.misses.append(miss)
        return miss

    def respond(self, entry: Entry) -> Response:
        """The recorded answer of `entry` (which has one), in this client's values."""
        recorded = entry.flow.response
        assert recorded is not None  # callers answer flows without a response otherwise
        media_type = recorded.header("content-type")
        if recorded.body_kind == "body":
            content = _dumps(self._live(recorded.body, entry.shape.session))
            media_type = media_type or "application/json"
        else:
            content = recorded.content()
        response = Response(content, status_code=recorded.status, media_type=media_type)
        for name in ANSWER_HEADERS:
            value = recorded.headers.get(name)
            for item in value if isinstance(value, list) else [value] if value is not None else []:
                response.headers.append(name, self._live(item, None))
        return response

    async def hold(self, entry: Entry, seconds: float) -> None:
        """Wait until the flows whose events `entry`'s answer carries have been replayed, or `seconds` pass."""
        causes = self._waits_for.get(entry.flow.id)
        if causes and seconds > 0:
            await self._wait(lambda: causes <= self.served, seconds)

    async def hold_unanswered(self, seconds: float | None) -> None:
        """Wait as a request the homeserver never answered waited: until `seconds` pass, or replay stops."""
        await self._wait(lambda: False, seconds)

    def release_all(self) -> None:
        """Stop every wait now (the server is shutting down)."""
        self.released = True
        self._changed()

    async def stop(self) -> None:
        self.release_all()
        if self.pushes is not None:
            await self.pushes.stop()

    def _translate(self, live: str) -> Slot:
        recorded = self.bindings.recorded_secret(live)
        return Slot(recorded) if recorded is not None else Slot(live, fresh=True)

    def _recorded_shape(self, flow: Flow) -> Shape:
        request = flow.request
        return build_shape(
            method=request.method,
            path=request.path,
            query=request.query,
            authorization=request.header("authorization"),
            body=tag_body(request.body_kind, request.body),
            secret_fields=self.secret_fields,
            translate=Slot,
        )

    def _take(self, entry: Entry, got: Shape) -> None:
        for live, recorded in zip(got.slots, entry.shape.slots, strict=True):
            if live.fresh:
                self.bindings.bind_secret(recorded.value, live.value)
        recorded_txn, live_txn = entry.shape.route.txn_id, got.route.txn_id
        if recorded_txn is not None and live_txn is not None:
            session = entry.shape.session
            self.bindings.bind_txn(session, recorded_txn, live_txn)
            self._by_txn[session, got.route.template, live_txn] = entry
        self.index.take(entry)
        self.served.add(entry.flow.id)
        self.state.answered.append(entry.flow.id)
        if self.pushes is not None:
            self.pushes.on_answered(entry.flow.id)
        self._changed()

    def _retried(self, got: Shape) -> Entry | None:
        """A transaction id sent again gets the answer it got before, as a homeserver's idempotency promises."""
        txn_id = got.route.txn_id
        if txn_id is None or got.fresh:
            return None
        entry = self._by_txn.get((got.session, got.route.template, txn_id))
        return entry if entry is not None and entry.shape.strict_key == got.strict_key else None

    def _live(self, value: Any, session: str | None, key: str | None = None) -> Any:
        if isinstance(value, str):
            if key == "transaction_id":
                return self.bindings.live_txn(session, value)
            if (key in TOKEN_FIELDS and value) or PLACEHOLDER.fullmatch(value):
                return self.bindings.live_secret(value)
            return value
        if isinstance(value, dict):
            return {name: self._live(item, session, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self._live(item, session, key) for item in value]
        return value

    async def _wait(self, done: Callable[[], bool], seconds: float | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while not done() and not self.released:
            if self._change is None:
                self._change = asyncio.Event()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._change.wait(), remaining)
            except TimeoutError:
                return

    def _changed(self) -> None:
        if self._change is not None:
            self._change.set()
            self._change = None


def _redacted_fields(recording: Recording) -> set[str]:
    """Keys and query parameters holding placeholders in recorded requests: `--redact-field`s, found again."""
    found: set[str] = set()
    for flow in recording.flows:
        if flow.leg == Leg.CLIENT:
            found.update(name for name, value in _items(flow.request.query) if _placeholder(value))
            found.update(name for name, value in _items(flow.request.body) if _placeholder(value))
    return found


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _items(item)
    elif isinstance(value, list):
        for item in value:
            yield from _items(item)


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.fullmatch(value) is not None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
