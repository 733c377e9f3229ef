"""What a test runs with, from three places: the `mockmx_config` fixture, the command line, the `mockmx` marker.

Each place gives some settings; a setting from the marker wins over the command line's, which wins over the
fixture's. Paths in the marker and the fixture are relative to the test's file, on the command line to the
directory pytest was started in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockmx.replay.policy import UnmatchedPolicy
from mockmx.scenario.model import Scenario

if TYPE_CHECKING:
    from mockmx.record import Recording
from mockmx.testing.record_mode import RecordMode

ScenarioSource = Scenario | Path | str  # a loaded scenario, a file, or YAML text


@dataclass(frozen=True, kw_only=True)
class MockmxConfig:
    """The settings of one test."""

    scenario: ScenarioSource | None = None  # for mockmx_server; None: the built-in default scenario
    recording: Path | None = None  # for mockmx_replay; None: recordings/<module>/<test>.yaml by the test's file
    record_mode: RecordMode = RecordMode.NONE
    upstream: str | None = None  # the real homeserver to record against
    push_to: str | None = None  # the push gateway: replayed pushes go there; when recording, the push leg does
    strict: bool = False  # a request the recording does not hold fails the test
    unmatched: UnmatchedPolicy | None = None  # what the replay answers such a request with
    tokens: Mapping[str, str] | None = None  # for mockmx_replay: {"@user:server": "the token your client sends"}


NAMES = tuple(field.name for field in fields(MockmxConfig))


def settings(values: Mapping[str, Any], base: Path, where: str) -> dict[str, Any]:
    """`values` from one place, checked and with paths made absolute; a ValueError naming `where` and the problem."""
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise ValueError(f"{where}: unknown setting {', '.join(unknown)}; expected some of: {', '.join(NAMES)}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        try:
            checked[name] = _check(name, value, base)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {name}: {exc}") from None
    return checked


def merge(*layers: Mapping[str, Any]) -> MockmxConfig:
    """One config from checked settings, later layers winning."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    return replace(MockmxConfig(), **merged)


def _check(name: str, value: Any, base: Path) -> Any:
    if value is None:
        return None
    if name == "record_mode":
        return RecordMode.parse(value)
    if name == "unmatched":
        return UnmatchedPolicy.parse(value)
    if name == "tokens":
        if not isinstance(value, Mapping) or not all(
            isinstance(user, str) and user.startswith("@") and isinstance(token, str) and token
            for user, token in value.items()
        ):
            raise TypeError(f"expected a mapping of user ids to access tokens, got {value!r}")
        return dict(value)
    if name == "strict":
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value
    if name in ("upstream", "push_to"):
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")
    if name == "recording":
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"expected a file name, got {value!r}")
        return base / Path(value)
    if name == "scenario":
        if isinstance(value, Scenario):
            return value
        if isinstance(value, str) and "\n" in value:
            return value  # YAML text
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"expected a file name, YAML text or a Scenario, got {value!r}")
        return base / Path(value)
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def default_recording(test_file: Path, test_name: str) -> Path:
    """`recordings/<module>/<test>.yaml` beside the test's file."""
    return test_file.parent / "recordings" / test_file.stem / (re.sub(r"[^\w.-]+", "_", test_name).strip("_") + ".yaml")


class LoadCache:
    """Scenarios and recordings loaded once per session: a file until it changes, YAML text by its text. Both are
    immutable, and every app built from one gets state of its own."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[object, ...], Any] = {}

    def scenario(self, source: ScenarioSource | None) -> Scenario:
        """The scenario; a ScenarioError listing its problems."""
        from mockmx.scenario.loader import default_scenario, load_scenario, load_scenario_text

        if source is None:
            return default_scenario()
        if isinstance(source, Scenario):
            return source
        if isinstance(source, str):
            text: Scenario = self._once(("text", source), lambda: load_scenario_text(source, "<scenario text>"))
            return text
        loaded: Scenario = self._file(source, load_scenario)
        return loaded

    def recording(self, path: Path) -> Recording:
        """The recording; a RecordingError listing its problems."""
        from mockmx.record import load_recording

        loaded: Recording = self._file(path, load_recording)
        return loaded

    def _file(self, path: Path, load: Callable[[Path], Any]) -> Any:
        try:
            key = (load, path, path.stat().st_mtime_ns)
        except OSError:
            return load(path)  # raises, saying why the file cannot be read
        return self._once(key, lambda: load(path))

    def _once(self, key: tuple[object, ...], load: Callable[[], Any]) -> Any:
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]
