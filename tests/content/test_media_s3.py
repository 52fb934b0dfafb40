"""The S3 adapter against a local S3-compatible server (moto in server mode), through the
real boto3 client: put, read, delete, presigned URLs with the lifetime asked for; and the
API storing an upload there and handing out a presigned download link."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from pydantic import SecretStr

from markettina.adapters.storage.s3 import S3Storage
from markettina.content.media_storage import DownloadRequest, StoredObjectMissing
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client
from tests.support.checks import sql
from tests.support.fake_s3 import ACCESS_KEY, SECRET_KEY, FakeS3, running_s3
from tests.support.identity import Member, new_account, new_member
from tests.support.media import media_app, png


@pytest.fixture(scope="module")
def fake_s3() -> Iterator[FakeS3]:
    with running_s3() as server:
        yield server


@pytest.fixture(scope="module")
def bucket(fake_s3: FakeS3) -> str:
    name = f"media-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=fake_s3.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ).create_bucket(Bucket=name)
    return name


def storage(fake_s3: FakeS3, bucket: str) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        prefix="tenants/",
        endpoint_url=fake_s3.endpoint_url,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )


async def _read(store: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(key)])


class TestS3Storage:
    async def test_put_read_delete(self, fake_s3: FakeS3, bucket: str, tmp_path: Path) -> None:
        store = storage(fake_s3, bucket)
        source = tmp_path / "file"
        content = b"\x89PNG" + bytes(range(256)) * 600  # several read chunks
        source.write_bytes(content)
        await store.put("a/b/original", source, content_type="image/png")
        assert await _read(store, "a/b/original") == content
        head = store.client.head_object(Bucket=bucket, Key="tenants/a/b/original")
        assert head["ContentType"] == "image/png"
        await store.delete("a/b/original")
        with pytest.raises(StoredObjectMissing):
            await _read(store, "a/b/original")
        await store.delete("a/b/original")  # nothing there is no error

    async def test_a_presigned_url_serves_the_file_for_its_lifetime(
        self, fake_s3: FakeS3, bucket: str, tmp_path: Path
    ) -> None:
        store = storage(fake_s3, bucket)
        source = tmp_path / "file"
        source.write_bytes(b"%PDF-1.4 hello")
        await store.put("k/original", source, content_type="application/pdf")
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=600)
        url = await store.signed_url(
            DownloadRequest(
                key="k/original",
                filename="Brochure é.pdf",
                content_type="application/pdf",
                expires_at=soon,
            )
        )
        assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=" in url
        async with httpx.AsyncClient() as http:
            got = await http.get(url)
            assert got.status_code == 200 and got.content == b"%PDF-1.4 hello"
            assert got.headers["content-type"] == "application/pdf"
            assert "filename*=UTF-8''Brochure%20%C3%A9.pdf" in got.headers["content-disposition"]
            tampered = url.replace("k%2Foriginal", "k%2Fother").replace("k/original", "k/other")
            assert (await http.get(tampered)).status_code == 403
        # the lifetime S3 enforces is the one asked for (moto serves expired links too)
        expires = int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])
        assert 595 <= expires <= 600


@pytest.fixture(scope="module")
async def client(
    db: DatabaseURLs, fake_s3: FakeS3, bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    app = media_app(
        db,
        tmp_path_factory.mktemp("unused"),
        media_storage="s3",
        media_s3_bucket=bucket,
        media_s3_endpoint_url=fake_s3.endpoint_url,
        media_s3_access_key_id=SecretStr(ACCESS_KEY),
        media_s3_secret_access_key=SecretStr(SECRET_KEY),
    )
    async with api_client(app) as http:
        yield http


class TestApiOnS3:
    async def test_an_upload_is_stored_in_the_bucket_and_linked_presigned(
        self, client: httpx.AsyncClient, db: DatabaseURLs, fake_s3: FakeS3, bucket: str
    ) -> None:
        owner: Member = new_member(db, new_account(db), "owner")
        content = png(300, 100)
        response = await client.post(
            "/v1/media", files={"file": ("b.png", content)}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        asset = response.json()
        assert asset["storage_provider"] == "s3"
        store = storage(fake_s3, bucket)
        store.prefix = ""
        assert await _read(store, f"{owner.account_id}/{asset['id']}/original") == content
        link = await client.post(
            f"/v1/media/{asset['id']}/download-link",
            json={"variant": "thumbnail"},
            headers=owner.headers,
        )
        url = link.json()["url"]
        assert url.startswith(fake_s3.endpoint_url) and "X-Amz-Signature=" in url
        async with httpx.AsyncClient() as http:
            thumb = await http.get(url)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        # a member may also download through the API
        direct = await client.get(f"/v1/media/{asset['id']}/download", headers=owner.headers)
        assert direct.content == content
        deleted = await client.delete(f"/v1/media/{asset['id']}", headers=owner.headers)
        assert deleted.status_code == 204
        listed = store.client.list_objects_v2(Bucket=bucket, Prefix=f"{owner.account_id}/")
        assert listed.get("KeyCount", 0) == 0
        assert sql(
            db, "SELECT deleted_at IS NOT NULL FROM media_assets WHERE id = %s", asset["id"]
        ) == [(True,)]
