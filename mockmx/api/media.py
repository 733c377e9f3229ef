"""The content repository: upload, create, download, thumbnail and config, under `/_matrix/media/{v3,r0,v1}` (the
legacy, unauthenticated downloads) and `/_matrix/client/v1/media` (the authenticated ones the spec now asks for).

Headers are Synapse's: a charset for text, `inline` only for the types a browser may safely show, the file name as a
token or RFC 5987 `filename*`, and a sandboxing Content-Security-Policy. There is no image library here, so a
thumbnail of an image is the image itself, whatever size was asked for.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, header, homeserver
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.media import UNUSED_EXPIRY_MS, Media
from mockmx.homeserver.notifier import long_poll
from mockmx.homeserver.server import Homeserver

DEFAULT_TIMEOUT_MS = 20_000  # how long a download waits for a pending upload, unless the client says
MAX_TIMEOUT_MS = 60_000  # Synapse's cap on that
# Synapse's lists (synapse/media/_base.py): text types get a charset; only these are served `inline`.
TEXT_CONTENT_TYPES = frozenset(
    {
        "text/css",
        "text/csv",
        "text/html",
        "text/calendar",
        "text/plain",
        "text/javascript",
        "application/json",
        "application/ld+json",
        "application/rtf",
        "image/svg+xml",
        "text/xml",
    }
)
INLINE_CONTENT_TYPES = frozenset(
    {
        "text/css",
        "text/plain",
        "text/csv",
        "application/json",
        "application/ld+json",
        "image/jpeg",
        "image/gif",
        "image/png",
        "image/apng",
        "image/webp",
        "image/avif",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "audio/mp4",
        "audio/webm",
        "audio/aac",
        "audio/mpeg",
        "audio/ogg",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-pn-wav",
        "audio/flac",
        "audio/x-flac",
    }
)
# The types Synapse thumbnails, and the type its thumbnail is served as (here: the original bytes).
THUMBNAIL_TYPES = {
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/webp": "image/webp",
    "image/gif": "image/gif",
    "image/png": "image/png",
}
_FILENAME_SEPARATORS = frozenset('()<>@,;:\\"/[]?={}')
_SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
    " style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
    "X-Content-Security-Policy": "sandbox;",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Cache-Control": "public,max-age=86400,s-maxage=0,proxy-revalidate",
    "X-Robots-Tag": "noindex, nofollow, noarchive, noimageindex",
}


# -- uploading ----------------------------------------------------------------------------------------------


async def upload(request: Request) -> Response:
    session = _uploader(request)
    hs = homeserver(request)
    content = await _read_upload(request, hs.media.max_upload_bytes)
    media = hs.media.upload(session.user_id, content, _content_type(request), _filename(request))
    return JSONResponse({"content_uri": hs.media.uri(media.media_id)})


async def upload_to(request: Request) -> Response:
    session = _uploader(request)
    hs = homeserver(request)
    server_name, media_id = request.path_params["server_name"], request.path_params["media_id"]
    if server_name != hs.server_name:
        raise MatrixError(404, "Non-local server name specified", Codes.NOT_FOUND)
    hs.media.check_upload(session.user_id, media_id)  # before the body: its errors need no upload
    content = await _read_upload(request, hs.media.max_upload_bytes)
    hs.media.upload_to(session.user_id, media_id, content, _content_type(request), _filename(request))
    return JSONResponse({})


async def create(request: Request) -> Response:
    session = _uploader(request)
    hs = homeserver(request)
    media = hs.media.create(session.user_id)
    return JSONResponse(
        {"content_uri": hs.media.uri(media.media_id), "unused_expires_at": media.created_ts + UNUSED_EXPIRY_MS}
    )


async def config(request: Request) -> Response:
    authenticate(request)
    return JSONResponse({"m.upload.size": homeserver(request).media.max_upload_bytes})


def _uploader(request: Request) -> Session:
    session = authenticate(request)
    if session.is_guest:
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    return session


async def _read_upload(request: Request, limit: int) -> bytes:
    """The upload's bytes; 413 M_TOO_LARGE past `limit`, refused unread when Content-Length says so."""
    too_large = MatrixError(413, "Upload request body is too large", Codes.TOO_LARGE)
    length = header(request, b"content-length") or ""
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _content_type(request: Request) -> str:
    return header(request, b"content-type") or "application/octet-stream"


def _filename(request: Request) -> str | None:
    return request.query_params.get("filename") or None


