"""Uploading a filter over the wire: one with a field of the wrong type is refused there (as Synapse's schema check
refuses it), not taken and left to fail or be misread at a later sync."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, assert_error

FILTER = f"/_matrix/client/v3/user/{ALICE}/filter"


@pytest.mark.parametrize(
    "definition",
    [
        {"room": {"account_data": {"rooms": True}}},
        {"room": {"timeline": {"limit": "20"}}},
        {"room": {"state": {"lazy_load_members": "yes"}}},
        {"room": {"rooms": "!lobby:localhost"}},
        {"room": {"include_leave": None}},
        {"room": {"timeline": []}},
        {"room": []},
        {"presence": {"not_types": [1]}},
        {"account_data": {"limit": 1.5}},
        {"event_fields": "content.body"},
        {"event_format": "matrix"},
    ],
)
def test_a_filter_with_a_field_of_the_wrong_type_is_refused(shared_alice: httpx.Client, definition: Any) -> None:
    assert_error(shared_alice.post(FILTER, json=definition), 400, "M_BAD_JSON")


def test_a_filter_as_sdks_upload_them_is_taken(shared_alice: httpx.Client) -> None:
    definition = {
        "event_fields": ["type", "content", "sender"],
        "event_format": "client",
        "presence": {"not_types": ["*"], "limit": 0},
        "account_data": {"types": ["m.*"]},
        "room": {
            "include_leave": False,
            "rooms": ["!lobby:localhost"],
            "timeline": {"limit": 20, "lazy_load_members": True, "unread_thread_notifications": True},
            "state": {"lazy_load_members": True, "not_types": ["m.room.member"]},
            "ephemeral": {"types": ["m.receipt", "m.typing"]},
            "account_data": {"not_types": []},
        },
    }
    r = shared_alice.post(FILTER, json=definition)
    assert r.status_code == 200, r.text
    r = shared_alice.get(f"{FILTER}/{r.json()['filter_id']}")
    assert r.status_code == 200, r.text
    assert r.json() == definition
