"""The push gateway API's fixed parts, for both ends: the pusher side (homeserver, replay) and the gateway side."""

from __future__ import annotations

NOTIFY_PATH = "/_matrix/push/v1/notify"
# How long a push waits for the gateway's answer before it counts as failed (and is retried).
PUSH_TIMEOUT_SECONDS = 10
