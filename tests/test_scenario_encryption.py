"""Scenario files: encrypted devices and the scripted key actions, and what the loader says of them when wrong."""

from __future__ import annotations

import pytest

from mockmx.scenario.loader import ScenarioError, load_scenario_text
from mockmx.scenario.model import DeviceSpec, KeyAction

USERS = "server_name: localhost\nusers:\n  - id: alice\n  - id: bob\n    devices: [{id: BOT, encrypted: true}]\n"


def test_an_encrypted_device_and_key_actions_load() -> None:
    text = USERS + "script:\n  - {after: 1s, every: 2s, count: 3, sender: bob, action: drop_one_time_keys}\n"
    scenario = load_scenario_text(text)
    assert scenario.users[1].devices == (DeviceSpec("BOT", encrypted=True, one_time_keys=50),)
    (entry,) = scenario.script
    assert (entry.sender, entry.action, entry.after, entry.every, entry.count) == (
        "@bob:localhost",
        KeyAction.DROP_ONE_TIME_KEYS,
        1.0,
        2.0,
        3,
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{sender: bob, action: device_list_change, room: lobby}", "'room' does not go with 'action'"),
        ("{sender: bob, action: device_list_change, say: hi}", "'say' does not go with 'action'"),
        ("{sender: bob, action: rotate_everything}", "device_list_change"),
        ("{sender: nobody, action: device_list_change}", "unknown user"),
    ],
)
def test_wrong_key_actions_are_reported(line: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(USERS + f"script:\n  - {line}\n")
    assert any(message in str(problem) for problem in caught.value.problems), caught.value.problems


def test_an_encrypted_device_keeps_at_most_fifty_one_time_keys() -> None:
    text = "server_name: localhost\nusers:\n  - id: bob\n    devices: [{id: BOT, encrypted: true, one_time_keys: 51}]\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text)
    assert any("50" in str(problem) for problem in caught.value.problems), caught.value.problems
