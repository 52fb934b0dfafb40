"""Who is calling, and for which account: resolved once per request, then frozen into an
``Actor`` the services receive. The tenant is set only once the caller is verified and
allowed to act for the account."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, or_, select, text, update

from markettina.kernel.db.raw import CompiledQuery
from markettina.kernel.errors import FieldError, Forbidden, NotFound, Unauthorized, ValidationFailed
from markettina.kernel.security import TokenError, api_key_prefix, read_token, same_digest

from .models import ApiKey
from .permissions import ROLE_PERMISSIONS, Grant, Resource, authorize

ACCESS_AUDIENCE = "markettina-api"
API_KEY_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "api_key"
    home_account_id: uuid.UUID
    user_id: int | None = None
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None  # an API key's scopes; None for a person
    session_family: uuid.UUID | None = None


@dataclass(frozen=True)
class Actor:
    """The principal acting for one account, with what it may do there."""

    principal: Principal
    account_id: uuid.UUID
    role: str | None
    permissions: frozenset[str]
    grants: tuple[Grant, ...] = field(default=())

    @property
    def user_id(self) -> int | None:
        return self.principal.user_id

    def authorize(self, permission: str, resource: Resource | None = None) -> None:
        authorize(self.permissions, self.grants, permission, resource)


@dataclass(frozen=True)
class Credentials:
    bearer: str | None
    api_key: str | None
    account_header: str | None


def read_credentials(
    authorization: str | None, api_key: str | None, account: str | None
) -> Credentials:
    bearer = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
        elif scheme.lower() == "apikey" and value.strip():
            api_key = value.strip()
        else:
            raise Unauthorized(
                "the Authorization header must be `Bearer <token>` or `ApiKey <key>`"
            )
    return Credentials(bearer=bearer, api_key=api_key, account_header=account)


def principal_from_token(token: str, secret: str) -> Principal:
    """Only the token's own claims; the database checks come in one look-up later."""
    try:
        claims = read_token(token, secret=secret, audience=ACCESS_AUDIENCE)
    except TokenError as exc:
        raise Unauthorized(str(exc), code="invalid_token") from exc
    if claims.extra.get("typ") != "access":
        raise Unauthorized("not an access token", code="invalid_token")
    try:
        user_id = int(claims.subject)
        account_id = uuid.UUID(str(claims.extra["acc"]))
        family = uuid.UUID(str(claims.extra["fam"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("the token is not valid", code="invalid_token") from exc
    return Principal(kind="user", home_account_id=account_id, user_id=user_id,
                     session_family=family)  # fmt: skip


_USER_CONTEXT = CompiledQuery(
    text("SELECT * FROM identity_user_context(:user_id, :family, :home, :acting)")
)


def user_context(principal: Principal, acting: uuid.UUID) -> tuple[CompiledQuery, dict[str, Any]]:
    """The one look-up of a person's request (its row goes to ``user_actor``). It runs as
    no tenant: the tenant is set once ``user_actor`` has accepted the request."""
    assert principal.user_id is not None
    return _USER_CONTEXT, {
        "user_id": principal.user_id,
        "family": principal.session_family,
        "home": principal.home_account_id,
        "acting": acting,
    }


def user_actor(principal: Principal, acting: uuid.UUID, row: Any) -> Actor:
    """The person acting for ``acting``, from the row of ``user_context``; anything doubtful
    is refused (401, 403 or 404, as the HTTP API documents)."""
    if not row.user_active:
        raise Unauthorized("the user no longer exists or is disabled", code="invalid_token")
    if not row.session_live:
        raise Unauthorized("the session has ended; sign in again", code="session_revoked")
    if not row.home_found:
        raise Unauthorized("the account no longer exists", code="invalid_token")
    if row.home_suspended:  # a suspended account's tokens stop at once
        raise Forbidden("the account is suspended", code="account_suspended")
    if not row.acting_found:
        raise NotFound("no such account", code="account_not_found")
    role = row.own_role
    if role is None and row.parent_role is not None:
        if row.parent_suspended:
            raise Forbidden("the agency account is suspended", code="account_suspended")
        role = row.parent_role
    if role is None and acting == principal.home_account_id:
        raise Unauthorized("you are no longer a member of this account", code="invalid_token")
    if role is None:
        raise NotFound("no such account", code="account_not_found")
    if row.acting_suspended:
        raise Forbidden("the account is suspended", code="account_suspended")
    grants = tuple(
        Grant(permission, resource_type, resource_id)
        for permission, resource_type, resource_id in zip(
            row.grant_permissions, row.grant_resource_types, row.grant_resource_ids, strict=True
        )
    )
    return Actor(principal=principal, account_id=acting, role=role,
                 permissions=ROLE_PERMISSIONS[role], grants=grants)  # fmt: skip


_ACCOUNT_ID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def account_from_header(value: str) -> uuid.UUID:
    """The account id ``X-Account-Id`` names, in the hyphenated form the API documents
    (an empty header, braces or bare hex are refused, not read as no header)."""
    if not _ACCOUNT_ID.fullmatch(value):
        raise ValidationFailed(
            "X-Account-Id must be an account id",
            errors=[FieldError("header.X-Account-Id", "not a valid UUID", "uuid_parsing")],
        )
    return uuid.UUID(value)


_KEY_CONTEXT = CompiledQuery(
    text(
        "SELECT k.*, a.id IS NOT NULL AS acting_found, a.parent_account_id AS acting_parent, "
        "coalesce(a.suspended_at IS NOT NULL OR NOT a.is_active, false) AS acting_suspended "
        "FROM identity_api_key(:prefix) AS k "
        "LEFT JOIN accounts a ON a.id = coalesce(:acting, k.account_id) AND a.deleted_at IS NULL"
    )
)


def key_context(prefix: str, acting: uuid.UUID | None) -> tuple[CompiledQuery, dict[str, Any]]:
    """The one look-up of a request with an API key (its rows go to ``key_actor``): the key
    by its prefix and the account it acts for (``acting``, or the key's own when None). It
    runs as no tenant: the tenant is set once ``key_actor`` has accepted the key."""
    return _KEY_CONTEXT, {"prefix": prefix, "acting": acting}


def key_actor(key: str, acting: uuid.UUID | None, rows: list[Any]) -> Actor:
    """The API key acting for ``acting`` (None: its own account), from the rows of
    ``key_context``; anything doubtful is refused. A key acts for its account and that
    account's sub-accounts, within its scopes."""
    row = rows[0] if rows else None
    if row is None or not same_digest(key, row.key_hash):
        raise Unauthorized("the API key is not valid", code="invalid_api_key")
    if row.revoked_at is not None:
        raise Unauthorized("the API key has been revoked", code="invalid_api_key")
    if row.expires_at is not None and row.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthorized("the API key has expired", code="invalid_api_key")
    if row.deleted:
        raise Unauthorized("the account no longer exists", code="invalid_api_key")
    if row.suspended:  # a suspended account's keys stop at once
        raise Forbidden("the account is suspended", code="account_suspended")
    home = row.account_id
    if (
        acting is not None
        and acting != home
        and (not row.acting_found or row.acting_parent != home)
    ):
        raise NotFound("no such account", code="account_not_found")
    if row.acting_suspended:
        raise Forbidden("the account is suspended", code="account_suspended")
    principal = Principal(
        kind="api_key", home_account_id=home, api_key_id=row.id, scopes=frozenset(row.scopes)
    )
    return Actor(principal=principal, account_id=acting or home, role=None,
                 permissions=principal.scopes or frozenset())  # fmt: skip


def api_key_prefix_of(key: str) -> str:
    """The visible prefix of a key as sent; a key of the wrong shape is refused."""
    prefix = api_key_prefix(key)
    if prefix is None:
        raise Unauthorized("the API key is not valid", code="invalid_api_key")
    return prefix


_TOUCH_DUE = (
    select(ApiKey.id)
    .where(
        ApiKey.account_id == bindparam("account"),
        ApiKey.id == bindparam("key_id"),
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < bindparam("cutoff")),
    )
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_TOUCH = CompiledQuery(
    update(ApiKey)
    .where(ApiKey.account_id == bindparam("account"), ApiKey.id == _TOUCH_DUE)
    .values(last_used_at=bindparam("now"))
)


def key_touch(key_id: uuid.UUID, account: uuid.UUID) -> tuple[CompiledQuery, dict[str, Any]]:
    """Record a key's use at most once a minute (a write per request would cost more than
    it tells); a key row another request is touching right now is skipped, never waited
    for. Runs with the tenant set to the key's own account."""
    now = dt.datetime.now(dt.UTC)
    return _TOUCH, {
        "account": account, "key_id": key_id, "now": now, "cutoff": now - API_KEY_TOUCH_INTERVAL
    }  # fmt: skip
