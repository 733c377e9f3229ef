"""Notification bodies from wherever they are kept: the gateway's journal, a recording, a file, a URL."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import httpx
import yaml

from mockmx.errors import MatrixError
from mockmx.push.gateway import Gateway, Notification
from mockmx.push.protocol import NOTIFY_PATH
from mockmx.push.validate import validate_notification
from mockmx.record import Leg, Recording, RecordingError, load_recording_text
from mockmx.replay import ReplayState


def notifications_of(source: Any) -> list[dict[str, Any]]:
    """The notification bodies in `source`, in the order they were sent.

    `source` is a `Recording` (its push leg, a retried notification once), a replay's `ReplayState` (what it
    re-sent), the journal (`Gateway.notifications()`, or the JSON of `GET /_mockmx/notifications`), a list of
    notifications or of `{"notification": ...}` bodies, or a file or URL holding any of these (see
    `read_notifications`).
    """
    if isinstance(source, (str, os.PathLike)):
        return read_notifications(source)
    if isinstance(source, Recording):
        return pushed_in(source)
    if isinstance(source, ReplayState):
        return [_body(source.recording.flow(push.flow_id).request.body) for push in source.pushes]
    if isinstance(source, dict) and isinstance(source.get("notifications"), list):
        source = source["notifications"]
    if isinstance(source, dict) or not isinstance(source, Iterable):
        raise TypeError(f"expected a list of notifications, a journal or a recording, got {type(source).__name__}")
    return [_body(item) for item in source]


def pushed_in(recording: Recording) -> list[dict[str, Any]]:
    """What the recording's push leg delivered, as the mock gateway would have kept it: a retry counts once, and a
    body the gateway would refuse does not count."""
    gateway = Gateway()
    for flow in recording.flows:
        if flow.leg != Leg.PUSH or flow.request.path != NOTIFY_PATH or not isinstance(flow.request.body, dict):
            continue
        try:
            gateway.accept(validate_notification(flow.request.body), "recording", None)
        except MatrixError:
            continue
    return [entry.notification for entry in gateway.notifications()]


def read_notifications(location: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Notifications from a recording file, a journal JSON file, a YAML or JSON list of notifications, or the URL
    of a running mock's `/_mockmx/notifications`; a ValueError saying what is wrong with it."""
    name = os.fspath(location)
    if name.startswith(("http://", "https://")):
        return notifications_of(_fetch(name))
    try:
        with open(name, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise ValueError(f"{name}: cannot read the file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text: {exc.reason}") from exc
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ValueError(f"{name}: not YAML or JSON: {exc}") from exc
    if isinstance(data, dict) and "mockmx_recording" in data:
        try:
            return pushed_in(load_recording_text(text, name))
        except RecordingError as exc:
            raise ValueError(str(exc)) from exc
    try:
        return notifications_of(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _fetch(url: str) -> Any:
    try:
        response = httpx.get(url, timeout=30)
    except httpx.HTTPError as exc:
        raise ValueError(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise ValueError(f"{url}: HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError as exc:
        raise ValueError(f"{url}: not JSON: {response.text[:200]}") from exc


def _body(item: Any) -> dict[str, Any]:
    """A notification from a journal entry, a `/notify` body or a notification itself."""
    if isinstance(item, Notification):
        return item.notification
    if not isinstance(item, dict):
        raise TypeError(f"expected a notification (a mapping), got {type(item).__name__}: {item!r:.80}")
    inner = item.get("notification")
    return inner if isinstance(inner, dict) else item
