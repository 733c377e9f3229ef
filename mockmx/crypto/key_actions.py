"""Scripted changes to a user's keys (a scenario's `action:` entries), for testing how a client copes with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.scenario.model import KeyAction

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver


def act_on_keys(hs: Homeserver, user_id: str, action: KeyAction) -> None:
    if action is KeyAction.DEVICE_LIST_CHANGE:
        hs.keys.device_lists.mark_changed(user_id)
    elif action is KeyAction.DROP_ONE_TIME_KEYS:
        for device_id in hs.accounts.device_ids(user_id):
            hs.keys.drop_one_time_keys(user_id, device_id)
