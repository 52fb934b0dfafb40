"""Storage adapters for the content context's ``MediaStorage`` port."""

from __future__ import annotations

from markettina.content.media_storage import MediaStorage
from markettina.settings import Settings


def media_storage_from_settings(settings: Settings) -> MediaStorage:
    """S3 when MEDIA_STORAGE=s3 (a bucket is then required); local disk otherwise, under
    MEDIA_DIR or data_dir/media."""
    if settings.media_storage == "s3":
        if not settings.media_s3_bucket:
            raise ValueError("MARKETTINA_MEDIA_S3_BUCKET is required when MEDIA_STORAGE is s3")
        from .s3 import S3Storage  # boto3 loads only where S3 is configured

        return S3Storage(
            bucket=settings.media_s3_bucket,
            prefix=settings.media_s3_prefix,
            region=settings.media_s3_region,
            endpoint_url=settings.media_s3_endpoint_url,
            access_key_id=_secret(settings.media_s3_access_key_id),
            secret_access_key=_secret(settings.media_s3_secret_access_key),
        )
    from .local import LocalDiskStorage

    return LocalDiskStorage(settings.media_dir or settings.data_dir / "media")


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


__all__ = ["media_storage_from_settings"]
