"""Expected notifications against sent ones, field by field, volatile fields left out.

Notifications are paired in order (the longest run of matching ones first, so one missing notification does not
make every later one differ) or, with `ordered=False`, each expected one with any sent one. A pair that differs
is reported field by field, as `notification 2: devices[0].tweaks.sound: expected 'default', got <missing>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockmx.verify.paths import DEFAULT_IGNORE, IgnoreList, JsonPath, render_path
from mockmx.verify.sources import notifications_of

__all__ = [
    "DEFAULT_IGNORE",
    "Comparison",
    "Difference",
    "assert_notifications",
    "compare_notifications",
    "describe",
    "differences",
]

Notification = dict[str, Any]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Difference:
    """One field that differs; `expected` or `actual` is MISSING where that side has no such field."""

    path: JsonPath
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return (
            f"{render_path(self.path) or 'the notification'}: expected {_show(self.expected)}, got {_show(self.actual)}"
        )


@dataclass
class Comparison:
    """The outcome of comparing notifications: `ok`, or `report()` saying what differs."""

    expected: int
    actual: int
    ignore: tuple[str, ...]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        ignoring = f"ignoring {', '.join(self.ignore)}" if self.ignore else "ignoring nothing"
        if self.ok:
            return f"{_count(self.actual)} sent, as expected ({ignoring})"
        head = f"notifications differ: {_count(self.expected)} expected, {self.actual} sent ({ignoring})"
        return "\n".join([head, *(f"  {problem}" for problem in self.problems)])


def compare_notifications(
    actual: Any,
    expected: Any,
    *,
    ignore: Iterable[str] = DEFAULT_IGNORE,
    partial: bool = False,
    ordered: bool = True,
) -> Comparison:
    """Compare the notifications sent (`actual`) with `expected`; each is anything `notifications_of` reads.

    `ignore` replaces DEFAULT_IGNORE (extend it with `(*DEFAULT_IGNORE, "room_id")`). With `partial`, only the
    fields an expected notification gives are compared (for hand-written expectations); lists still match in
    length. `ordered=False` accepts the notifications in any order (several pushers are pushed to concurrently).
    """
    ignored = IgnoreList(ignore)
    sent, wanted = notifications_of(actual), notifications_of(expected)
    comparer = _Comparer(ignored, partial)
    pairs = comparer.align(wanted, sent) if ordered else comparer.match_any_order(wanted, sent)
    comparison = Comparison(len(wanted), len(sent), ignored.patterns)
    for i, j in pairs:
        if i is None:
            assert j is not None
            comparison.problems.append(f"sent notification {j + 1}: not expected: {describe(sent[j])}")
        elif j is None:
            comparison.problems.append(f"notification {i + 1}: not sent: {describe(wanted[i])}")
        else:
            where = f"notification {i + 1}" + (f" (sent as {j + 1})" if i != j else "")
            comparison.problems += [f"{where}: {d}" for d in comparer.differences(wanted[i], sent[j])]
    return comparison


def assert_notifications(
    actual: Any,
    expected: Any,
    *,
    ignore: Iterable[str] = DEFAULT_IGNORE,
    partial: bool = False,
    ordered: bool = True,
) -> None:
    """An AssertionError listing every difference unless the notifications sent are the ones expected.

    Arguments as for `compare_notifications`.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    comparison = compare_notifications(actual, expected, ignore=ignore, partial=partial, ordered=ordered)
    if not comparison.ok:
        raise AssertionError(comparison.report())


def differences(
    actual: Notification, expected: Notification, *, ignore: Iterable[str] = DEFAULT_IGNORE, partial: bool = False
) -> list[Difference]:
    """How one sent notification differs from one expected, field by field (nothing when they match)."""
    return _Comparer(IgnoreList(ignore), partial).differences(expected, actual)


def describe(notification: Notification) -> str:
    """A one-line summary: `m.room.message from @alice:localhost in !lobby:localhost to bob-phone-pushkey: 'hi'`."""
    kind = notification.get("type") or (
        f"event {notification['event_id']}" if notification.get("event_id") else "badge update"
    )
    parts = [str(kind)]
    if "sender" in notification:
        parts.append(f"from {notification['sender']}")
    if "room_id" in notification:
        parts.append(f"in {notification['room_id']}")
    devices = notification.get("devices")
    if isinstance(devices, list):
        pushkeys = [str(device["pushkey"]) for device in devices if isinstance(device, dict) and "pushkey" in device]
        if pushkeys:
            parts.append(f"to {', '.join(pushkeys)}")
    text = " ".join(parts)
    content = notification.get("content")
    if isinstance(content, dict) and "body" in content:
        text += f": {_show(content['body'])}"
    elif "counts" in notification and not notification.get("type"):
        text += f": counts {_show(notification['counts'])}"
    return text


