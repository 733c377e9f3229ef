"""Idempotent transaction ids, in one place: every txnId endpoint answers through `TransactionCache.run` (or, when
its work never waits, `answered` and `remember`).

As in Synapse's `transactions.py`: a request is keyed on (user, device, request path); a repeat gets the
first answer's status and body, byte for byte, and causes nothing. Requests that arrive while the first
is still running wait for its answer. Failures are never cached, so a client can retry after an error. Answers are
kept for `ttl` seconds, and at most `max_entries` of them: past that the oldest go first (counted in `dropped`).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from starlette.responses import Response

from mockmx.errors import MatrixError
from mockmx.web.json_answer import JsonBytes

TTL_SECONDS = 30 * 60  # Synapse keeps answers for 30 minutes; clients retry within seconds
MAX_ENTRIES = 10_000

TxnKey = tuple[str, str, str]
_Answer = tuple[int, bytes]
_Outcome = _Answer | MatrixError


class TransactionCache:
    def __init__(
        self, *, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self.max_entries = max_entries
        self.dropped = 0  # answers let go before their time to stay within max_entries
        self._clock = clock
        # Each answer as (stored at, status, body): one tuple, as thousands are kept.
        self._done: OrderedDict[TxnKey, tuple[float, int, bytes]] = OrderedDict()
        # The requests running now, each with the repeats waiting for its outcome (None until one comes: most never
        # see a repeat, and need no future).
        self._running: dict[TxnKey, list[asyncio.Future[_Outcome]] | None] = {}
        self._next_prune = 0.0

    async def run(self, key: TxnKey, handler: Callable[[], Awaitable[Response]]) -> Response:
        done = self._done.get(key)
        if done is not None:
            if self._clock() - done[0] < self._ttl:
                return JsonBytes(done[2], done[1])
            del self._done[key]
        if key in self._running:
            outcome = await self._outcome_of(key)
            if isinstance(outcome, MatrixError):
                raise outcome
            return _replay(outcome)

        self._running[key] = None
        try:
            response = await handler()
        except MatrixError as error:
            self._settle(key, error)
            raise
        except BaseException:
            self._settle(key, MatrixError(500, "Internal server error"))
            raise
        answer = (response.status_code, bytes(response.body))
        self._settle(key, answer)
        self._remember(key, *answer)
        return response

    def answered(self, key: TxnKey) -> Response | None:
        """The first answer again, for an endpoint that does its work without waiting (nothing else can run
        between this and its `remember`, so no repeat can find it running): None when there is none to give."""
        done = self._done.get(key)
        if done is None:
            return None
        if self._clock() - done[0] < self._ttl:
            return JsonBytes(done[2], done[1])
        del self._done[key]
        return None

    def remember(self, key: TxnKey, response: Response) -> None:
        """The answer of a request `answered` had none for, made without waiting."""
        self._remember(key, response.status_code, bytes(response.body))

    def _outcome_of(self, key: TxnKey) -> asyncio.Future[_Outcome]:
        """A future of the running request's outcome, for a repeat to wait on (its own: a repeat that is cancelled
        leaves the others waiting)."""
        future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        waiting = self._running[key]
        if waiting is None:
            self._running[key] = [future]
        else:
            waiting.append(future)
        return future

    def _settle(self, key: TxnKey, outcome: _Outcome) -> None:
        for future in self._running.pop(key) or ():
            if not future.done():
                future.set_result(outcome)

    def _remember(self, key: TxnKey, status: int, body: bytes) -> None:
        now = self._clock()
        self._done[key] = (now, status, body)
        # Entries are in insertion order, so the expired ones are at the front; a lookup checks the age of what it
        # finds, so this only frees their memory, at most once a second.
        if now >= self._next_prune:
            self._next_prune = now + 1
            while self._done:
                oldest_key, (stored_at, _, _) = next(iter(self._done.items()))
                if now - stored_at < self._ttl:
                    break
                del self._done[oldest_key]
        # A burst of sends within the TTL: the oldest answers go early (a client retries within seconds).
        while len(self._done) > self.max_entries:
            self._done.popitem(last=False)
            self.dropped += 1

    def __len__(self) -> int:
        return len(self._done)


def _replay(answer: _Answer) -> Response:
    status, body = answer
    return JsonBytes(body, status)
