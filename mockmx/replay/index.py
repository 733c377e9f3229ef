"""Recorded client requests filed for lookup: by (method, route template), then by key, each key a queue in
recorded order. Finding a request's answer is two dict lookups and a look at the head of one queue, however long
the recording; only a miss looks further, at a bounded sample, for its near-miss report."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from mockmx.record.model import Flow
from mockmx.record.redact import PLACEHOLDER
from mockmx.replay.matchers import VARIABLE_MATCHERS, Context, Difference, Recorded, differences, same
from mockmx.replay.shape import Shape
from mockmx.replay.state import NearMiss

# A miss is compared with this many pending requests of its own route, and with the first of every other route.
NEAR_SAMPLE = 20
NEAR_REPORTED = 3


@dataclass(eq=False, slots=True)
class Entry:
    """A recorded client flow waiting to be asked for."""

    flow: Flow
    recorded: Recorded
    done: bool = False

    @property
    def shape(self) -> Shape:
        return self.recorded.shape


class _Bucket:
    """One (method, route template): its pending requests in recorded order, and queues by key."""

    __slots__ = ("by_loose", "by_strict", "pending")

    def __init__(self) -> None:
        self.pending: dict[int, Entry] = {}  # by flow id, in recorded order
        self.by_strict: dict[str, deque[Entry]] = {}
        self.by_loose: dict[str, deque[Entry]] = {}


class FlowIndex:
    """Pending recorded requests, found by shape; answered ones leave it."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._spent: dict[tuple[tuple[str, str], str], Entry] = {}  # the last entry answered, by strict key
        self.inspected = 0  # recorded requests looked at, in all: what tests measure lookup cost by
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        shape = entry.shape
        bucket = self._buckets.setdefault(shape.bucket, _Bucket())
        bucket.pending[entry.flow.id] = entry
        bucket.by_strict.setdefault(shape.strict_key, deque()).append(entry)
        bucket.by_loose.setdefault(shape.loose_key, deque()).append(entry)

    def find(self, got: Shape, context: Context) -> Entry | None:
        """The first pending recorded request `got` matches. With a credential not bound yet, the candidates are
        those alike but for credentials whose credentials are free to stand for `got`'s; an access token not bound
        yet is bound only when the choice is certain (see `_certain`)."""
        bucket = self._buckets.get(got.bucket)
        if bucket is None:
            return None
        queue = bucket.by_loose.get(got.loose_key) if got.fresh else bucket.by_strict.get(got.strict_key)
        if not queue:
            return None
        while queue and queue[0].done:
            queue.popleft()
        candidates = []
        for entry in queue:
            if entry.done:
                continue
            self.inspected += 1
            if got.fresh and not _slots_fit(got, entry.shape, context):
                continue
            if not any(matcher(got, entry.recorded, context) for matcher in VARIABLE_MATCHERS):
                if got.auth is None or not got.auth.fresh:
                    return entry
                candidates.append(entry)
        return _certain(got, candidates) if candidates else None

    def take(self, entry: Entry) -> None:
        """`entry` is answered: it leaves the queues, and is what a repeat of it is told about."""
        entry.done = True
        shape = entry.shape
        del self._buckets[shape.bucket].pending[entry.flow.id]
        self._spent[shape.bucket, shape.strict_key] = entry

    def answered_before(self, got: Shape) -> Entry | None:
        """The recorded request `got` is the same as, if replay has answered it already (and has no more like it)."""
        return None if got.fresh else self._spent.get((got.bucket, got.strict_key))

    def near_misses(self, got: Shape, context: Context) -> list[NearMiss]:
        """The closest pending recorded requests to `got`, and what differs: a sample of its own route's, and the
        first of each other route's (as many as the API has routes, whatever the recording's length)."""
        candidates: list[Entry] = []
        own = self._buckets.get(got.bucket)
        if own is not None:
            candidates += _first(own.pending.values(), NEAR_SAMPLE)
        for key, bucket in self._buckets.items():
            if key != got.bucket:
                candidates += _first(bucket.pending.values(), 1)
        self.inspected += len(candidates)
        scored = []
        for entry in candidates:
            found = differences(got, entry.recorded, context)
            likeness = 1.0 if entry.shape.route.template == got.route.template else _likeness(entry.shape, got)
            scored.append((len(found), -likeness, entry.flow.id, entry, found))
        scored.sort(key=lambda item: item[:3])
        near = [_near_miss(entry, found) for *_, entry, found in scored[:NEAR_REPORTED]]
        repeat = self.answered_before(got)
        if repeat is not None:
            note = "this replay answered it already, and the recording has it no more times"
            near.insert(0, _near_miss(repeat, [Difference("repeat", None, None, None, note)]))
        return near[:NEAR_REPORTED]


class AmbiguousToken(Exception):
    """A live access token no recorded session is bound to, which more than one of them could stand for."""

    def __init__(self, sessions: list[str]) -> None:
        super().__init__(sessions)
        self.sessions = sessions  # the recorded access tokens, in recorded order


def _certain(got: Shape, candidates: list[Entry]) -> Entry | None:
    """The candidate a live access token not bound yet may take: one recorded with that very token (a recording
    that kept its secrets), else the first, when all candidates are of one recorded session, redacted (a token
    recorded as it was stands only for itself). Anything else would be a guess that may answer as another user:
    AmbiguousToken."""
    assert got.auth is not None
    for entry in candidates:
        if entry.shape.auth is not None and entry.shape.auth.value == got.auth.value:
            return entry
    redacted = [
        entry for entry in candidates if entry.shape.auth is None or PLACEHOLDER.fullmatch(entry.shape.auth.value)
    ]
    sessions = list(dict.fromkeys(entry.shape.auth.value for entry in redacted if entry.shape.auth is not None))
    if len(sessions) > 1:
        raise AmbiguousToken(sessions)
    return redacted[0] if redacted else None


def _slots_fit(got: Shape, recorded: Shape, context: Context) -> bool:
    return all(same(live, want, context.bindings) for live, want in zip(got.slots, recorded.slots, strict=True))


def _first(entries: Iterable[Entry], count: int) -> list[Entry]:
    taken: list[Entry] = []
    for entry in entries:
        if len(taken) == count:
            break
        taken.append(entry)
    return taken


def _likeness(recorded: Shape, got: Shape) -> float:
    return difflib.SequenceMatcher(None, recorded.describe(), got.describe()).ratio()


def _near_miss(entry: Entry, found: list[Difference]) -> NearMiss:
    request = entry.flow.request
    query = {name: value for name, value in request.query.items() if name != "timeout"}
    shown = "&".join(f"{name}={value}" for name, value in query.items())
    return NearMiss(entry.flow.id, f"{request.method} {request.path}" + (f"?{shown}" if shown else ""), tuple(found))
