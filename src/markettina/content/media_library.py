"""The media library: adding an uploaded file (type sniffed, measured, thumbnailed,
within the quota, stored), reading, listing with filters, describing and deleting assets.

An asset's bytes are stored under ``<account>/<asset>/original`` (its thumbnail beside it,
``thumbnail.webp``) after its row is written in the request's transaction: a failing store
rolls the row back and removes what was stored. Deleting an asset soft-deletes its row and
removes its stored bytes at once (an asset a post still uses is refused, 409)."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.errors import Conflict, FieldError, ValidationFailed
from markettina.kernel.events import record

from .errors import MediaInUse, MediaNotFound
from .events import MediaAssetDeleted, MediaAssetUploaded
from .media_inspection import THUMBNAIL_TYPE, inspect, sniff
from .media_quota import QuotaRules, claim_space
from .media_storage import MediaStorage
from .models import MediaAsset, MediaTag, PostMedia, ScheduledPost
from .upload_receiving import ReceivedUpload

MAX_FILENAME = 255


@dataclass(frozen=True)
class Details:
    alt_text: str | None
    description: str | None
    tags: list[str]


@dataclass(frozen=True)
class UploadRules:
    quota: QuotaRules
    max_image_pixels: int


# --- the list: one statement for the plain read and for every filter --------------------

# constants are written into the statement (keyset.NewestFirst binds no constant)
KIND = case(
    (MediaAsset.mime_type.like(literal_column("'image/%'")), literal_column("'image'")),
    (MediaAsset.mime_type.like(literal_column("'video/%'")), literal_column("'video'")),
    else_=literal_column("'document'"),
)
TAGS = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        literal_column("'tag'"),
                        MediaTag.tag,
                        literal_column("'type'"),
                        MediaTag.tag_type,
                    ),
                    MediaTag.tag,
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .where(MediaTag.account_id == MediaAsset.account_id, MediaTag.media_asset_id == MediaAsset.id)
    .scalar_subquery()
)
_TAG = cast(bindparam("tag", type_=Text), Text)
_KIND = cast(bindparam("kind", type_=Text), Text)
_PATTERN = cast(bindparam("pattern", type_=Text), Text)

LISTED = (
    MediaAsset.id,
    MediaAsset.filename,
    MediaAsset.original_filename,
    MediaAsset.mime_type,
    KIND.label("kind"),
    MediaAsset.file_size_bytes,
    MediaAsset.storage_provider,
    MediaAsset.width,
    MediaAsset.height,
    MediaAsset.duration_seconds,
    MediaAsset.duration_status,
    MediaAsset.thumbnail_path.is_not(None).label("has_thumbnail"),
    MediaAsset.alt_text,
    MediaAsset.description,
    MediaAsset.is_ai_generated,
    MediaAsset.usage_count,
    MediaAsset.last_used_at,
    TAGS.label("tags"),
    MediaAsset.created_at,
    MediaAsset.updated_at,
    MediaAsset.version,
)

LISTED_PAGE = NewestFirst(
    select(*LISTED).where(
        MediaAsset.account_id == bindparam("account_id"),
        MediaAsset.deleted_at.is_(None),
        or_(
            _TAG.is_(None),
            exists().where(
                MediaTag.account_id == MediaAsset.account_id,
                MediaTag.media_asset_id == MediaAsset.id,
                MediaTag.tag == _TAG,
            ),
        ),
        or_(_KIND.is_(None), KIND == _KIND),
        or_(
            _PATTERN.is_(None),
            MediaAsset.filename.op("ILIKE")(_PATTERN),
            MediaAsset.original_filename.op("ILIKE")(_PATTERN),
            MediaAsset.alt_text.op("ILIKE")(_PATTERN),
        ),
    ),
    at=MediaAsset.created_at,
    id_=MediaAsset.id,
)


def listed_of(actor: Any) -> dict[str, Any]:
    """The parameters of the unfiltered page of the acting account's assets."""
    return filtered(actor.account_id)


