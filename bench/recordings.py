"""Synthetic recordings for the replay benchmark: N identical `GET whoami` flows under one token placeholder.

Identical requests are answered in recorded order, so a recording of N flows answers N requests; the file is
written as text, in the layout of docs/recording-format.md, because yaml.safe_dump is slow at 10,000 flows.
"""

from __future__ import annotations

from pathlib import Path

from bench import scenarios

WHOAMI = "/_matrix/client/v3/account/whoami"
TOKEN = scenarios.SENDER_TOKEN  # any live token: replay binds it to the recorded <token:1> on the first request

_HEADER = """\
# A mockmx recording, synthetic: bench/recordings.py
mockmx_recording: 1
started_at: '2025-06-01T09:30:00.000Z'
recorder: bench/recordings.py
upstreams:
  client: http://127.0.0.1:8008
secrets: redacted
flows:
"""

_FLOW = """\
- id: {id}
  leg: client
  at: {at:.3f}
  took: 0.002
  request:
    method: GET
    path: {path}
    headers:
      authorization: Bearer <token:1>
  response:
    status: 200
    headers:
      content-type: application/json
    body:
      user_id: '@alice:bench'
      device_id: BENCHDEVICE
# end of flow {id}
"""


def write_whoami(path: Path, flows: int) -> Path:
    """A recording of `flows` identical whoami requests, each answered as the same user."""
    parts = [_HEADER]
    parts += [_FLOW.format(id=number, at=number * 0.003, path=WHOAMI) for number in range(1, flows + 1)]
    path.write_text("".join(parts), encoding="utf-8")
    return path
