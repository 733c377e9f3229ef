"""What an SDK asks as it starts, over the wire: capabilities, push rules (checked against the spec's own text),
server discovery, TURN, third-party protocols, and reading back an uploaded filter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, ALICE_TOKEN, BOB, LiveServer, assert_error

V3 = "/_matrix/client/v3"
# The spec's "Predefined Rules" section, verbatim from its v1.11 text.
SPEC_RULES = Path(__file__).parent / "data" / "push-rules-v1.11.md"
KINDS = ("override", "content", "room", "sender", "underride")


def spec_default_rules(user_id: str) -> dict[str, list[dict[str, Any]]]:
    """The server-default rules as the spec's text defines them, per kind and in its order, for `user_id`."""
    text = SPEC_RULES.read_text(encoding="utf-8")
    text = text.replace("[the user's Matrix ID]", user_id)
    text = text.replace("[the local part of the user's Matrix ID]", user_id[1:].split(":", 1)[0])
    rules: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    sections = re.split(r"^##### Default (\w+) Rules$", text, flags=re.MULTILINE)
    for heading, body in zip(sections[1::2], sections[2::2], strict=True):
        blocks = re.findall(r"^```json\n(.*?)^```$", body, flags=re.MULTILINE | re.DOTALL)
        rules[heading.lower()] = [json.loads(block) for block in blocks]
    return rules


def get_ok(client: httpx.Client, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_spec_text_has_every_kind_of_default_rule() -> None:
    # Guards the parser above: a changed excerpt must not turn into an empty expectation.
    rules = spec_default_rules(ALICE)
    assert [len(rules[kind]) for kind in KINDS] == [12, 1, 0, 0, 5]


def test_capabilities_are_synapses_with_the_mocks_room_version(shared_alice: httpx.Client) -> None:
    capabilities = get_ok(shared_alice, f"{V3}/capabilities")["capabilities"]
    versions = capabilities["m.room_versions"]
    assert versions["default"] == "10"
    assert versions["available"] == {str(n): "stable" for n in range(1, 13)}
    assert capabilities["m.set_displayname"] == {"enabled": True}
    assert capabilities["m.set_avatar_url"] == {"enabled": True}
    assert capabilities["m.get_login_token"] == {"enabled": False}
    assert capabilities["m.change_password"] == {"enabled": True}
    assert capabilities["m.3pid_changes"] == {"enabled": False}  # the mock cannot add or remove third-party ids


@pytest.mark.parametrize("user_id", [ALICE, BOB])
def test_push_rules_are_the_spec_defaults_for_the_user(shared: LiveServer, user_id: str) -> None:
    token = ALICE_TOKEN if user_id == ALICE else "bob-phone-token"
    with shared.client(token) as client:
        assert get_ok(client, f"{V3}/pushrules/") == {"global": spec_default_rules(user_id)}
        assert get_ok(client, f"{V3}/pushrules/global/") == spec_default_rules(user_id)


def test_push_rules_are_served_under_r0_too(shared_alice: httpx.Client) -> None:
    assert get_ok(shared_alice, "/_matrix/client/r0/pushrules/") == {"global": spec_default_rules(ALICE)}


def test_a_first_sync_carries_the_push_rules_as_account_data(alice: httpx.Client) -> None:
    body = get_ok(alice, f"{V3}/sync")
    push_rules = [event for event in body["account_data"]["events"] if event["type"] == "m.push_rules"]
    assert push_rules == [{"type": "m.push_rules", "content": {"global": spec_default_rules(ALICE)}}]
    later = get_ok(alice, f"{V3}/sync", since=body["next_batch"], timeout=0)
    assert later["account_data"]["events"] == []  # the rules have not changed since


def test_push_rules_read_as_account_data(shared_alice: httpx.Client) -> None:
    content = get_ok(shared_alice, f"{V3}/user/{ALICE}/account_data/m.push_rules")
    assert content == {"global": spec_default_rules(ALICE)}


def test_guests_have_no_push_rules(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        r = anonymous.post(f"{V3}/register", params={"kind": "guest"}, json={})
        assert r.status_code == 200, r.text
        guest_token = r.json()["access_token"]
    with shared.client(guest_token) as guest:
        assert_error(guest.get(f"{V3}/pushrules/"), 403, "M_GUEST_ACCESS_FORBIDDEN")
        assert get_ok(guest, f"{V3}/capabilities")["capabilities"]["m.room_versions"]["default"] == "10"


def test_well_known_names_the_address_the_client_used(shared: LiveServer) -> None:
    with shared.client() as anonymous:
        assert get_ok(anonymous, "/.well-known/matrix/client") == {"m.homeserver": {"base_url": shared.url}}
        r = anonymous.get("/.well-known/matrix/client", headers={"Host": "matrix.example.org:8448"})
    assert r.status_code == 200, r.text
    assert r.json() == {"m.homeserver": {"base_url": "http://matrix.example.org:8448"}}


def test_no_turn_server_is_an_empty_object(shared_alice: httpx.Client) -> None:
    assert get_ok(shared_alice, f"{V3}/voip/turnServer") == {}


def test_no_third_party_protocols(shared_alice: httpx.Client) -> None:
    assert get_ok(shared_alice, f"{V3}/thirdparty/protocols") == {}


@pytest.mark.parametrize(
    "path", ["/capabilities", "/pushrules/", "/pushrules/global/", "/voip/turnServer", "/thirdparty/protocols"]
)
def test_start_up_endpoints_need_a_token(shared: LiveServer, path: str) -> None:
    with shared.client() as anonymous:
        assert_error(anonymous.get(f"{V3}{path}"), 401, "M_MISSING_TOKEN")


def test_an_uploaded_filter_reads_back(alice: httpx.Client) -> None:
    definition = {"room": {"timeline": {"limit": 5}}, "presence": {"not_types": ["*"]}}
    r = alice.post(f"{V3}/user/{ALICE}/filter", json=definition)
    assert r.status_code == 200, r.text
    filter_id = r.json()["filter_id"]
    assert get_ok(alice, f"{V3}/user/{ALICE}/filter/{filter_id}") == definition


@pytest.mark.parametrize("filter_id", ["999", "not-a-number"])
def test_an_unknown_filter_is_404(shared_alice: httpx.Client, filter_id: str) -> None:
    assert_error(shared_alice.get(f"{V3}/user/{ALICE}/filter/{filter_id}"), 404, "M_NOT_FOUND")


def test_another_users_filter_is_403(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.post(f"{V3}/user/{ALICE}/filter", json={})
    assert r.status_code == 200, r.text
    filter_id = r.json()["filter_id"]
    assert_error(bob.get(f"{V3}/user/{ALICE}/filter/{filter_id}"), 403, "M_FORBIDDEN")
    assert_error(bob.get(f"{V3}/user/{BOB}/filter/{filter_id}"), 404, "M_NOT_FOUND")
