"""The media library over HTTP: uploads (streamed, size-limited, type sniffed from the
bytes, measured, thumbnailed, within the account's quota), the filtered list, describing,
deleting, and downloads through signed links or as a member."""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from markettina.content import media_links
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client
from tests.support.checks import fields, problem, sql
from tests.support.identity import TEST_SECRET_KEY, Member, new_account, new_member
from tests.support.media import (
    animated_gif,
    fake_ffprobe,
    jpeg,
    media_app,
    mp4,
    pdf,
    png,
    png_claiming,
)

MAX_UPLOAD = 64 * 1024


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs, media_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = media_app(db, media_dir, media_max_upload_bytes=MAX_UPLOAD)
    async with api_client(app) as http:
        yield http


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


@pytest.fixture
def no_ffprobe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    yield


async def upload(
    client: httpx.AsyncClient,
    member: Member,
    content: bytes,
    *,
    name: str = "photo.png",
    content_type: str | None = "application/octet-stream",
    data: Any = None,
) -> httpx.Response:
    file: tuple[Any, ...] = (
        (name, content) if content_type is None else (name, content, content_type)
    )
    return await client.post("/v1/media", files={"file": file}, data=data, headers=member.headers)


async def uploaded(
    client: httpx.AsyncClient, member: Member, content: bytes, **kw: Any
) -> dict[str, Any]:
    response = await upload(client, member, content, **kw)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stored_files(media_dir: Path, account: uuid.UUID) -> list[str]:
    folder = media_dir / str(account)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assets(db: DatabaseURLs, account: uuid.UUID) -> int:
    return int(sql(db, "SELECT count(*) FROM media_assets WHERE account_id = %s", account)[0][0])


