"""Replay answers as the right user, or not at all, and can be played again: over real sockets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockmx.record import Recording
from mockmx.replay import create_replay_app
from tests.conftest import assert_error
from tests.test_replay_app import CS, bearer, flows_yaml, serve_replay

ALICE = "@alice:localhost"
BOB = "@bob:localhost"


def whoami(token: str, user_id: str, device_id: str) -> dict[str, Any]:
    return {
        "request": {"method": "GET", "path": f"{CS}/account/whoami", "headers": {"authorization": f"Bearer {token}"}},
        "response": {"status": 200, "body": {"user_id": user_id, "device_id": device_id, "is_guest": False}},
    }


def two_users() -> Recording:
    """alice and bob, each asking who they are with a token the recording redacted."""
    return flows_yaml(whoami("<token:1>", ALICE, "ALICEDEV"), whoami("<token:2>", BOB, "BOBPHONE"))


def test_a_token_two_recorded_sessions_could_stand_for_is_refused_not_guessed() -> None:
    with serve_replay(two_users()) as replay:
        r = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("bob-phone-token"))
        body = assert_error(r, 401, "M_UNKNOWN_TOKEN")
        assert body["soft_logout"] is False
        assert "@alice:localhost (device ALICEDEV) as <token:1>" in body["error"]
        assert "@bob:localhost (device BOBPHONE) as <token:2>" in body["error"]
        assert "--token @user:server=TOKEN" in body["error"]
        # Nothing was bound: alice's own token, declared or not, still gets her own answer later.
        assert [miss.answer.split(":")[0] for miss in replay.state.misses] == ["401 M_UNKNOWN_TOKEN"]
        assert replay.state.answered == []


def test_declared_tokens_answer_as_their_users() -> None:
    tokens = {BOB: "bob-phone-token", ALICE: "alice-token"}
    with serve_replay(two_users(), tokens=tokens) as replay:
        as_bob = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("bob-phone-token"))
        as_alice = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("alice-token"))
    assert as_bob.status_code == 200, as_bob.text
    assert as_bob.json()["user_id"] == BOB
    assert as_alice.status_code == 200, as_alice.text
    assert as_alice.json()["user_id"] == ALICE


def test_the_one_session_that_could_answer_is_bound_without_a_declaration() -> None:
    only_bob = flows_yaml(whoami("<token:2>", BOB, "BOBPHONE"))
    with serve_replay(only_bob) as replay:
        r = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("any-token"))
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == BOB


def test_a_token_recorded_as_it_was_stands_only_for_itself() -> None:
    kept = flows_yaml(whoami("alice-token", ALICE, "ALICEDEV"))
    with serve_replay(kept) as replay:
        other = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("bob-phone-token"))
        own = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("alice-token"))
    assert_error(other, 404, "M_UNRECOGNIZED")
    assert own.json()["user_id"] == ALICE


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ({"@carol:localhost": "t"}, "no session of @carol:localhost"),
        ({"@alice:localhost/PHONE": "t"}, "no session of @alice:localhost/PHONE"),
    ],
)
def test_a_declared_token_for_no_recorded_session_is_refused_at_start(tokens: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_replay_app(two_users(), tokens=tokens)


def test_a_user_with_two_recorded_devices_is_named_with_the_device() -> None:
    two_devices = flows_yaml(whoami("<token:1>", ALICE, "ALICEDEV"), whoami("<token:3>", ALICE, "LAPTOP"))
    with pytest.raises(ValueError, match="name the device"):
        create_replay_app(two_devices, tokens={ALICE: "t"})
    with serve_replay(two_devices, tokens={f"{ALICE}/LAPTOP": "laptop-token"}) as replay:
        r = httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("laptop-token"))
    assert r.json()["device_id"] == "LAPTOP"


def test_reset_plays_the_recording_again() -> None:
    with serve_replay(two_users(), tokens={BOB: "bob-phone-token"}) as replay:
        url = f"{replay.url}{CS}/account/whoami"
        assert httpx.get(url, headers=bearer("bob-phone-token")).status_code == 200
        assert_error(httpx.get(url, headers=bearer("bob-phone-token")), 404, "M_UNRECOGNIZED")  # answered already
        reset = httpx.post(f"{replay.url}/_mockmx/reset")
        assert reset.status_code == 200, reset.text
        assert reset.json() == {"runs": 2}
        again = httpx.get(url, headers=bearer("bob-phone-token"))
        assert again.status_code == 200, again.text  # the declared token holds across runs
        assert again.json()["user_id"] == BOB
        assert replay.state.misses == []  # a run's journal starts empty


def test_repeat_starts_over_once_every_request_is_answered() -> None:
    only_bob = flows_yaml(whoami("<token:2>", BOB, "BOBPHONE"))
    with serve_replay(only_bob, repeat=True) as replay:
        answers = [httpx.get(f"{replay.url}{CS}/account/whoami", headers=bearer("bob-token")) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200], [r.text for r in answers]
