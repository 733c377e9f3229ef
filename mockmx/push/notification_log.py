"""What each event notified whom of: the push rules' decision per user, made once as the event arrives.

Like Synapse's `event_push_actions`: each member's rules are evaluated against the event and the room as they are
then, and the events that notify are kept per user. Everything that shows a notification reads this one log: the
pushes (`PushSender`), the counts in `/sync` and in a push's `counts.unread` (what is after the user's read
receipt, as `Receipts` keeps it), and `GET /notifications`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockmx.homeserver import power
from mockmx.homeserver.receipts import MAIN_THREAD
from mockmx.homeserver.rooms import Event, JsonDict, Room
from mockmx.push.evaluator import CompiledRules, Decision, body_of, fold_type
from mockmx.scenario.model import UnreadCount

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver


@dataclass(slots=True)  # not frozen: made for every notification, and a frozen dataclass is slow to make
class Notified:
    """One event that notifies one user."""

    pos: int
    room_id: str
    event_id: str
    thread_id: str  # the thread root's id, or `main`
    actions: list[Any]
    highlight: bool
    ts: int


Listener = Callable[[Room, Event, list[tuple[str, Decision]]], None]


@dataclass(slots=True)
class _RoomView:
    """What every member's push rules read of a room besides the event, as of its state and the push rules: made
    again after either changes (`Room.state_changes`, `PushRules.version`)."""

    state_changes: int
    rules_version: int
    members: list[tuple[str, CompiledRules, str | None]]  # joined, in order, each with their rules and display name
    levels: JsonDict  # the power levels' `notifications` ({} when none)


class NotificationLog:
    def __init__(self, hs: Homeserver) -> None:
        self._hs = hs
        # Kept per user and per (user, room), the oldest let go first: a user who never reads cannot grow them for ever.
        self.max_kept = hs.limits.max_notifications_per_user
        self.dropped = 0  # users' notifications let go to stay within max_kept
        self._by_user: dict[str, list[Notified]] = {}
        self._by_room: dict[tuple[str, str], list[Notified]] = {}  # (user, room)
        # Called with each event and the users it notifies, with how: how pushing hooks in.
        self.listeners: list[Listener] = []
        self._rules = hs.push_rules
        self._views: dict[str, _RoomView] = {}  # by room id: one per room

    # -- recording ------------------------------------------------------------------------------------------

    def on_event(self, room: Room, event: Event) -> None:
        """Evaluate every member's push rules against a newly stored event, and keep the notifying decisions."""
        decisions = self.evaluate(room, event)
        if decisions:
            thread_id = thread_of(room, event)
            for user_id, decision in decisions:
                notified = Notified(
                    event.pos,
                    room.room_id,
                    event.event_id,
                    thread_id,
                    decision.actions,
                    decision.highlight,
                    event.origin_server_ts,
                )
                self.dropped += _append(self._by_user.setdefault(user_id, []), notified, self.max_kept)
                _append(self._by_room.setdefault((user_id, room.room_id), []), notified, self.max_kept)
        if event.type == "m.room.redaction":
            self._forget(room, event.content.get("redacts"))
        for listener in self.listeners:
            listener(room, event, decisions)

    def _forget(self, room: Room, event_id: object) -> None:
        """A redacted event notifies no more (`GET /notifications`, the unread counts), as Synapse deletes its push
        actions. One no longer kept in the room is left as it is."""
        target = room.by_id.get(event_id) if isinstance(event_id, str) else None
        if target is None:
            return
        for user_id, by_user in self._by_user.items():
            by_room = self._by_room.get((user_id, room.room_id))
            if by_room and _remove_at(by_room, target.pos):
                _remove_at(by_user, target.pos)

    def evaluate(self, room: Room, event: Event) -> list[tuple[str, Decision]]:
        """The users `event` notifies, each with the decision of their push rules: the room's joined members and
        an invited user, never the sender (the spec: no notification for the user's own events)."""
        view = self._views.get(room.room_id)
        if view is None or view.state_changes != room.state_changes or view.rules_version != self._rules.version:
            view = self._views[room.room_id] = self._view_of(room)
        sender, members = event.sender, view.members
        invitee = event.state_key
        if (
            invitee
            and event.type == "m.room.member"
            and event.content.get("membership") == "invite"
            and invitee != sender
            and invitee not in room.joined
        ):
            members = sorted([*members, (invitee, self._rules.compiled(invitee), _display_name(room, invitee))])
        # What every member's plan reads besides the event (`plans.Plan`), worked out once.
        content = event.content if isinstance(event.content, dict) else {}
        body, lowered = body_of(content)
        folded_type, keys = fold_type(event.type), frozenset(content)
        member_count, sender_level, levels = len(view.members), power.user_level(room, sender), view.levels
        decisions = []
        for user_id, compiled, name in members:
            if user_id == sender:
                continue
            plan = compiled.plan(folded_type, keys)
            decision = plan(event, content, body, lowered, member_count, sender_level, levels, name)
            if decision is not None and decision.notify:
                decisions.append((user_id, decision))
        return decisions

    def _view_of(self, room: Room) -> _RoomView:
        levels = power.levels(room)
        notification_levels = levels.get("notifications") if levels is not None else None
        compiled = self._rules.compiled
        return _RoomView(
            room.state_changes,
            self._rules.version,
            [(user_id, compiled(user_id), _display_name(room, user_id)) for user_id in sorted(room.joined)],
            notification_levels if isinstance(notification_levels, dict) else {},
        )

    # -- counting -------------------------------------------------------------------------------------------

    def counts_by_thread(self, room: Room, user_id: str) -> dict[str, tuple[int, int]]:
        """The user's unread (notifications, highlights) in the room per thread (`main` included), each counted
        after the user's read receipt for that thread (or an unthreaded one); only threads with any. As in Synapse,
        the invite that brought the user in counts until they read past it."""
        kept = self._by_room.get((user_id, room.room_id))
        if not kept:
            return {}
        receipts = self._hs.receipts
        floor = receipts.thread_read_up_to(room.room_id, user_id, None)
        read: dict[str, int] = {}
        counts: dict[str, tuple[int, int]] = {}
        for notified in kept[bisect_right(kept, floor, key=_pos) :]:
            thread = notified.thread_id
            if thread not in read:
                read[thread] = receipts.thread_read_up_to(room.room_id, user_id, thread)
            if notified.pos > read[thread]:
                notifications, highlights = counts.get(thread, (0, 0))
                counts[thread] = (notifications + 1, highlights + notified.highlight)
        return counts

    def unread_notifications(self, room: Room, user_id: str, *, by_thread: bool = False) -> tuple[JsonDict, JsonDict]:
        """`unread_notifications` for `/sync`, and `unread_thread_notifications` (empty unless `by_thread`): with
        threads apart, the first counts only the main timeline, as in Synapse; otherwise every thread's count."""
        counts = self.counts_by_thread(room, user_id)
        threads: JsonDict = {}
        if by_thread:
            main = counts.pop(MAIN_THREAD, (0, 0))
            threads = {thread: _counts_json(*pair) for thread, pair in counts.items()}
        else:
            main = (sum(pair[0] for pair in counts.values()), sum(pair[1] for pair in counts.values()))
        return _counts_json(*main), threads

    def badge(self, user_id: str, mode: UnreadCount) -> int:
        """A push's `counts.unread` for the user: pending invites, plus the joined rooms' unread notifications
        (or the rooms that have any)."""
        hs = self._hs
        badge = len(hs.invited_rooms.get(user_id, ()))
        for room_id in hs.rooms_of(user_id):
            unread = sum(pair[0] for pair in self.counts_by_thread(hs.rooms[room_id], user_id).values())
            if unread:
                badge += 1 if mode is UnreadCount.ROOMS else unread
        return badge

    # -- listing --------------------------------------------------------------------------------------------

    def page(
        self, user_id: str, before: int | None, limit: int, *, only_highlight: bool
    ) -> tuple[list[Notified], bool]:
        """Up to `limit` of the user's notifications before stream position `before`, newest first, and whether
        there are more."""
        found: list[Notified] = []
        for notified in self._newest_first(user_id, before):
            if only_highlight and not notified.highlight:
                continue
            if len(found) == limit:
                return found, True
            found.append(notified)
        return found, False

    def is_read(self, user_id: str, notified: Notified) -> bool:
        """Whether the user's read receipts cover the notification, as `GET /notifications` says in `read`."""
        return notified.pos <= self._hs.receipts.thread_read_up_to(notified.room_id, user_id, notified.thread_id)

    def kept(self) -> int:
        """Notifications kept over all users."""
        return sum(len(kept) for kept in self._by_user.values())

    def _newest_first(self, user_id: str, before: int | None) -> Iterator[Notified]:
        kept = self._by_user.get(user_id, [])
        end = len(kept) if before is None else bisect_right(kept, before - 1, key=_pos)
        for index in range(end - 1, -1, -1):
            yield kept[index]


