"""`/pushrules/` over the wire: reading, adding, ordering, changing and deleting rules, the errors, `m.push_rules` in
`/sync`, and rules declared in a scenario."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mockmx.scenario.loader import ScenarioError, load_scenario_text
from tests.conftest import BOB, LOBBY, LiveServer, assert_error

V3 = "/_matrix/client/v3"
RULES = f"{V3}/pushrules/global"


def rule_path(kind: str, rule_id: str, attribute: str = "") -> str:
    path = f"{RULES}/{kind}/{quote(rule_id, safe='')}"
    return f"{path}/{attribute}" if attribute else path


def put_rule(client: httpx.Client, kind: str, rule_id: str, body: dict[str, Any], **params: str) -> None:
    r = client.put(rule_path(kind, rule_id), json=body, params=params)
    assert r.status_code == 200, r.text
    assert r.json() == {}


def get_ok(client: httpx.Client, path: str) -> Any:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def ids(client: httpx.Client, kind: str) -> list[str]:
    return [rule["rule_id"] for rule in get_ok(client, f"{RULES}/")[kind]]


def test_a_keyword_rule_is_created_read_and_listed_first_among_the_users_content_rules(bob: httpx.Client) -> None:
    put_rule(bob, "content", "cake", {"pattern": "cake*", "actions": ["notify", {"set_tweak": "highlight"}]})
    rule = {
        "rule_id": "cake",
        "default": False,
        "enabled": True,
        "pattern": "cake*",
        "actions": ["notify", {"set_tweak": "highlight"}],
    }
    assert get_ok(bob, rule_path("content", "cake")) == rule
    assert get_ok(bob, f"{V3}/pushrules/")["global"]["content"][0] == rule
    assert ids(bob, "content") == ["cake", ".m.rule.contains_user_name"]
    assert get_ok(bob, f"{RULES}/content/") == get_ok(bob, f"{RULES}/")["content"]


def test_before_and_after_order_the_users_rules(bob: httpx.Client) -> None:
    for rule_id in ("a", "b"):
        put_rule(bob, "override", rule_id, {"conditions": [], "actions": []})
    put_rule(bob, "override", "c", {"conditions": [], "actions": []}, after="b")
    put_rule(bob, "override", "d", {"conditions": [], "actions": []}, before="b")
    assert ids(bob, "override")[:5] == [".m.rule.master", "d", "b", "c", "a"]
    # An update without before/after keeps the rule's place and whether it is enabled.
    r = bob.put(rule_path("override", "c", "enabled"), json={"enabled": False})
    assert r.status_code == 200, r.text
    put_rule(
        bob, "override", "c", {"conditions": [{"kind": "event_match", "key": "type", "pattern": "x"}], "actions": []}
    )
    assert ids(bob, "override")[:5] == [".m.rule.master", "d", "b", "c", "a"]
    assert get_ok(bob, rule_path("override", "c", "enabled")) == {"enabled": False}


def test_room_and_sender_rules_take_their_id_and_need_only_actions(bob: httpx.Client) -> None:
    put_rule(bob, "room", LOBBY, {"actions": []})
    put_rule(bob, "sender", "@alice:localhost", {"actions": ["notify"]})
    ruleset = get_ok(bob, f"{RULES}/")
    assert ruleset["room"] == [{"rule_id": LOBBY, "default": False, "enabled": True, "actions": []}]
    assert ruleset["sender"] == [
        {"rule_id": "@alice:localhost", "default": False, "enabled": True, "actions": ["notify"]}
    ]


def test_enabled_and_actions_of_a_default_rule(bob: httpx.Client) -> None:
    assert get_ok(bob, rule_path("override", ".m.rule.master", "enabled")) == {"enabled": False}
    r = bob.put(rule_path("override", ".m.rule.master", "enabled"), json={"enabled": True})
    assert r.status_code == 200, r.text
    assert get_ok(bob, rule_path("override", ".m.rule.master", "enabled")) == {"enabled": True}
    actions = ["notify", {"set_tweak": "sound", "value": "bing"}]
    r = bob.put(rule_path("underride", ".m.rule.message", "actions"), json={"actions": actions})
    assert r.status_code == 200, r.text
    assert get_ok(bob, rule_path("underride", ".m.rule.message", "actions")) == {"actions": actions}
    assert get_ok(bob, rule_path("underride", ".m.rule.message"))["default"] is True


def test_deleting_a_rule(bob: httpx.Client) -> None:
    put_rule(bob, "content", "gone", {"pattern": "x", "actions": []})
    r = bob.delete(rule_path("content", "gone"))
    assert r.status_code == 200, r.text
    assert_error(bob.get(rule_path("content", "gone")), 404, "M_NOT_FOUND")
    assert_error(bob.delete(rule_path("content", "gone")), 404, "M_NOT_FOUND")
    # Server-default rules cannot be deleted (404, as the spec lists and Synapse answers); they stay.
    assert_error(bob.delete(rule_path("override", ".m.rule.master")), 404, "M_NOT_FOUND")
    assert ".m.rule.master" in ids(bob, "override")


BAD_PUTS = [
    ("reserved id", "content", ".mine", {"pattern": "x", "actions": []}, {}, 400, "M_INVALID_PARAM"),
    ("unknown kind", "postcontent", "x", {"actions": []}, {}, 400, "M_INVALID_PARAM"),
    ("no actions", "content", "x", {"pattern": "x"}, {}, 400, "M_MISSING_PARAM"),
    ("actions not a list", "content", "x", {"pattern": "x", "actions": "notify"}, {}, 400, "M_BAD_JSON"),
    ("unknown action", "content", "x", {"pattern": "x", "actions": ["shout"]}, {}, 400, "M_INVALID_PARAM"),
    ("content without pattern", "content", "x", {"actions": []}, {}, 400, "M_MISSING_PARAM"),
    ("override without conditions", "override", "x", {"actions": []}, {}, 400, "M_MISSING_PARAM"),
    ("conditions an object", "override", "x", {"conditions": {}, "actions": []}, {}, 400, "M_BAD_JSON"),
    ("condition without kind", "override", "x", {"conditions": [{}], "actions": []}, {}, 400, "M_INVALID_PARAM"),
    ("before an unknown rule", "content", "x", {"pattern": "x", "actions": []}, {"before": "nope"}, 400, "M_UNKNOWN"),
    (
        "after a default rule",
        "content",
        "x",
        {"pattern": "x", "actions": []},
        {"after": ".m.rule.contains_user_name"},
        400,
        "M_UNKNOWN",
    ),
]


@pytest.mark.parametrize(
    ("kind", "rule_id", "body", "params", "status", "errcode"), [c[1:] for c in BAD_PUTS], ids=[c[0] for c in BAD_PUTS]
)
def test_bad_rule_is_refused_and_changes_nothing(
    shared: LiveServer, kind: str, rule_id: str, body: Any, params: dict[str, str], status: int, errcode: str
) -> None:
    with shared.client("bob-laptop-token") as bob:
        before = get_ok(bob, f"{RULES}/")
        assert_error(bob.put(rule_path(kind, rule_id), json=body, params=params), status, errcode)
        assert get_ok(bob, f"{RULES}/") == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "errcode"),
    [
        ("GET", rule_path("content", "nope"), None, 404, "M_NOT_FOUND"),
        ("GET", rule_path("content", "nope", "enabled"), None, 404, "M_NOT_FOUND"),
        ("PUT", rule_path("content", "nope", "enabled"), {"enabled": True}, 404, "M_NOT_FOUND"),
        ("PUT", rule_path("override", ".m.rule.nope", "actions"), {"actions": []}, 404, "M_NOT_FOUND"),
        ("PUT", rule_path("override", ".m.rule.master", "enabled"), {"enabled": "yes"}, 400, "M_BAD_JSON"),
        ("PUT", rule_path("override", ".m.rule.master", "enabled"), {}, 400, "M_MISSING_PARAM"),
        ("PUT", rule_path("override", ".m.rule.master", "actions"), {"actions": ["x"]}, 400, "M_INVALID_PARAM"),
        ("GET", rule_path("override", ".m.rule.master", "colour"), None, 400, "M_UNRECOGNIZED"),
        ("GET", f"{RULES}/sideways/", None, 400, "M_INVALID_PARAM"),
    ],
)
def test_rule_attribute_errors(
    shared: LiveServer, method: str, path: str, body: Any, status: int, errcode: str
) -> None:
    with shared.client("bob-laptop-token") as bob:
        assert_error(bob.request(method, path, json=body), status, errcode)


def test_a_change_arrives_as_m_push_rules_account_data_in_sync(bob: httpx.Client) -> None:
    r = bob.get(f"{V3}/sync")
    assert r.status_code == 200, r.text
    since = r.json()["next_batch"]
    put_rule(bob, "content", "cake", {"pattern": "cake", "actions": ["notify"]})
    r = bob.get(f"{V3}/sync", params={"since": since, "timeout": 5000})
    assert r.status_code == 200, r.text
    [event] = [e for e in r.json()["account_data"]["events"] if e["type"] == "m.push_rules"]
    assert event["content"] == get_ok(bob, f"{V3}/pushrules/")
    assert event["content"]["global"]["content"][0]["rule_id"] == "cake"
    # A first sync, and the account data API, show the changed rules too (once).
    first = bob.get(f"{V3}/sync").json()["account_data"]["events"]
    assert [e["content"] for e in first if e["type"] == "m.push_rules"] == [event["content"]]
    assert get_ok(bob, f"{V3}/user/{BOB}/account_data/m.push_rules") == event["content"]


SCENARIO = """
server_name: localhost
users:
  - id: alice
    devices: [{id: A, access_token: alice-token}]
  - id: bob
    devices: [{id: B, access_token: bob-token}]
    push_rules:
      - {kind: content, rule_id: cake, pattern: cake, actions: [notify, {set_tweak: highlight}]}
      - {kind: content, rule_id: pie, pattern: pie, actions: [notify]}
      - {kind: override, rule_id: .m.rule.suppress_notices, enabled: false}
      - {kind: underride, rule_id: .m.rule.message, actions: []}
