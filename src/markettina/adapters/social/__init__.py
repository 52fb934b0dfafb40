"""Social platforms behind identity's ``OAuthPlatform`` port: one generic OAuth 2.0 client,
configured per platform."""

from __future__ import annotations

from .oauth2 import OAuth2Config, OAuth2Platform, OAuth2Settings, ProfileFields

__all__ = ["OAuth2Config", "OAuth2Platform", "OAuth2Settings", "ProfileFields"]
