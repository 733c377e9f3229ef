"""Users' HTTP pushers: where the homeserver sends a push notification for them."""

from __future__ import annotations

import time
from collections.abc import KeysView
from dataclasses import dataclass, field
from typing import Any

from mockmx.scenario.model import PusherSpec


@dataclass
class Pusher:
    user_id: str
    app_id: str
    pushkey: str
    data: dict[str, Any]  # as the client gave it: `url`, and `format` for the short payload
    app_display_name: str
    device_display_name: str
    lang: str
    profile_tag: str | None = None
    kind: str = "http"
    pushkey_ts: int = field(default_factory=lambda: int(time.time()))  # seconds, as gateways receive it

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.user_id, self.app_id, self.pushkey)

    @property
    def url(self) -> str:
        return str(self.data["url"])

    @property
    def event_id_only(self) -> bool:
        return self.data.get("format") == "event_id_only"

    def to_json(self) -> dict[str, Any]:
        """The pusher as `GET /pushers` lists it."""
        listed: dict[str, Any] = {
            "pushkey": self.pushkey,
            "kind": self.kind,
            "app_id": self.app_id,
            "app_display_name": self.app_display_name,
            "device_display_name": self.device_display_name,
            "lang": self.lang,
            "data": self.data,
        }
        if self.profile_tag is not None:
            listed["profile_tag"] = self.profile_tag
        return listed

    @classmethod
    def from_spec(cls, user_id: str, spec: PusherSpec) -> Pusher:
        data: dict[str, Any] = {"url": spec.url}
        if spec.format is not None:
            data["format"] = spec.format
        return cls(
            user_id,
            spec.app_id,
            spec.pushkey,
            data,
            spec.app_display_name,
            spec.device_display_name,
            spec.lang,
            spec.profile_tag,
        )


class Pushers:
    def __init__(self) -> None:
        self._by_user: dict[str, dict[tuple[str, str], Pusher]] = {}

    def add(self, pusher: Pusher, *, append: bool = False) -> None:
        """Add or replace the user's pusher for (app_id, pushkey); unless appending, as the spec says,
        the same (app_id, pushkey) of any other user goes."""
        if not append:
            for user_id in list(self._by_user):
                if user_id != pusher.user_id:
                    self.remove(user_id, pusher.app_id, pusher.pushkey)
        self._by_user.setdefault(pusher.user_id, {})[(pusher.app_id, pusher.pushkey)] = pusher

    def remove(self, user_id: str, app_id: str, pushkey: str) -> Pusher | None:
        pushers = self._by_user.get(user_id)
        if pushers is None:
            return None
        removed = pushers.pop((app_id, pushkey), None)
        if not pushers:
            del self._by_user[user_id]
        return removed

    def of(self, user_id: str) -> list[Pusher]:
        return list(self._by_user.get(user_id, {}).values())

    def get(self, user_id: str, app_id: str, pushkey: str) -> Pusher | None:
        return self._by_user.get(user_id, {}).get((app_id, pushkey))

    @property
    def users(self) -> KeysView[str]:
        """The users with at least one pusher: a live view, so the per-event check copies nothing."""
        return self._by_user.keys()