"""


def test_scenario_declares_a_users_rules(serve_yaml: Callable[[str], LiveServer]) -> None:
    live = serve_yaml(SCENARIO)
    with live.client("bob-token") as bob:
        assert ids(bob, "content") == ["cake", "pie", ".m.rule.contains_user_name"]
        assert get_ok(bob, rule_path("override", ".m.rule.suppress_notices", "enabled")) == {"enabled": False}
        assert get_ok(bob, rule_path("underride", ".m.rule.message", "actions")) == {"actions": []}
        first = bob.get(f"{V3}/sync").json()["account_data"]["events"]
        [rules] = [e["content"] for e in first if e["type"] == "m.push_rules"]
        assert rules == get_ok(bob, f"{V3}/pushrules/")


@pytest.mark.parametrize(
    ("rule", "line", "message"),
    [
        ("{kind: content, rule_id: x, actions: []}", 6, "Missing param: pattern"),
        ("{kind: override, rule_id: .m.rule.nope, enabled: true}", 6, "no server-default override rule '.m.rule.nope'"),
        ("{kind: override, rule_id: .m.rule.master, pattern: x}", 6, "takes only enabled and actions"),
        ("{kind: room, rule_id: '!r:localhost', actions: [shout]}", 6, "Unrecognised action 'shout'"),
        ("{kind: sideways, rule_id: x, actions: []}", 6, "expected one of"),
        ("{kind: content, rule_id: .x, pattern: x, actions: []}", 6, "no server-default content rule"),
    ],
)
def test_scenario_rule_problems_name_file_and_line(rule: str, line: int, message: str) -> None:
    text = (
        "server_name: localhost\nusers:\n  - id: bob\n    push_rules:\n"
        f"      - {{kind: content, rule_id: ok, pattern: ok, actions: []}}\n      - {rule}\n"
    )
    with pytest.raises(ScenarioError) as failed:
        load_scenario_text(text, "rules.yaml")
    problems = [str(problem) for problem in failed.value.problems]
    assert any(p.startswith(f"rules.yaml:{line}:") and message in p for p in problems), problems
