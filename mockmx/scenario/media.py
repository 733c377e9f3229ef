"""The media repository in a scenario file: the largest upload, and how much the mock keeps in memory."""

from __future__ import annotations

import re
from typing import Any

from mockmx.scenario.document import Document
from mockmx.scenario.model import MediaSpec

# The same shape as the `byteSize` pattern in schema.json, which has already checked the text.
_SIZE = re.compile(r"([0-9]+)([KMG]?)")
_UNIT_BYTES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}  # as Synapse reads `max_upload_size: 50M`


def media_spec(document: Document, data: dict[str, Any]) -> MediaSpec:
    """The top-level `media`: limits in bytes, each a number or text like `512K`, `50M`, `1G`."""
    media = document.get((), data, "media")
    if media is None:
        return MediaSpec()
    path = ("media",)
    upload = size(document.get(path, media, "max_upload_bytes"))
    total = size(document.get(path, media, "max_total_bytes"))
    spec = MediaSpec(
        max_upload_bytes=MediaSpec.max_upload_bytes if upload is None else upload,
        max_total_bytes=MediaSpec.max_total_bytes if total is None else total,
    )
    if spec.max_upload_bytes > spec.max_total_bytes:
        default = "" if "max_total_bytes" in media else " by default"
        key = "max_upload_bytes" if "max_upload_bytes" in media else "max_total_bytes"
        message = f"max_upload_bytes ({spec.max_upload_bytes}) must not exceed max_total_bytes"
        document.report((*path, key), f"{message} ({spec.max_total_bytes}{default})")
    return spec


def size(value: int | str | None) -> int | None:
    """A `byteSize` value in bytes (None stays None)."""
    if value is None or isinstance(value, int):
        return value
    match = _SIZE.fullmatch(value)
    return None if match is None else int(match[1]) * _UNIT_BYTES[match[2]]
