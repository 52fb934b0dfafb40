"""A generic OAuth 2.0 client: authorization code with PKCE (S256, RFC 7636), refresh
(RFC 6749 §6) and a bearer-authenticated profile read, against configurable endpoints.

The platform adapters (Meta, LinkedIn, X, ...) are configurations of this one: endpoints,
scopes, how the client authenticates, and where the profile keeps its fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from markettina.identity.social_ports import GrantRejected, PlatformError, PlatformProfile, TokenSet

ClientAuth = Literal["body", "basic"]
_DETAIL_CHARS = 200  # of a platform's error description kept in our error message


@dataclass(frozen=True)
class ProfileFields:
    """Where the profile reply keeps each field: a key, or a dotted path (``data.id`` for X)."""

    platform_user_id: str = "id"
    display_name: str | None = "name"
    handle: str | None = "username"
    profile_image_url: str | None = "picture"


@dataclass(frozen=True)
class OAuth2Config:
    authorize_url: str
    token_url: str
    profile_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    # "body": client_id/client_secret in the form; "basic": HTTP Basic (RFC 6749 §2.3.1)
    client_auth: ClientAuth = "body"
    profile_fields: ProfileFields = ProfileFields()
    revocation_url: str | None = None  # RFC 7009; None: the platform has none
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: OAuth2Settings) -> OAuth2Config:
        secret = settings.client_secret
        return cls(
            authorize_url=settings.authorize_url,
            token_url=settings.token_url,
            profile_url=settings.profile_url,
            client_id=settings.client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            scopes=tuple(settings.scopes),
            scope_separator=settings.scope_separator,
            client_auth=settings.client_auth,
            profile_fields=ProfileFields(**settings.profile_fields),
            revocation_url=settings.revocation_url,
        )


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class OAuth2Settings(Protocol):
    """The shape of one platform's settings (``Settings.oauth_platforms[name]``), read-only."""

    @property
    def authorize_url(self) -> str: ...
    @property
    def token_url(self) -> str: ...
    @property
    def profile_url(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> _Secret | None: ...
    @property
    def scopes(self) -> Sequence[str]: ...
    @property
    def scope_separator(self) -> str: ...
    @property
    def client_auth(self) -> ClientAuth: ...
    @property
    def profile_fields(self) -> dict[str, str]: ...
    @property
    def revocation_url(self) -> str | None: ...


class OAuth2Platform:
    """Implements identity's ``OAuthPlatform`` port over httpx."""

    def __init__(self, config: OAuth2Config) -> None:
        self.config = config

    @property
    def default_scopes(self) -> Sequence[str]:
        return self.config.scopes

    def authorization_url(
        self, *, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if scopes:
            params["scope"] = self.config.scope_separator.join(scopes)
        parts = urlsplit(self.config.authorize_url)
        query = urlencode([*parse_qsl(parts.query), *params.items()])
        return urlunsplit(parts._replace(query=query))

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def profile(self, access_token: str) -> PlatformProfile:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        response = await self._send("GET", self.config.profile_url, headers=headers)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise GrantRejected("the platform refused the access token for the profile")
        body = _json_object(response, "profile")
        fields = self.config.profile_fields
        user_id = _lookup(body, fields.platform_user_id)
        if user_id is None or str(user_id) == "":
            raise PlatformError(f"the profile reply has no {fields.platform_user_id!r}")
        return PlatformProfile(
            platform_user_id=str(user_id),
            display_name=_text(body, fields.display_name),
            handle=_text(body, fields.handle),
            profile_image_url=_text(body, fields.profile_image_url),
        )

    async def revoke(self, token: str, *, hint: str) -> bool:
        """RFC 7009 §2: 200 whether or not the token was still valid; 503 is worth a retry."""
        if self.config.revocation_url is None:
            return False
        form, auth = self._authenticated({"token": token, "token_type_hint": hint})
        response = await self._send(
            "POST", self.config.revocation_url, data=form, auth=auth,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        if response.status_code == httpx.codes.BAD_REQUEST:
            error = _token_error(response)
            if "unsupported_token_type" in str(error):
                return True  # this platform does not revoke that kind: nothing more to do
            raise error
        if not response.is_success:
            raise PlatformError(f"the revocation endpoint answered {response.status_code}")
        return True

    def _authenticated(self, form: dict[str, str]) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        """The client's credentials, in the form or as HTTP Basic (RFC 6749 §2.3.1)."""
        secret = self.config.client_secret
        if self.config.client_auth == "basic" and secret is not None:
            return form, httpx.BasicAuth(self.config.client_id, secret)
        form = {**form, "client_id": self.config.client_id}
        if secret is not None:
            form["client_secret"] = secret
        return form, None

    async def _token_request(self, form: dict[str, str]) -> TokenSet:
        form, auth = self._authenticated(form)
        response = await self._send(
            "POST",
            self.config.token_url,
            data=form,
            auth=auth,
            headers={"Accept": "application/json"},
        )
        if response.status_code in (httpx.codes.BAD_REQUEST, httpx.codes.UNAUTHORIZED):
            raise _token_error(response)
        body = _json_object(response, "token")
        return self._token_set(body)

    def _token_set(self, body: dict[str, Any]) -> TokenSet:
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise PlatformError("the token reply has no access_token")
        token_type = str(body.get("token_type", "bearer"))
        if token_type.lower() != "bearer":
            raise PlatformError(f"the token reply has token_type {token_type!r}, not bearer")
        expires_at = None
        if body.get("expires_in") is not None:
            try:
                seconds = int(body["expires_in"])
            except (TypeError, ValueError) as exc:
                raise PlatformError("the token reply has a malformed expires_in") from exc
            expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        refresh_token = body.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            refresh_token = None
        scope = body.get("scope")
        scopes = self._split_scopes(scope) if isinstance(scope, str) else ()
        return TokenSet(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scopes=scopes,
        )

    def _split_scopes(self, scope: str) -> tuple[str, ...]:
        separator = self.config.scope_separator.strip() or None  # None: any whitespace
        return tuple(s.strip() for s in scope.split(separator) if s.strip())

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # OAuth calls are rare (connect, a refresh a day): a client per call needs no lifecycle
        try:
            async with httpx.AsyncClient(timeout=self.config.timeout_seconds) as client:
                response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PlatformError(f"the platform could not be reached: {type(exc).__name__}") from exc
        return response


def _token_error(response: httpx.Response) -> PlatformError:
    """RFC 6749 §5.2: ``invalid_grant`` is the grant refused; anything else is ours or theirs."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    message = f"the token endpoint answered {response.status_code} {error or 'without an error'}"
    if description:
        message += f": {description[:_DETAIL_CHARS]}"
    if error == "invalid_grant":
        return GrantRejected(message)
    return PlatformError(message)


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    if not response.is_success:
        raise PlatformError(f"the {what} endpoint answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise PlatformError(f"the {what} reply is not JSON") from exc
    if not isinstance(body, dict):
        raise PlatformError(f"the {what} reply is not a JSON object")
    return body


def _lookup(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(body: dict[str, Any], path: str | None) -> str | None:
    if path is None:
        return None
    value = _lookup(body, path)
    return str(value) if isinstance(value, str | int) and str(value) else None