class _Comparer:
    def __init__(self, ignore: IgnoreList, partial: bool) -> None:
        self.ignore = ignore
        self.partial = partial

    def differences(self, expected: Any, actual: Any) -> list[Difference]:
        found: list[Difference] = []
        self._walk(expected, actual, (), found)
        return found

    def matches(self, expected: Any, actual: Any) -> bool:
        return not self.differences(expected, actual)

    def _walk(self, expected: Any, actual: Any, path: JsonPath, found: list[Difference]) -> None:
        if self.ignore.covers(path):
            return
        if isinstance(expected, dict) and isinstance(actual, dict):
            keys = list(expected) if self.partial else list(dict.fromkeys([*expected, *actual]))
            for key in keys:
                self._walk(expected.get(key, MISSING), actual.get(key, MISSING), (*path, key), found)
        elif isinstance(expected, list) and isinstance(actual, list):
            for index in range(max(len(expected), len(actual))):
                item = expected[index] if index < len(expected) else MISSING
                self._walk(item, actual[index] if index < len(actual) else MISSING, (*path, index), found)
        elif not _same(expected, actual):
            found.append(Difference(path, expected, actual))

    def align(
        self, wanted: Sequence[Notification], sent: Sequence[Notification]
    ) -> list[tuple[int | None, int | None]]:
        """Pairs in order: the longest common run of matching notifications, and what lies between paired up."""
        n, m = len(wanted), len(sent)
        same = [[self.matches(wanted[i], sent[j]) for j in range(m)] for i in range(n)]
        longest = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                longest[i][j] = longest[i + 1][j + 1] + 1 if same[i][j] else max(longest[i + 1][j], longest[i][j + 1])
        pairs: list[tuple[int | None, int | None]] = []
        gap_wanted: list[int] = []
        gap_sent: list[int] = []
        i = j = 0
        while i < n or j < m:
            if i < n and j < m and same[i][j]:
                pairs += self._pair_gap(wanted, sent, gap_wanted, gap_sent)
                gap_wanted, gap_sent = [], []
                pairs.append((i, j))
                i, j = i + 1, j + 1
            elif j >= m or (i < n and longest[i + 1][j] >= longest[i][j + 1]):
                gap_wanted.append(i)
                i += 1
            else:
                gap_sent.append(j)
                j += 1
        return pairs + self._pair_gap(wanted, sent, gap_wanted, gap_sent)

    def _pair_gap(
        self, wanted: Sequence[Notification], sent: Sequence[Notification], gap_wanted: list[int], gap_sent: list[int]
    ) -> list[tuple[int | None, int | None]]:
        """Between two matching runs: a changed notification (one of the same type, in order) is reported field by
        field, the others whole, as not sent or not expected."""
        pairs: list[tuple[int | None, int | None]] = []
        start = 0
        for i in gap_wanted:
            k = next((k for k in range(start, len(gap_sent)) if self.similar(wanted[i], sent[gap_sent[k]])), None)
            if k is None:
                pairs.append((i, None))
                continue
            pairs += [(None, j) for j in gap_sent[start:k]]
            pairs.append((i, gap_sent[k]))
            start = k + 1
        return pairs + [(None, j) for j in gap_sent[start:]]

    def similar(self, expected: Notification, actual: Notification) -> bool:
        """Worth comparing field by field: the same type of event (any, when a partial expectation leaves it out)."""
        return (self.partial and "type" not in expected) or expected.get("type") == actual.get("type")

    def match_any_order(
        self, wanted: Sequence[Notification], sent: Sequence[Notification]
    ) -> list[tuple[int | None, int | None]]:
        """Each expected notification with the first unclaimed one that matches; the rest with their closest."""
        unclaimed = list(range(len(sent)))
        pairs: list[tuple[int | None, int | None]] = []
        unmatched = []
        for i, notification in enumerate(wanted):
            j = next((j for j in unclaimed if self.matches(notification, sent[j])), None)
            if j is None:
                unmatched.append(i)
            else:
                unclaimed.remove(j)
        for i in unmatched:
            candidates = [j for j in unclaimed if self.similar(wanted[i], sent[j])]
            if not candidates:
                pairs.append((i, None))
                continue
            j = min(candidates, key=lambda j: len(self.differences(wanted[i], sent[j])))
            unclaimed.remove(j)
            pairs.append((i, j))
        return pairs + [(None, j) for j in unclaimed]


def _same(expected: Any, actual: Any) -> bool:
    # JSON tells true from 1, Python does not.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def _show(value: Any, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(n: int) -> str:
    return f"{n} notification" + ("" if n == 1 else "s")