# -- downloading --------------------------------------------------------------------------------------------


async def download(request: Request) -> Response:
    """The authenticated download (`/_matrix/client/v1/media/download/...`)."""
    authenticate(request)
    return await _download(request)


async def legacy_download(request: Request) -> Response:
    """The unauthenticated download the spec deprecated (`/_matrix/media/v3/download/...`), which SDKs still use."""
    return await _download(request)


async def thumbnail(request: Request) -> Response:
    authenticate(request)
    return await _thumbnail(request)


async def legacy_thumbnail(request: Request) -> Response:
    return await _thumbnail(request)


async def _download(request: Request) -> Response:
    media, content = await _uploaded_media(request)
    name = request.path_params.get("file_name") or media.upload_name
    return Response(content, headers=_file_headers(media.content_type, name, _disposition(media.content_type)))


async def _thumbnail(request: Request) -> Response:
    for name in ("width", "height"):
        _query_int(request, name, required=True)
    method = request.query_params.get("method", "scale")
    if method not in ("crop", "scale"):
        raise MatrixError(400, "Query parameter 'method' must be 'crop' or 'scale'", Codes.INVALID_PARAM)
    if request.query_params.get("animated", "false") not in ("true", "false"):
        raise MatrixError(400, "Query parameter 'animated' must be 'true' or 'false'", Codes.INVALID_PARAM)
    media, content = await _uploaded_media(request)
    thumbnail_type = THUMBNAIL_TYPES.get(_bare_type(media.content_type))
    if thumbnail_type is None:
        raise MatrixError(
            400,
            f"Cannot find any thumbnails for the requested media ({request.url.path!r}). This might mean the media"
            f" is not a supported_media_format=({', '.join(THUMBNAIL_TYPES)}) or that thumbnailing failed for some"
            " other reason. (Dynamic thumbnails are disabled on this server.)",
            Codes.UNKNOWN,
        )
    # The spec: a thumbnail is always inline, and should have a file name.
    name = f"thumbnail.{thumbnail_type.removeprefix('image/')}"
    return Response(content, headers=_file_headers(thumbnail_type, name, "inline"))


async def _uploaded_media(request: Request) -> tuple[Media, bytes]:
    """The media the path names, once uploaded: a pending id is waited for up to `timeout_ms`, then 504."""
    hs = homeserver(request)
    server_name, media_id = request.path_params["server_name"], request.path_params["media_id"]
    timeout_ms = _query_int(request, "timeout_ms")
    timeout_ms = DEFAULT_TIMEOUT_MS if timeout_ms is None else min(timeout_ms, MAX_TIMEOUT_MS)
    if server_name != hs.server_name:
        raise _not_found(request)  # no federation: another server's media is nowhere to be had
    media = await long_poll(hs.notifier, (hs.media.uri(media_id),), timeout_ms, lambda: _lookup(hs, media_id))
    if media is None:
        raise _not_found(request)
    if media.content is None:
        raise MatrixError(504, "Media has not been uploaded yet", Codes.NOT_YET_UPLOADED)
    return media, media.content


def _lookup(hs: Homeserver, media_id: str) -> tuple[Media | None, bool]:
    media = hs.media.get(media_id)
    return media, media is None or media.content is not None


def _not_found(request: Request) -> MatrixError:
    return MatrixError(404, f"Not found '{request.url.path}'", Codes.NOT_FOUND)


def _query_int(request: Request, name: str, *, required: bool = False) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise MatrixError(400, f"Missing required integer query parameter {name}", Codes.MISSING_PARAM)
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise MatrixError(400, f"Query parameter {name!r} must be a non-negative integer", Codes.INVALID_PARAM)
    return int(raw)


def _bare_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _disposition(content_type: str) -> str:
    return "inline" if _bare_type(content_type) in INLINE_CONTENT_TYPES else "attachment"


def _file_headers(content_type: str, name: str | None, disposition: str) -> dict[str, str]:
    if content_type.lower() in TEXT_CONTENT_TYPES:
        content_type += "; charset=UTF-8"
    if name:
        if all(32 < ord(c) < 127 and c not in _FILENAME_SEPARATORS for c in name):
            disposition += f"; filename={name}"
        else:
            disposition += f"; filename*=utf-8''{quote(name.encode())}"
    return {"Content-Type": content_type, "Content-Disposition": disposition, **_SECURITY_HEADERS}