class TestUpload:
    async def test_an_image_is_measured_thumbnailed_and_tagged(
        self, client: httpx.AsyncClient, owner: Member, media_dir: Path
    ) -> None:
        body = await uploaded(
            client,
            owner,
            png(64, 32),
            data={
                "alt_text": "A red banner",
                "description": "For the spring campaign",
                "tags": ["Spring", "banner"],
            },
        )
        assert body["mime_type"] == "image/png" and body["kind"] == "image"
        assert (body["width"], body["height"]) == (64, 32)
        assert body["has_thumbnail"] is True and body["duration_status"] is None
        assert body["alt_text"] == "A red banner"
        assert body["filename"] == "photo.png" and body["file_size_bytes"] == len(png(64, 32))
        assert {(t["tag"], t["type"]) for t in body["tags"]} == {
            ("image", "system"),
            ("png", "system"),
            ("landscape", "system"),
            ("spring", "user"),
            ("banner", "user"),
        }
        assert stored_files(media_dir, owner.account_id) == [
            f"{body['id']}/original",
            f"{body['id']}/thumbnail.webp",
        ]

    async def test_orientation_and_animation_become_system_tags(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        tall = await uploaded(client, owner, jpeg(40, 80), name="tall.jpg")
        assert "portrait" in {t["tag"] for t in tall["tags"]}
        gif = await uploaded(client, owner, animated_gif(), name="a.gif")
        assert {"square", "animated", "gif"} <= {t["tag"] for t in gif["tags"]}

    async def test_the_type_is_read_from_the_bytes_not_the_name(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        body = await uploaded(client, owner, pdf(), name="looks-like.png")
        assert body["mime_type"] == "application/pdf" and body["kind"] == "document"
        assert body["has_thumbnail"] is False and body["width"] is None

    async def test_a_type_outside_the_allow_list_is_415(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        response = await upload(client, owner, b"#!/bin/sh\necho hi\n", name="x.png")
        body = problem(response, 415, "unsupported_media_type")
        assert fields(body) == ["body.file"]
        assert assets(db, owner.account_id) == 0

    async def test_a_declared_type_the_bytes_contradict_is_422(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await upload(client, owner, jpeg(), name="x.png", content_type="image/png")
        body = problem(response, 422, "media_type_mismatch")
        assert fields(body) == ["body.file"]
        # the usual alias of JPEG is no mismatch
        await uploaded(client, owner, jpeg(), name="x.jpg", content_type="image/jpg")

    async def test_a_decompression_bomb_is_refused(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        # past Pillow's own ceiling: DecompressionBombError as the header is read
        huge = problem(
            await upload(client, owner, png_claiming(100_000, 100_000)), 422, "image_too_large"
        )
        assert fields(huge) == ["body.file"] and "open safely" in huge["detail"]
        # under Pillow's ceiling but over the service's (MEDIA_MAX_IMAGE_PIXELS, 50 million)
        over = problem(
            await upload(client, owner, png_claiming(10_000, 6_000)), 422, "image_too_large"
        )
        assert "10000x6000" in over["detail"]
        assert assets(db, owner.account_id) == 0

    async def test_a_truncated_image_is_refused(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        whole = png(100, 100, noise=True)
        response = await upload(client, owner, whole[: len(whole) // 2])
        assert fields(problem(response, 422, "corrupt_image")) == ["body.file"]
        assert assets(db, owner.account_id) == 0

    async def test_a_video_s_duration_is_unknown_without_ffprobe(
        self, client: httpx.AsyncClient, owner: Member, no_ffprobe: None
    ) -> None:
        body = await uploaded(client, owner, mp4(), name="clip.mp4")
        assert body["kind"] == "video" and body["mime_type"] == "video/mp4"
        assert body["duration_seconds"] is None
        assert body["duration_status"] == "ffprobe_absent"
        assert "video" in {t["tag"] for t in body["tags"]}

    async def test_a_video_is_measured_by_ffprobe(
        self,
        client: httpx.AsyncClient,
        owner: Member,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PATH", str(fake_ffprobe(tmp_path)))
        body = await uploaded(client, owner, mp4(), name="clip.mp4")
        assert body["duration_seconds"] == 12.346
        assert body["duration_status"] == "measured"
        assert (body["width"], body["height"]) == (1920, 1080)
        assert "landscape" in {t["tag"] for t in body["tags"]}

    async def test_ffprobe_failing_leaves_the_duration_unknown(
        self,
        client: httpx.AsyncClient,
        owner: Member,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PATH", str(fake_ffprobe(tmp_path, "#!/bin/sh\nexit 1\n")))
        body = await uploaded(client, owner, mp4(), name="clip.mp4")
        assert (body["duration_seconds"], body["duration_status"]) == (None, "ffprobe_failed")

    async def test_a_declared_length_past_the_limit_is_413_before_reading(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        read: list[int] = []

        async def body() -> AsyncIterator[bytes]:
            for _ in range(64):
                read.append(1)
                yield b"x" * 65536

        headers = {
            **owner.headers,
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(64 * 65536),
        }
        response = await client.post("/v1/media", content=body(), headers=headers)
        problem(response, 413, "upload_too_large")
        assert len(read) <= 1  # refused before the body was read
        assert assets(db, owner.account_id) == 0

    async def test_a_streamed_file_past_the_limit_is_413_as_it_passes_it(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs, media_dir: Path
    ) -> None:
        sent: list[int] = []

        async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length
            yield (
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"'
                b"\r\n\r\n" + png()
            )
            for _ in range(100):
                sent.append(1)
                yield b"\x00" * 16384
            yield b"\r\n--b--\r\n"

        headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=b"}
        response = await client.post("/v1/media", content=body(), headers=headers)
        body_ = problem(response, 413, "upload_too_large")
        assert body_["max_upload_bytes"] == MAX_UPLOAD and fields(body_) == ["body.file"]
        assert len(sent) < 100  # the rest was never read
        assert assets(db, owner.account_id) == 0
        assert not (media_dir / str(owner.account_id)).exists()

    async def test_over_the_quota_nothing_is_stored(
        self, client: httpx.AsyncClient, db: DatabaseURLs, media_dir: Path
    ) -> None:
        member = new_member(db, new_account(db), "owner")
        first = png(64, 32)
        sql(
            db,
            "INSERT INTO feature_flags (account_id, feature_name, enabled, config) "
            "VALUES (%s, 'media_storage_quota', true, %s)",
            member.account_id,
            f'{{"quota_bytes": {len(first) + 10}}}',
        )
        await uploaded(client, member, first)
        usage = (await client.get("/v1/media/storage", headers=member.headers)).json()
        assert usage == {
            "used_bytes": len(first),
            "asset_count": 1,
            "quota_bytes": len(first) + 10,
            "max_upload_bytes": MAX_UPLOAD,
        }
        response = await upload(client, member, png(64, 32))
        body = problem(response, 413, "media_quota_exceeded")
        assert body["quota_bytes"] == len(first) + 10 and body["used_bytes"] == len(first)
        assert assets(db, member.account_id) == 1
        assert len(stored_files(media_dir, member.account_id)) == 2  # the first one's

    async def test_the_quota_follows_the_plan(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_member(db, new_account(db), "owner")
        sql(db, "UPDATE accounts SET plan_tier = 'pro' WHERE id = %s", member.account_id)
        usage = (await client.get("/v1/media/storage", headers=member.headers)).json()
        assert usage["quota_bytes"] == 50 * 1024**3

    async def test_bad_fields_are_named(self, client: httpx.AsyncClient, owner: Member) -> None:
        response = await upload(client, owner, png(), data={"alt_text": "x" * 1001})
        assert fields(problem(response, 422)) == ["body.alt_text"]
        response = await upload(client, owner, png(), data={"tags": ["ok", " "]})
        assert fields(problem(response, 422)) == ["body.tags.1"]
        response = await upload(client, owner, png(), data={"colour": "red"})
        assert fields(problem(response, 422)) == ["body.colour"]
        response = await client.post(
            "/v1/media", files={"alt_text": (None, "no file")}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.file"]
        response = await client.post("/v1/media", json={"file": "x"}, headers=owner.headers)
        problem(response, 415, "multipart_required")

    async def test_text_postgresql_cannot_store_is_refused_or_dropped(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await upload(client, owner, png(), data={"alt_text": "a\x00b"})
        assert fields(problem(response, 422)) == ["body.alt_text"]
        raw = (
            b'--b\r\nContent-Disposition: form-data; name="file"; '
            b'filename="../dir/a\x00b\x07.png"\r\n\r\n' + png() + b"\r\n--b--\r\n"
        )
        headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=b"}
        response = await client.post("/v1/media", content=raw, headers=headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["filename"] == "ab.png" and body["original_filename"] == "../dir/ab\x07.png"

    async def test_an_idempotency_key_replays_the_upload(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        headers = {
            **owner.headers,
            "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "multipart/form-data; boundary=b",
        }
        raw = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
            + png()
            + b"\r\n--b--\r\n"
        )
        answers = [await client.post("/v1/media", content=raw, headers=headers) for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 201], answers[0].text
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert assets(db, owner.account_id) == 1

    async def test_a_viewer_cannot_upload(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        problem(await upload(client, viewer, png()), 403)


class TestList:
    async def test_filters_by_tag_kind_and_text(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        a = await uploaded(
            client, owner, png(), name="Spring_banner.png", data={"tags": ["hero", " Spring "]}
        )
        b = await uploaded(
            client, owner, pdf(), name="brochure.pdf", data={"alt_text": "Spring 100% off"}
        )
        c = await uploaded(client, owner, jpeg(), name="team.jpg")

        async def ids(**params: str) -> list[str]:
            response = await client.get("/v1/media", params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await ids() == [c["id"], b["id"], a["id"]]
        assert await ids(tag="Hero") == [a["id"]]
        assert await ids(tag="image") == [c["id"], a["id"]]
        assert await ids(kind="document") == [b["id"]]
        assert await ids(q="spring") == [b["id"], a["id"]]
        assert await ids(q="100%") == [b["id"]]
        assert await ids(q="_banner") == [a["id"]]
        assert await ids(q="%") == [b["id"]]  # a literal percent sign, not "anything"
        assert await ids(kind="image", q="team") == [c["id"]]
        first = (await client.get("/v1/media", params={"limit": 2}, headers=owner.headers)).json()
        assert [i["id"] for i in first["items"]] == [c["id"], b["id"]]
        rest = await client.get(
            "/v1/media", params={"cursor": first["next_cursor"]}, headers=owner.headers
        )
        assert [i["id"] for i in rest.json()["items"]] == [a["id"]]
        item = first["items"][0]
        assert item == (await client.get(f"/v1/media/{c['id']}", headers=owner.headers)).json()

    async def test_a_bad_filter_is_named(self, client: httpx.AsyncClient, owner: Member) -> None:
        response = await client.get("/v1/media", params={"kind": "audio"}, headers=owner.headers)
        assert fields(problem(response, 422)) == ["query.kind"]


class TestDescribe:
    async def test_alt_text_description_and_user_tags_change_with_the_version(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        asset = await uploaded(client, owner, png(), data={"tags": ["old"]})
        url = f"/v1/media/{asset['id']}"
        response = await client.patch(
            url,
            json={"alt_text": "New", "tags": ["fresh", "image"], "version": asset["version"]},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["alt_text"] == "New" and changed["version"] == asset["version"] + 1
        assert {(t["tag"], t["type"]) for t in changed["tags"]} == {
            ("image", "system"),
            ("png", "system"),
            ("landscape", "system"),
            ("fresh", "user"),
        }
        assert response.headers["etag"] == f'"{changed["version"]}"'
        stale = await client.patch(
            url,
            json={"description": "x"},
            headers={**owner.headers, "If-Match": f'"{asset["version"]}"'},
        )
        problem(stale, 409, "version_conflict")
        missing = await client.patch(url, json={"description": "x"}, headers=owner.headers)
        assert fields(problem(missing, 422)) == ["body.version"]


class TestDelete:
    async def test_delete_removes_the_row_from_view_and_the_bytes(
        self, client: httpx.AsyncClient, owner: Member, media_dir: Path, db: DatabaseURLs
    ) -> None:
        asset = await uploaded(client, owner, png())
        response = await client.delete(f"/v1/media/{asset['id']}", headers=owner.headers)
        assert response.status_code == 204, response.text
        assert stored_files(media_dir, owner.account_id) == []
        problem(await client.get(f"/v1/media/{asset['id']}", headers=owner.headers), 404)
        (deleted_by,) = sql(db, "SELECT deleted_by FROM media_assets WHERE id = %s", asset["id"])[0]
        assert deleted_by == owner.user_id
        events = sql(
            db,
            "SELECT event_type, event_data->>'media_asset_id' FROM domain_events "
            "WHERE account_id = %s ORDER BY created_at",
            owner.account_id,
        )
        assert events == [("media.uploaded", asset["id"]), ("media.deleted", asset["id"])]

    async def test_an_asset_a_post_uses_is_409_naming_the_posts(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs, media_dir: Path
    ) -> None:
        asset = await uploaded(client, owner, png())
        posts = [
            sql(
                db,
                "INSERT INTO scheduled_posts (account_id, user_id, content) "
                "VALUES (%s, %s, 'hi') RETURNING id",
                owner.account_id,
                owner.user_id,
            )[0][0]
            for _ in range(2)
        ]
        for position, post in enumerate(posts):
            sql(
                db,
                "INSERT INTO post_media (account_id, post_id, media_asset_id, position) "
                "VALUES (%s, %s, %s, %s)",
                owner.account_id,
                post,
                asset["id"],
                position,
            )
        response = await client.delete(f"/v1/media/{asset['id']}", headers=owner.headers)
        body = problem(response, 409, "media_in_use")
        assert body["post_ids"] == sorted(posts)
        assert len(stored_files(media_dir, owner.account_id)) == 2
        # a deleted post no longer holds it
        sql(db, "UPDATE scheduled_posts SET deleted_at = now() WHERE id = ANY(%s)", posts)
        response = await client.delete(f"/v1/media/{asset['id']}", headers=owner.headers)
        assert response.status_code == 204, response.text


class TestDownload:
    async def test_a_signed_link_downloads_without_signing_in(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        content = png()
        asset = await uploaded(client, owner, content, name="Ünïcode banner.png")
        response = await client.post(
            f"/v1/media/{asset['id']}/download-link",
            json={"expires_in_seconds": 60},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        link = response.json()
        expires_at = dt.datetime.fromisoformat(link["expires_at"])
        assert 55 <= (expires_at - dt.datetime.now(dt.UTC)).total_seconds() <= 61
        url = urllib.parse.urlsplit(link["url"])
        assert url.path == f"/v1/media/{asset['id']}/download"
        got = await client.get(f"{url.path}?{url.query}")
        assert got.status_code == 200, got.text
        assert got.content == content and got.headers["content-type"] == "image/png"
        assert (
            "filename*=UTF-8''%C3%9Cn%C3%AFcode%20banner.png" in got.headers["content-disposition"]
        )
        assert got.headers["x-content-type-options"] == "nosniff"

    async def test_an_altered_or_expired_link_is_403(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        asset = await uploaded(client, owner, png())
        link = (
            await client.post(f"/v1/media/{asset['id']}/download-link", headers=owner.headers)
        ).json()
        url = urllib.parse.urlsplit(link["url"])
        query = dict(urllib.parse.parse_qsl(url.query))
        for change in (
            {"expires": str(int(query["expires"]) + 1)},
            {"variant": "thumbnail"},
            {"signature": "0" * 64},
            {"signature": "°\n"},  # not ASCII: still a 403, never a 500
            {"account_id": str(new_account(db))},
        ):
            altered = await client.get(url.path, params={**query, **change})
            problem(altered, 403, "invalid_download_link")
        other = await uploaded(client, owner, jpeg())
        problem(await client.get(f"/v1/media/{other['id']}/download", params=query), 403)
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        expired = media_links.signed_path(
            TEST_SECRET_KEY,
            account_id=owner.account_id,
            asset_id=uuid.UUID(asset["id"]),
            variant="original",
            expires_at=past,
        )
        problem(await client.get(expired), 403, "download_link_expired")
        partial = {"expires": query["expires"], "signature": query["signature"]}
        problem(await client.get(url.path, params=partial), 403, "invalid_download_link")

    async def test_the_thumbnail_and_a_member_s_download(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        asset = await uploaded(client, owner, png(800, 400))
        thumb = await client.get(
            f"/v1/media/{asset['id']}/download",
            params={"variant": "thumbnail"},
            headers=owner.headers,
        )
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(thumb.content)).size == (400, 200)
        problem(await client.get(f"/v1/media/{asset['id']}/download"), 401)
        document = await uploaded(client, owner, pdf())
        none = await client.get(
            f"/v1/media/{document['id']}/download",
            params={"variant": "thumbnail"},
            headers=owner.headers,
        )
        problem(none, 404, "no_thumbnail")
        viewer = new_member(db, owner.account_id, "viewer")
        ok = await client.get(f"/v1/media/{document['id']}/download", headers=viewer.headers)
        assert ok.status_code == 200 and ok.content == pdf()
