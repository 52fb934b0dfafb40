"""The API's own signed download links, for a store that serves no URL itself (local
disk): ``/v1/media/{id}/download?account_id=..&variant=..&expires=..&signature=..``,
an HMAC-SHA256 of those values with a key derived from the service's secret key. Anyone
holding the link may download until it expires; changing any part of it breaks it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from urllib.parse import urlencode

from .errors import BadDownloadLink

VARIANTS = ("original", "thumbnail")
_PURPOSE = b"markettina.media-download.v1"


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def signature(
    secret_key: str, *, account_id: uuid.UUID, asset_id: uuid.UUID, variant: str, expires: int
) -> str:
    message = f"{account_id}\n{asset_id}\n{variant}\n{expires}".encode()
    return hmac.new(_key(secret_key), message, hashlib.sha256).hexdigest()


def signed_path(
    secret_key: str,
    *,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    variant: str,
    expires_at: dt.datetime,
) -> str:
    expires = int(expires_at.timestamp())
    query = urlencode(
        {
            "account_id": str(account_id),
            "variant": variant,
            "expires": expires,
            "signature": signature(
                secret_key,
                account_id=account_id,
                asset_id=asset_id,
                variant=variant,
                expires=expires,
            ),
        }
    )
    return f"/v1/media/{asset_id}/download?{query}"


def verify(
    secret_key: str,
    *,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    variant: str,
    expires: int,
    given: str,
    now: dt.datetime | None = None,
) -> None:
    """Pass, or 403 ``invalid_download_link``: altered, for another asset, or expired."""
    expected = signature(
        secret_key, account_id=account_id, asset_id=asset_id, variant=variant, expires=expires
    )
    # as bytes: compare_digest refuses text that is not ASCII, and a link can carry any
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise BadDownloadLink("this download link is not valid")
    moment = now or dt.datetime.now(dt.UTC)
    if expires <= moment.timestamp():
        raise BadDownloadLink("this download link has expired", code="download_link_expired")
