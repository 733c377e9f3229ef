"""The media repository, in memory: uploads by media id, within a total size that drops the oldest when full.

`POST /media/v1/create` reserves an id for its caller to upload to later (at most five pending per user, each
expiring after a day, as Synapse's defaults); a download of a pending id waits for its upload, woken through the
notifier under the id's `mxc://` URI.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from mockmx.errors import Codes, MatrixError, limit_exceeded
from mockmx.homeserver.notifier import Notifier
from mockmx.scenario.model import MediaSpec

log = logging.getLogger(__name__)

MAX_PENDING_PER_USER = 5  # Synapse's `max_pending_media_uploads`
UNUSED_EXPIRY_MS = 24 * 60 * 60 * 1000  # Synapse's `unused_expiration_time`
_ID_ALPHABET = string.ascii_letters


@dataclass(slots=True)
class Media:
    media_id: str
    uploader: str
    created_ts: int
    content: bytes | None = None  # None while an id from /create waits for its upload
    content_type: str = "application/octet-stream"
    upload_name: str | None = None


class MediaStore:
    def __init__(self, server_name: str, spec: MediaSpec, *, clock_ms: Callable[[], int], notifier: Notifier) -> None:
        self.server_name = server_name
        self.max_upload_bytes = spec.max_upload_bytes
        self.max_total_bytes = spec.max_total_bytes
        self._clock_ms = clock_ms
        self._notifier = notifier
        self._uploaded: OrderedDict[str, Media] = OrderedDict()  # oldest upload first: the first to go
        self._pending: dict[str, Media] = {}
        self.total_bytes = 0
        self.evictions = 0  # uploads dropped to stay within max_total_bytes

    def uri(self, media_id: str) -> str:
        return f"mxc://{self.server_name}/{media_id}"

    def get(self, media_id: str) -> Media | None:
        """The media with that id: uploaded, pending, or None (unknown, evicted, or expired unused)."""
        media = self._uploaded.get(media_id) or self._pending.get(media_id)
        if media is not None and media.content is None and self._expired(media):
            del self._pending[media_id]
            return None
        return media

    def create(self, user_id: str) -> Media:
        """Reserve a media id for `user_id` to upload to; 429 when they already have the most pending."""
        mine = [media for media in list(self._pending.values()) if media.uploader == user_id and not self._gone(media)]
        if len(mine) >= MAX_PENDING_PER_USER:
            first_expiry = min(media.created_ts for media in mine) + UNUSED_EXPIRY_MS
            raise limit_exceeded(max(0, first_expiry - self._clock_ms()), "You have too many uploads pending")
        media = Media(self._new_id(), user_id, self._clock_ms())
        self._pending[media.media_id] = media
        return media

    def upload(self, user_id: str, content: bytes, content_type: str, upload_name: str | None) -> Media:
        media = Media(self._new_id(), user_id, self._clock_ms())
        self._complete(media, content, content_type, upload_name)
        return media

    def check_upload(self, user_id: str, media_id: str) -> Media:
        """The pending media `user_id` may upload to: an id from `create`, theirs, not yet uploaded."""
        media = self.get(media_id)
        if media is None:
            raise MatrixError(404, "Unknown media ID", Codes.NOT_FOUND)
        if media.uploader != user_id:
            raise MatrixError(403, "Only the creator of the media ID can upload to it", Codes.FORBIDDEN)
        if media.content is not None:
            raise MatrixError(409, "Media ID already has content", Codes.CANNOT_OVERWRITE_MEDIA)
        return media

    def upload_to(self, user_id: str, media_id: str, content: bytes, content_type: str, name: str | None) -> None:
        """Upload to an id from `create`: only its creator may, and only once."""
        media = self.check_upload(user_id, media_id)
        del self._pending[media_id]
        self._complete(media, content, content_type, name)

    def _complete(self, media: Media, content: bytes, content_type: str, upload_name: str | None) -> None:
        media.content, media.content_type, media.upload_name = content, content_type, upload_name
        self._uploaded[media.media_id] = media
        self.total_bytes += len(content)
        while self.total_bytes > self.max_total_bytes and len(self._uploaded) > 1:
            _, oldest = self._uploaded.popitem(last=False)
            self.total_bytes -= len(oldest.content or b"")
            self.evictions += 1
            log.info("media store full: dropped %s (%d evictions so far)", self.uri(oldest.media_id), self.evictions)
        self._notifier.notify((self.uri(media.media_id),))

    def _expired(self, media: Media) -> bool:
        return media.created_ts + UNUSED_EXPIRY_MS <= self._clock_ms()

    def _gone(self, media: Media) -> bool:
        """Whether a pending id has expired (and is dropped now)."""
        if not self._expired(media):
            return False
        self._pending.pop(media.media_id, None)
        return True

    def _new_id(self) -> str:
        # Synapse's shape: 24 random letters.
        return "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))
