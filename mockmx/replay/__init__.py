"""Replaying recordings: `mockmx replay` and `create_replay_app`, a server that answers as a recording did.

`routes.py` turns paths into Matrix route templates, `shape.py` a request into what matching compares, `matchers.py`
holds the named matchers, `index.py` files recorded requests for constant-time lookup, `bindings.py` maps this
run's credentials and transaction ids to the recorded ones, `replayer.py` ties these together, `pushes.py` re-sends
the recorded notifications, `state.py` keeps what happened, `policy.py` says what a miss is answered,
`passthrough.py` sends misses to a real homeserver, `host.py` is the object behind the app, and `app.py` is the
Starlette application.

The names below load on first use: `mockmx.replay.policy` alone should not load the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.lazy import exports

if TYPE_CHECKING:
    from mockmx.replay.app import create_replay_app
    from mockmx.replay.host import ReplayHost
    from mockmx.replay.matchers import Difference
    from mockmx.replay.policy import UnmatchedPolicy
    from mockmx.replay.state import Miss, NearMiss, PushResult, ReplayError, ReplayState

__all__ = [
    "Difference",
    "Miss",
    "NearMiss",
    "PushResult",
    "ReplayError",
    "ReplayHost",
    "ReplayState",
    "UnmatchedPolicy",
    "create_replay_app",
]
_HOMES = {
    "Difference": "mockmx.replay.matchers",
    "Miss": "mockmx.replay.state",
    "NearMiss": "mockmx.replay.state",
    "PushResult": "mockmx.replay.state",
    "ReplayError": "mockmx.replay.state",
    "ReplayHost": "mockmx.replay.host",
    "ReplayState": "mockmx.replay.state",
    "UnmatchedPolicy": "mockmx.replay.policy",
    "create_replay_app": "mockmx.replay.app",
}

__getattr__ = exports(__name__, _HOMES)
