"""Idempotent transaction ids, in one place: every txnId endpoint answers through `TransactionCache`.

As in Synapse's `transactions.py`: a request is keyed on (user, device, request path); a repeat gets the
first answer's status and body, byte for byte, and causes nothing. Failures are never cached, so a client can retry
after an error. Answers are kept for `ttl` seconds, and at most `max_entries` of them: past that the oldest go first
(counted in `dropped`).

Every txnId endpoint reads its body first and then does its work without waiting, between `answered` and
`remember` (`api.request.once_per_transaction`): nothing else runs in between, so repeats in flight at once (a
client retrying over a second connection) find the first one's answer, and no request is ever half done when a
repeat comes. An endpoint whose work had to wait would need repeats to wait for it; none does. Of repeats in flight
at once, the first whose body is read is the one done (their bodies are the same, as the spec asks of a client), and
a repeat's body is held to the request limits like any other (413 past them, as Synapse answers before any
endpoint runs).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.responses import Response

from mockmx.web.json_answer import JsonBytes

TTL_SECONDS = 30 * 60  # Synapse keeps answers for 30 minutes; clients retry within seconds
MAX_ENTRIES = 10_000

TxnKey = tuple[str, str, str]


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
        self._next_prune = 0.0

    def answered(self, key: TxnKey) -> Response | None:
        """The first answer again when `key` has one within its time, else None: the request is to be done."""
        done = self._done.get(key)
        if done is None:
            return None
        if self._clock() - done[0] < self._ttl:
            return JsonBytes(done[2], done[1])
        del self._done[key]
        return None

    def remember(self, key: TxnKey, response: Response) -> None:
        """The answer of a request `answered` had none for, made without waiting since."""
        now = self._clock()
        self._done[key] = (now, response.status_code, bytes(response.body))
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