def filtered(
    account_id: uuid.UUID,
    *,
    tag: str | None = None,
    kind: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    pattern = None
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
    return {"account_id": account_id, "tag": tag, "kind": kind, "pattern": pattern}


# --- one asset ----------------------------------------------------------------------------


async def get_media(
    session: AsyncSession, *, account_id: uuid.UUID, media_id: uuid.UUID
) -> MediaAsset:
    asset = (
        await session.execute(
            select(MediaAsset).where(
                MediaAsset.account_id == account_id,
                MediaAsset.id == media_id,
                MediaAsset.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if asset is None:
        raise MediaNotFound()
    return asset


async def tags_of(
    session: AsyncSession, *, account_id: uuid.UUID, media_id: uuid.UUID
) -> list[MediaTag]:
    found = await session.execute(
        select(MediaTag)
        .where(MediaTag.account_id == account_id, MediaTag.media_asset_id == media_id)
        .order_by(MediaTag.tag)
    )
    return list(found.scalars())


# --- adding -------------------------------------------------------------------------------


async def add_media(
    session: AsyncSession,
    *,
    storage: MediaStorage,
    account_id: uuid.UUID,
    user_id: int | None,
    upload: ReceivedUpload,
    details: Details,
    rules: UploadRules,
) -> MediaAsset:
    mime_type, kind = sniff(upload.head, upload.declared_type)
    found = await inspect(
        upload.path,
        mime_type=mime_type,
        kind=kind,
        max_image_pixels=rules.max_image_pixels,
        thumbnail=upload.path.with_name("thumbnail.webp"),
    )
    await claim_space(session, account_id=account_id, size=upload.size, rules=rules.quota)
    media_id = uuid.uuid4()
    key = f"{account_id}/{media_id}/original"
    thumbnail_key = f"{account_id}/{media_id}/thumbnail.webp" if found.thumbnail else None
    asset = MediaAsset(
        account_id=account_id,
        id=media_id,
        filename=safe_filename(upload.filename),
        original_filename=upload.filename.replace("\x00", "")[:1000],
        mime_type=mime_type,
        file_size_bytes=upload.size,
        storage_provider=storage.provider,
        storage_path=key,
        thumbnail_path=thumbnail_key,
        width=found.width,
        height=found.height,
        duration_seconds=found.duration_seconds,
        duration_status=found.duration_status,
        alt_text=details.alt_text,
        description=details.description,
        created_by=user_id,
    )
    session.add(asset)
    system = found.system_tags
    for tag in dict.fromkeys(system):
        session.add(
            MediaTag(account_id=account_id, media_asset_id=media_id, tag=tag, tag_type="system")
        )
    for tag in dict.fromkeys(details.tags):
        if tag not in system:
            session.add(MediaTag(account_id=account_id, media_asset_id=media_id, tag=tag))
    await session.flush()
    stored: list[str] = []
    try:
        await storage.put(key, upload.path, content_type=mime_type)
        stored.append(key)
        if thumbnail_key is not None and found.thumbnail is not None:
            await storage.put(thumbnail_key, found.thumbnail, content_type=THUMBNAIL_TYPE)
            stored.append(thumbnail_key)
    except BaseException:
        for done in stored:
            await storage.delete(done)
        raise
    await session.refresh(asset)
    await record(
        session,
        MediaAssetUploaded(
            media_asset_id=media_id,
            filename=asset.filename,
            mime_type=mime_type,
            file_size_bytes=upload.size,
            storage_provider=storage.provider,
        ),
        account_id=account_id,
        aggregate_id=media_id,
        aggregate_version=asset.version,
    )
    return asset


def safe_filename(name: str) -> str:
    """The name's last path segment, without control characters, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    return cleaned[:MAX_FILENAME] or "upload"


# --- describing ---------------------------------------------------------------------------


async def update_media(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    media_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
    tags: list[str] | None,
) -> MediaAsset:
    """Change alt text and description, and replace the user tags, if the asset is still at
    ``expected_version``. A changed tag list alone moves the version too."""
    current = await get_media(session, account_id=account_id, media_id=media_id)
    if expected_version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    if not changes and tags is None:
        if current.version != expected_version:
            raise _version_conflict(current.version)
        return current
    updated = (
        await session.execute(
            update(MediaAsset)
            .where(
                MediaAsset.account_id == account_id,
                MediaAsset.id == media_id,
                MediaAsset.deleted_at.is_(None),
                MediaAsset.version == expected_version,
            )
            .values(**changes, updated_at=func.now())
            .returning(MediaAsset)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        raise _version_conflict(current.version)
    if tags is not None:
        await _replace_user_tags(session, account_id=account_id, media_id=media_id, tags=tags)
    return updated


async def _replace_user_tags(
    session: AsyncSession, *, account_id: uuid.UUID, media_id: uuid.UUID, tags: list[str]
) -> None:
    await session.execute(
        delete(MediaTag).where(
            MediaTag.account_id == account_id,
            MediaTag.media_asset_id == media_id,
            MediaTag.tag_type == "user",
        )
    )
    others = set(
        (
            await session.execute(
                select(MediaTag.tag).where(
                    MediaTag.account_id == account_id, MediaTag.media_asset_id == media_id
                )
            )
        ).scalars()
    )
    for tag in dict.fromkeys(tags):
        if tag not in others:
            session.add(MediaTag(account_id=account_id, media_asset_id=media_id, tag=tag))
    await session.flush()


def _version_conflict(current: int) -> Conflict:
    return Conflict(
        f"the asset changed since you read it (now at version {current}); read it again and retry",
        code="version_conflict",
    )


# --- deleting -----------------------------------------------------------------------------


async def delete_media(
    session: AsyncSession,
    *,
    storage: MediaStorage,
    account_id: uuid.UUID,
    media_id: uuid.UUID,
    deleted_by: int | None,
) -> None:
    """Soft-delete the asset and remove its stored bytes; 409 naming the posts (not
    deleted) that still show it."""
    asset = await get_media(session, account_id=account_id, media_id=media_id)
    users = (
        await session.execute(
            select(PostMedia.post_id)
            .join(
                ScheduledPost,
                and_(
                    ScheduledPost.account_id == PostMedia.account_id,
                    ScheduledPost.id == PostMedia.post_id,
                ),
            )
            .where(
                PostMedia.account_id == account_id,
                PostMedia.media_asset_id == media_id,
                ScheduledPost.deleted_at.is_(None),
            )
            .order_by(PostMedia.post_id)
        )
    ).scalars()
    post_ids = list(users)
    if post_ids:
        raise MediaInUse(post_ids)
    await session.execute(
        update(MediaAsset)
        .where(MediaAsset.account_id == account_id, MediaAsset.id == media_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=deleted_by)
        .execution_options(synchronize_session=False)
    )
    await record(
        session,
        MediaAssetDeleted(media_asset_id=media_id, filename=asset.filename),
        account_id=account_id,
        aggregate_id=media_id,
    )
    await session.flush()
    for key in (asset.storage_path, asset.thumbnail_path):
        if key is not None:
            await storage.delete(key)
