"""The port social accounts are connected through: an OAuth 2.0 platform (authorization code
with PKCE, refresh, the signed-in profile), and the registry the entry points bind at start.

Adapters (markettina.adapters.social) implement ``OAuthPlatform``; identity never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from markettina.kernel.errors import FieldError, ValidationFailed


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint grants. ``refresh_token`` None: keep the one held (many platforms
    do not rotate it); ``scopes`` empty: the platform did not say, keep what was asked for."""

    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # tokens never reach a log through a repr
        return f"TokenSet(expires_at={self.expires_at!r}, scopes={self.scopes!r})"


@dataclass(frozen=True)
class PlatformProfile:
    platform_user_id: str
    display_name: str | None = None
    handle: str | None = None
    profile_image_url: str | None = None


class PlatformError(Exception):
    """The platform failed or answered something unusable (network, 5xx, malformed reply)."""


class GrantRejected(PlatformError):
    """The platform refused the grant itself (OAuth ``invalid_grant``, or a 401 on a token):
    a wrong code or PKCE verifier, an expired or revoked refresh token. Retrying cannot help."""


class OAuthPlatform(Protocol):
    @property
    def default_scopes(self) -> Sequence[str]:
        """The scopes asked for when an account connects."""
        ...

    def authorization_url(
        self, *, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        """Where the person is sent to consent (PKCE method S256)."""
        ...

    async def exchange_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> TokenSet: ...

    async def refresh(self, refresh_token: str) -> TokenSet: ...

    async def profile(self, access_token: str) -> PlatformProfile: ...

    async def revoke(self, token: str, *, hint: str) -> bool:
        """Ask the platform to forget a token (RFC 7009; ``hint``: ``access_token`` or
        ``refresh_token``). False: the platform offers no revocation."""
        ...


class UnknownPlatform(ValidationFailed):
    code = "unknown_platform"

    def __init__(self, name: str, *, field: str = "body.platform") -> None:
        super().__init__(
            f"no platform named {name!r} is configured",
            errors=[FieldError(field, "unknown platform", "unknown_platform")],
        )


# bound by app.py and worker.py at start (and by tests); read through ``platform()``
platforms: dict[str, OAuthPlatform] = {}


def bind_platform(name: str, platform: OAuthPlatform) -> None:
    platforms[name] = platform


def platform(name: str, *, field: str = "body.platform") -> OAuthPlatform:
    try:
        return platforms[name]
    except KeyError:
        raise UnknownPlatform(name, field=field) from None
