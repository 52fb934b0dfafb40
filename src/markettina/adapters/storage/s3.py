"""Media bytes in an S3-compatible bucket (AWS S3, MinIO, R2, ...), through boto3. boto3
blocks, so each call runs in a worker thread."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from markettina.content.media_storage import (
    DownloadRequest,
    StoredObjectMissing,
    content_disposition,
)

CHUNK_BYTES = 64 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Storage:
    provider = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client: Any = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3}),
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.upload_file,
            str(source),
            self.bucket,
            self._key(key),
            ExtraArgs={"ContentType": content_type},
        )

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            found = await asyncio.to_thread(
                self.client.get_object, Bucket=self.bucket, Key=self._key(key)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise StoredObjectMissing(key) from exc
            raise
        body = found["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def signed_url(self, request: DownloadRequest) -> str | None:
        seconds = int((request.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
        params = {
            "Bucket": self.bucket,
            "Key": self._key(request.key),
            "ResponseContentType": request.content_type,
            "ResponseContentDisposition": content_disposition(request.filename),
        }
        url: str = await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params=params,
            ExpiresIn=max(1, seconds),
        )
        return url
