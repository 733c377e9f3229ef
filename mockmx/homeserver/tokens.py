"""Stream tokens: opaque to clients, `s<room stream position>_<to-device position>` inside."""

from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = re.compile(r"s(\d{1,18})_(\d{1,18})")


class StreamToken(NamedTuple):
    room_pos: int
    to_device_pos: int

    def __str__(self) -> str:
        return f"s{self.room_pos}_{self.to_device_pos}"

    @classmethod
    def parse(cls, text: str) -> StreamToken | None:
        """The token `text` spells, or None when it is not one of ours."""
        m = _TOKEN.fullmatch(text)
        return cls(int(m[1]), int(m[2])) if m else None

    def bounded_by(self, current: StreamToken) -> StreamToken:
        """This token with each position past `current`'s clamped to it, as Synapse's `bound_future_token` does for
        /sync: a client holding a token from the future (a restarted mock, a hand-made token) would otherwise wait
        for positions the stream reaches only later, and miss every event up to them."""
        return StreamToken(min(self.room_pos, current.room_pos), min(self.to_device_pos, current.to_device_pos))
