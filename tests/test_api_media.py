"""The content repository over the wire: upload, create and upload-to, download and thumbnail (authenticated and
legacy), config, the size limits a scenario sets, and the headers Synapse serves files with."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockmx.scenario.loader import load_scenario_text
from tests.conftest import ALICE_TOKEN, BOB_PHONE_TOKEN, LiveServer, assert_error

MEDIA = "/_matrix/media/v3"
CLIENT_MEDIA = "/_matrix/client/v1/media"
# The smallest PNG there is: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def upload(client: httpx.Client, content: bytes, content_type: str | None = None, **params: str) -> str:
    """The media id of a new upload."""
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post(f"{MEDIA}/upload", content=content, headers=headers, params=params)
    assert r.status_code == 200, r.text
    uri: str = r.json()["content_uri"]
    server, _, media_id = uri.removeprefix("mxc://").partition("/")
    assert server == "localhost" and len(media_id) == 24, uri
    return media_id


@pytest.fixture
def anonymous(mock: LiveServer) -> Iterator[httpx.Client]:
    with mock.client(None) as client:
        yield client


def test_an_upload_downloads_with_synapses_headers(alice: httpx.Client, bob: httpx.Client) -> None:
    media_id = upload(alice, b"hello", "text/plain", filename="hello.txt")
    r = bob.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}")
    assert r.status_code == 200, r.text
    assert r.content == b"hello"
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    assert r.headers["content-disposition"] == "inline; filename=hello.txt"
    assert r.headers["content-length"] == "5"
    assert r.headers["content-security-policy"].startswith("sandbox;")
    assert r.headers["x-content-security-policy"] == "sandbox;"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


def test_the_legacy_download_needs_no_token(alice: httpx.Client, anonymous: httpx.Client) -> None:
    media_id = upload(alice, b"%PDF-1.7", "application/pdf", filename="War and Peace.pdf")
    for prefix in ("/_matrix/media/v3", "/_matrix/media/r0", "/_matrix/media/v1"):
        r = anonymous.get(f"{prefix}/download/localhost/{media_id}")
        assert r.status_code == 200, r.text
        assert r.content == b"%PDF-1.7"
        # Not a type a browser may show inline; the name has a space, so it goes RFC 5987's way.
        assert r.headers["content-disposition"] == "attachment; filename*=utf-8''War%20and%20Peace.pdf"
    assert_error(anonymous.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}"), 401, "M_MISSING_TOKEN")


def test_a_file_name_in_the_path_names_the_download(alice: httpx.Client) -> None:
    media_id = upload(alice, b"{}", "application/json", filename="a.json")
    r = alice.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}/r%C3%A9sum%C3%A9.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert r.headers["content-disposition"] == "inline; filename*=utf-8''r%C3%A9sum%C3%A9.json"


def test_an_upload_without_a_type_or_name_is_an_octet_stream(alice: httpx.Client) -> None:
    r = alice.post(f"{MEDIA}/upload", content=b"\x00\x01")
    assert r.status_code == 200, r.text
    media_id = r.json()["content_uri"].rsplit("/", 1)[1]
    r = alice.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}")
    assert r.status_code == 200, r.text
    assert (r.headers["content-type"], r.headers["content-disposition"]) == ("application/octet-stream", "attachment")


@pytest.mark.parametrize("path", ["localhost/AAAAAAAAAAAAAAAAAAAAAAAA", "example.org/AAAAAAAAAAAAAAAAAAAAAAAA"])
def test_unknown_media_is_a_404(shared_alice: httpx.Client, path: str) -> None:
    for url in (f"{CLIENT_MEDIA}/download/{path}", f"{MEDIA}/download/{path}/x.txt"):
        assert_error(shared_alice.get(url), 404, "M_NOT_FOUND")
    for url in (f"{CLIENT_MEDIA}/thumbnail/{path}", f"{MEDIA}/thumbnail/{path}"):
        assert_error(shared_alice.get(url, params={"width": 32, "height": 32}), 404, "M_NOT_FOUND")


def test_a_thumbnail_of_an_image_is_the_image(alice: httpx.Client, anonymous: httpx.Client) -> None:
    media_id = upload(alice, PNG, "image/png", filename="pixel.png")
    params = {"width": 64, "height": 64, "method": "crop", "animated": "false"}
    for client, prefix in ((alice, CLIENT_MEDIA), (anonymous, MEDIA)):
        r = client.get(f"{prefix}/thumbnail/localhost/{media_id}", params=params)
        assert r.status_code == 200, r.text
        assert r.content == PNG
        assert r.headers["content-type"] == "image/png"
        assert r.headers["content-disposition"] == "inline; filename=thumbnail.png"


def test_a_thumbnail_of_anything_else_is_a_400(shared_alice: httpx.Client) -> None:
    media_id = upload(shared_alice, b"text", "text/plain")
    r = shared_alice.get(f"{CLIENT_MEDIA}/thumbnail/localhost/{media_id}", params={"width": 1, "height": 1})
    assert_error(r, 400, "M_UNKNOWN")


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"height": 32}, "M_MISSING_PARAM"),
        ({"width": 32}, "M_MISSING_PARAM"),
        ({"width": "wide", "height": 32}, "M_INVALID_PARAM"),
        ({"width": 32, "height": 32, "method": "stretch"}, "M_INVALID_PARAM"),
        ({"width": 32, "height": 32, "animated": "maybe"}, "M_INVALID_PARAM"),
        ({"width": 32, "height": 32, "timeout_ms": "soon"}, "M_INVALID_PARAM"),
    ],
)
def test_a_bad_thumbnail_query_is_a_400(shared_alice: httpx.Client, params: dict[str, Any], errcode: str) -> None:
    media_id = upload(shared_alice, PNG, "image/png")
    assert_error(shared_alice.get(f"{CLIENT_MEDIA}/thumbnail/localhost/{media_id}", params=params), 400, errcode)


def test_config_says_the_upload_limit(shared_alice: httpx.Client) -> None:
    for url in (f"{CLIENT_MEDIA}/config", f"{MEDIA}/config"):
        r = shared_alice.get(url)
        assert r.status_code == 200, r.text
        assert r.json() == {"m.upload.size": 50 * 1024 * 1024}


SMALL_STORE = """
mockmx: 1
server_name: localhost
users: [{id: alice, devices: [{id: A, access_token: alice-token}]}]
media: {max_upload_bytes: 1K, max_total_bytes: 2500}
"""


def test_a_scenario_sets_the_upload_limit(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(SMALL_STORE)
    with mock.client(ALICE_TOKEN) as alice:
        assert alice.get(f"{CLIENT_MEDIA}/config").json() == {"m.upload.size": 1024}
        upload(alice, b"x" * 1024)
        assert_error(alice.post(f"{MEDIA}/upload", content=b"x" * 1025), 413, "M_TOO_LARGE")
        # Without a Content-Length (chunked), the limit holds as the body arrives.
        chunks = iter([b"x" * 1000, b"x" * 1000])
        assert_error(alice.post(f"{MEDIA}/upload", content=chunks), 413, "M_TOO_LARGE")


def test_a_full_store_drops_the_oldest_uploads(serve_yaml: Callable[[str], LiveServer]) -> None:
    mock = serve_yaml(SMALL_STORE)
    with mock.client(ALICE_TOKEN) as alice:
        first, second, third = (upload(alice, bytes([n]) * 1000) for n in range(3))
        assert_error(alice.get(f"{CLIENT_MEDIA}/download/localhost/{first}"), 404, "M_NOT_FOUND")
        for media_id, n in ((second, 1), (third, 2)):
            assert alice.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}").content == bytes([n]) * 1000
    assert mock.homeserver.media.evictions == 1


def test_a_scenario_with_an_upload_limit_above_the_store_is_refused() -> None:
    with pytest.raises(ValueError, match="max_upload_bytes"):
        load_scenario_text("mockmx: 1\nserver_name: localhost\nmedia: {max_upload_bytes: 2M, max_total_bytes: 1M}\n")


def test_create_then_upload_to_the_id(alice: httpx.Client, bob: httpx.Client) -> None:
    r = alice.post("/_matrix/media/v1/create")
    assert r.status_code == 200, r.text
    created = r.json()
    assert isinstance(created["unused_expires_at"], int)
    media_id = created["content_uri"].removeprefix("mxc://localhost/")
    url = f"{MEDIA}/upload/localhost/{media_id}"
    assert_error(bob.put(url, content=b"mine"), 403, "M_FORBIDDEN")
    r = alice.put(url, content=b"later", headers={"Content-Type": "text/plain"}, params={"filename": "l.txt"})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert_error(alice.put(url, content=b"again"), 409, "M_CANNOT_OVERWRITE_MEDIA")
    r = bob.get(f"{CLIENT_MEDIA}/download/localhost/{media_id}")
    assert (r.content, r.headers["content-disposition"]) == (b"later", "inline; filename=l.txt")
    assert_error(alice.put(f"{MEDIA}/upload/localhost/AAAAAAAAAAAAAAAAAAAAAAAA", content=b"x"), 404, "M_NOT_FOUND")
    assert_error(alice.put(f"{MEDIA}/upload/example.org/{media_id}", content=b"x"), 404, "M_NOT_FOUND")


def test_a_download_waits_for_a_pending_upload(mock: LiveServer, alice: httpx.Client, bob: httpx.Client) -> None:
    media_id = alice.post("/_matrix/media/v1/create").json()["content_uri"].removeprefix("mxc://localhost/")
    url = f"{CLIENT_MEDIA}/download/localhost/{media_id}"
    assert_error(bob.get(url, params={"timeout_ms": 0}), 504, "M_NOT_YET_UPLOADED")
    answers: list[httpx.Response] = []
    waiter = threading.Thread(target=lambda: answers.append(bob.get(url, params={"timeout_ms": 8000})))
    waiter.start()
    try:
        # Upload once the download waits (nothing else long-polls this mock), so that the waiting is what's tested.
        while not mock.homeserver.notifier.waiting():
            time.sleep(0.01)
        r = alice.put(f"{MEDIA}/upload/localhost/{media_id}", content=b"arrived")
        assert r.status_code == 200, r.text
    finally:
        waiter.join()
    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert answer.content == b"arrived"


def test_pending_ids_are_limited_per_user(shared: LiveServer) -> None:
    with shared.client(BOB_PHONE_TOKEN) as bob:
        for _ in range(5):
            assert bob.post("/_matrix/media/v1/create").status_code == 200
        body = assert_error(bob.post("/_matrix/media/v1/create"), 429, "M_LIMIT_EXCEEDED")
        assert body["retry_after_ms"] > 0


def test_guests_may_not_upload(shared: LiveServer) -> None:
    with shared.client(None) as anonymous:
        guest = anonymous.post("/_matrix/client/v3/register", params={"kind": "guest"}, json={}).json()["access_token"]
    with shared.client(guest) as client:
        assert_error(client.post(f"{MEDIA}/upload", content=b"x"), 403, "M_GUEST_ACCESS_FORBIDDEN")
        assert_error(client.post("/_matrix/media/v1/create"), 403, "M_GUEST_ACCESS_FORBIDDEN")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{MEDIA}/upload"),
        ("PUT", f"{MEDIA}/upload/localhost/x"),
        ("POST", "/_matrix/media/v1/create"),
        ("GET", f"{MEDIA}/config"),
        ("GET", f"{CLIENT_MEDIA}/config"),
        ("GET", f"{CLIENT_MEDIA}/download/localhost/x"),
        ("GET", f"{CLIENT_MEDIA}/download/localhost/x/y.txt"),
        ("GET", f"{CLIENT_MEDIA}/thumbnail/localhost/x?width=1&height=1"),
    ],
)
def test_authenticated_media_endpoints_need_a_token(shared: LiveServer, method: str, path: str) -> None:
    with shared.client(None) as anonymous:
        assert_error(anonymous.request(method, path), 401, "M_MISSING_TOKEN")