def thread_of(room: Room, event: Event) -> str:
    """The thread an event is in: a thread root's id, or `main`. An event relating (a reply, a reaction, an edit) to
    an event in a thread is in that thread, as Synapse decides."""
    relates_to = event.content.get("m.relates_to")
    if not isinstance(relates_to, dict):
        return MAIN_THREAD
    parent = relates_to.get("event_id")
    if not isinstance(parent, str):
        return MAIN_THREAD
    if relates_to.get("rel_type") == "m.thread":
        return parent
    parent_event = room.by_id.get(parent)
    if parent_event is not None:
        parent_relation = parent_event.content.get("m.relates_to")
        if isinstance(parent_relation, dict) and parent_relation.get("rel_type") == "m.thread":
            root = parent_relation.get("event_id")
            if isinstance(root, str):
                return root
    return MAIN_THREAD


def _display_name(room: Room, user_id: str) -> str | None:
    """The user's display name in the room, as Synapse takes it: from their member event (for an invitee not yet
    in the room, from the invite itself)."""
    member = room.member_event(user_id)
    name = member.content.get("displayname") if member is not None else None
    return name if isinstance(name, str) else None


def _counts_json(notifications: int, highlights: int) -> JsonDict:
    return {"notification_count": notifications, "highlight_count": highlights}


def _pos(notified: Notified) -> int:
    return notified.pos


def _remove_at(kept: list[Notified], pos: int) -> bool:
    """Take out the notification of the event at stream position `pos`; whether there was one."""
    index = bisect_left(kept, pos, key=_pos)
    if index < len(kept) and kept[index].pos == pos:
        del kept[index]
        return True
    return False


def _append(kept: list[Notified], notified: Notified, max_kept: int) -> int:
    """Append, letting the oldest go past `max_kept` (in batches of 1/64 of it: each cut moves the rest); how many
    went."""
    kept.append(notified)
    excess = len(kept) - max_kept
    if excess > max_kept // 64:
        del kept[:excess]
        return excess
    return 0
