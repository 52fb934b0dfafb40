"""HTTP routes of the media library: upload (multipart, streamed), list with filters, read,
describe, delete, signed download links and the download itself."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from markettina.identity.public import Actor, Transaction, plain_read, require
from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.errors import FieldError, NotFound, ValidationFailed
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.inputs import PositiveInt32Param
from markettina.kernel.web.openapi import STATUS_DESCRIPTIONS

from .. import media_library, media_links
from ..errors import BadDownloadLink, MediaNotFound
from ..media_inspection import ALLOWED_TYPES, THUMBNAIL_TYPE
from ..media_library import Details, UploadRules
from ..media_quota import QuotaRules, storage_use
from ..media_storage import (
    DownloadRequest,
    StoredObjectMissing,
    bound_media_storage,
    content_disposition,
)
from ..models import MediaAsset, MediaTag
from ..schemas.media import (
    MAX_TAGS,
    DownloadLinkOut,
    DownloadLinkRequest,
    MediaDetails,
    MediaKind,
    MediaOut,
    MediaStorageUseOut,
    MediaTagOut,
    MediaUpdate,
    Variant,
)
from ..upload_receiving import received_upload, refuse_oversized

router = APIRouter(prefix="/media", tags=["content"])

MediaRead = Annotated[Actor, require("content:read")]
MediaWrite = Annotated[Actor, require("content:write")]

_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": f"One file: {', '.join(ALLOWED_TYPES)}",
                    },
                    "alt_text": {"type": "string", "maxLength": 1000},
                    "description": {"type": "string", "maxLength": 5000},
                    "tags": {
                        "type": "array",
                        "maxItems": MAX_TAGS,
                        "items": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 50,
                            "pattern": "\\S",
                        },
                    },
                },
            }
        }
    },
}
_UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": STATUS_DESCRIPTIONS[400]},
    413: {
        "description": "The file is over MEDIA_MAX_UPLOAD_BYTES (`upload_too_large`) or "
        "would take the account past its storage quota (`media_quota_exceeded`)"
    },
    415: {"description": "Not multipart/form-data, or the file's bytes are of no allowed type"},
}
_DOWNLOAD_TYPES = {
    mime: {"schema": {"type": "string", "format": "binary"}}
    for mime in sorted({*ALLOWED_TYPES, THUMBNAIL_TYPE})
}


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _out(asset: MediaAsset, tags: list[MediaTag]) -> MediaOut:
    kind: MediaKind = "document"
    if asset.mime_type.startswith("image/"):
        kind = "image"
    elif asset.mime_type.startswith("video/"):
        kind = "video"
    return MediaOut(
        id=asset.id,
        filename=asset.filename,
        original_filename=asset.original_filename,
        mime_type=asset.mime_type,
        kind=kind,
        file_size_bytes=asset.file_size_bytes,
        storage_provider=asset.storage_provider,
        width=asset.width,
        height=asset.height,
        duration_seconds=None if asset.duration_seconds is None else float(asset.duration_seconds),
        duration_status=asset.duration_status,  # type: ignore[arg-type]
        has_thumbnail=asset.thumbnail_path is not None,
        alt_text=asset.alt_text,
        description=asset.description,
        is_ai_generated=asset.is_ai_generated,
        usage_count=asset.usage_count,
        last_used_at=asset.last_used_at,
        tags=[MediaTagOut(tag=t.tag, type=t.tag_type) for t in tags],  # type: ignore[arg-type]
        created_at=asset.created_at,
        updated_at=asset.updated_at,
        version=asset.version,
    )


async def _answer(session: Transaction, asset: MediaAsset, response: Response) -> MediaOut:
    tags = await media_library.tags_of(session, account_id=asset.account_id, media_id=asset.id)
    response.headers["ETag"] = f'"{asset.version}"'
    return _out(asset, tags)


def _size_guard(request: Request) -> None:
    """Runs before anything reads the body (the Idempotency-Key claim hashes it): a declared
    length past the limit is 413 now."""
    refuse_oversized(
        request.headers.get("content-length"), max_bytes=_settings(request).media_max_upload_bytes
    )


def _details(fields: dict[str, list[str]]) -> Details:
    raw: dict[str, Any] = {"tags": fields.get("tags", [])}
    for name in ("alt_text", "description"):
        values = fields.get(name, [])
        if len(values) > 1:
            raise ValidationFailed(
                f"send {name} once", errors=[FieldError(f"body.{name}", "sent twice", "duplicate")]
            )
        if values:
            raw[name] = values[0]
    try:
        parsed = MediaDetails.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldError("body." + ".".join(str(p) for p in e["loc"]), e["msg"], e["type"])
            for e in exc.errors()
        ]
        raise ValidationFailed("invalid upload fields", errors=errors) from exc
    return Details(alt_text=parsed.alt_text, description=parsed.description, tags=parsed.tags)


@router.get(
    "/storage",
    response_model=MediaStorageUseOut,
    summary="The account's media storage: bytes used, its quota, the upload limit",
)
async def read_storage_use(
    actor: MediaRead, session: Transaction, request: Request
) -> MediaStorageUseOut:
    settings = _settings(request)
    use = await storage_use(session, account_id=actor.account_id, rules=_quota_rules(settings))
    return MediaStorageUseOut(
        used_bytes=use.used_bytes,
        asset_count=use.asset_count,
        quota_bytes=use.quota_bytes,
        max_upload_bytes=settings.media_max_upload_bytes,
    )


def _quota_rules(settings: Any) -> QuotaRules:
    return QuotaRules(
        by_plan=settings.media_quota_bytes_by_plan, default=settings.media_quota_bytes_default
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaOut,
    summary="Upload a file (multipart/form-data: `file`, and `alt_text`, `description`, "
    "`tags`); its type is read from its bytes",
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=_UPLOAD_PROBLEMS,
    dependencies=[Depends(_size_guard)],
)
async def upload_media(
    request: Request, actor: MediaWrite, session: Transaction, response: Response
) -> MediaOut:
    settings = _settings(request)
    storage = bound_media_storage()
    max_bytes = settings.media_max_upload_bytes
    async with received_upload(
        request.stream(), request.headers.get("content-type"), max_bytes=max_bytes
    ) as upload:
        asset = await media_library.add_media(
            session,
            storage=storage,
            account_id=actor.account_id,
            user_id=actor.user_id,
            upload=upload,
            details=_details(upload.fields),
            rules=UploadRules(
                quota=_quota_rules(settings), max_image_pixels=settings.media_max_image_pixels
            ),
        )
    return await _answer(session, asset, response)


@router.get("", response_model=Page[MediaOut], summary="The library, newest first, filtered")
@plain_read(media_library.LISTED_PAGE, media_library.listed_of)
async def list_media(
    actor: MediaRead,
    session: Transaction,
    tag: Annotated[
        str | None, Query(max_length=50, description="Only assets with this tag (any case).")
    ] = None,
    kind: Annotated[
        MediaKind | None, Query(description="Only images, videos or documents.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the file name or the alt text.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    tag = tag.strip().lower() if tag is not None else None
    params = media_library.filtered(actor.account_id, tag=tag, kind=kind, text=q)
    body = await media_library.LISTED_PAGE.json_page(session, limit=limit, cursor=cursor, **params)
    return Response(body, media_type="application/json")  # the page as PostgreSQL rendered it


@router.get("/{media_id}", response_model=MediaOut, summary="One asset (its version is the ETag)")
async def read_media(
    media_id: uuid.UUID, actor: MediaRead, session: Transaction, response: Response
) -> MediaOut:
    asset = await media_library.get_media(session, account_id=actor.account_id, media_id=media_id)
    return await _answer(session, asset, response)


@router.patch(
    "/{media_id}",
    response_model=MediaOut,
    summary="Describe an asset: alt text, description, user tags (If-Match or body version)",
)
async def update_media(
    media_id: uuid.UUID,
    body: MediaUpdate,
    actor: MediaWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> MediaOut:
    version = version_read(if_match, body.version, "asset")
    asset = await media_library.update_media(
        session,
        account_id=actor.account_id,
        media_id=media_id,
        expected_version=version,
        changes=body.changes(),
        tags=body.tags,
    )
    return await _answer(session, asset, response)


@router.delete(
    "/{media_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an asset and its stored bytes (409 while posts use it, naming them)",
    responses={409: {"description": "Posts still use the asset (`media_in_use`, `post_ids`)"}},
)
async def delete_media(media_id: uuid.UUID, actor: MediaWrite, session: Transaction) -> None:
    await media_library.delete_media(
        session,
        storage=bound_media_storage(),
        account_id=actor.account_id,
        media_id=media_id,
        deleted_by=actor.user_id,
    )


@router.post(
    "/{media_id}/download-link",
    response_model=DownloadLinkOut,
    summary="A download link anyone may use until it expires (no sign-in needed)",
)
async def create_download_link(
    media_id: uuid.UUID,
    actor: MediaRead,
    session: Transaction,
    request: Request,
    body: DownloadLinkRequest | None = None,
) -> DownloadLinkOut:
    settings = _settings(request)
    body = body or DownloadLinkRequest()
    asset = await media_library.get_media(session, account_id=actor.account_id, media_id=media_id)
    key = _key_of(asset, body.variant)
    seconds = body.expires_in_seconds or settings.media_link_seconds
    expires_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=seconds)
    url = await bound_media_storage().signed_url(
        DownloadRequest(
            key=key,
            filename=_download_name(asset, body.variant),
            content_type=_type_of(asset, body.variant),
            expires_at=expires_at,
        )
    )
    if url is None:
        path = media_links.signed_path(
            request.app.state.secrets.secret_key,
            account_id=actor.account_id,
            asset_id=asset.id,
            variant=body.variant,
            expires_at=expires_at,
        )
        url = settings.public_base_url.rstrip("/") + path
    return DownloadLinkOut(url=url, expires_at=expires_at)


@router.get(
    "/{media_id}/download",
    response_class=StreamingResponse,
    summary="The file: with a signed link's `account_id`, `expires` and `signature` anyone "
    "may download it until it expires; without them, a member of the account",
    responses={
        200: {"content": _DOWNLOAD_TYPES, "description": "The stored bytes"},
        401: {"description": STATUS_DESCRIPTIONS[401]},
        403: {
            "description": "The signed link is expired or altered, or the member may not read media"
        },
        429: {"description": STATUS_DESCRIPTIONS[429]},
    },
)
async def download_media(
    media_id: uuid.UUID,
    request: Request,
    session: Transaction,
    variant: Variant = "original",
    account_id: Annotated[uuid.UUID | None, Query(description="Signed links only.")] = None,
    expires: Annotated[
        PositiveInt32Param | None, Query(description="Signed links only (seconds since 1970).")
    ] = None,
    signature: Annotated[
        str | None, Query(max_length=128, description="Signed links only.")
    ] = None,
) -> StreamingResponse:
    if signature is None and account_id is None and expires is None:
        # no link: the caller must be a member (the same admission as every route)
        actor = await _member_reading(request, session)
        asset = await media_library.get_media(
            session, account_id=actor.account_id, media_id=media_id
        )
    else:
        if signature is None or account_id is None or expires is None:
            raise BadDownloadLink("a signed link carries account_id, expires and signature")
        media_links.verify(
            request.app.state.secrets.secret_key,
            account_id=account_id,
            asset_id=media_id,
            variant=variant,
            expires=expires,
            given=signature,
        )
        async with tenant_scope(session, account_id):
            asset = await media_library.get_media(session, account_id=account_id, media_id=media_id)
    key = _key_of(asset, variant)
    chunks = bound_media_storage().read(key)
    try:
        first = await anext(chunks, b"")
    except StoredObjectMissing as exc:
        raise MediaNotFound() from exc
    return StreamingResponse(
        _then(first, chunks),
        media_type=_type_of(asset, variant),
        headers={
            "Content-Disposition": content_disposition(_download_name(asset, variant)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0",
        },
    )


async def _member_reading(request: Request, session: Transaction) -> Actor:
    """The caller admitted as a member holding content:read: the pipeline every guarded
    route runs (credentials from the same headers, rate limit, tenant), called here because
    a signed link needs none of it."""
    admit = require("content:read").dependency
    actor: Actor = await admit(request=request, session=session)
    return actor


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


def _key_of(asset: MediaAsset, variant: str) -> str:
    if variant == "thumbnail":
        if asset.thumbnail_path is None:
            raise NotFound("this asset has no thumbnail", code="no_thumbnail")
        return asset.thumbnail_path
    return asset.storage_path


def _type_of(asset: MediaAsset, variant: str) -> str:
    return THUMBNAIL_TYPE if variant == "thumbnail" else asset.mime_type


def _download_name(asset: MediaAsset, variant: str) -> str:
    if variant == "thumbnail":
        return asset.filename.rsplit(".", 1)[0] + ".thumbnail.webp"
    return asset.filename
