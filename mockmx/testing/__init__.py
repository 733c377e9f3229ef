"""Testing with mockmx: the pytest plugin and what its fixtures give a test, usable without pytest too.

`plugin.py` is the plugin (options, marker, fixtures); `config.py` merges the settings of the marker, the command
line and the `mockmx_config` fixture; `live.py` is a running mock with its accessors and assertions;
`session.py` records or replays a test's session as `record_mode.py` says, `recorder.py` running `mockmx record`;
`threaded.py` runs an app on uvicorn in a thread.

The names below load on first use, so that the plugin, loaded into every pytest run, stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.lazy import exports

if TYPE_CHECKING:
    from mockmx.testing.config import MockmxConfig
    from mockmx.testing.live import MockmxServer, running_mock
    from mockmx.testing.record_mode import RecordMode
    from mockmx.testing.session import RecordedSession

__all__ = ["MockmxConfig", "MockmxServer", "RecordMode", "RecordedSession", "running_mock"]
_HOMES = {
    "MockmxConfig": "mockmx.testing.config",
    "MockmxServer": "mockmx.testing.live",
    "running_mock": "mockmx.testing.live",
    "RecordMode": "mockmx.testing.record_mode",
    "RecordedSession": "mockmx.testing.session",
}

__getattr__ = exports(__name__, _HOMES)
