"""Identity: users and staff (global), accounts (the tenants), memberships, API keys,
social accounts and permissions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    NEW_UUID,
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

# --- v1 tables (global) ------------------------------------------------------------------


class User(Audited, Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ("user", "admin")),
        Index("uq_users_email", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text, server_default=text("'user'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailures(Base):
    """A person's failed sign-ins in the current window, from one client address or, where
    ``client_address`` is ``'*'``, from all of them, and the lock they set (see
    identity/lockout.py). No tenant: sign-in comes before any account."""

    __tablename__ = "login_failures"
    __table_args__ = (
        CheckConstraint("failures >= 0", name="failures_non_negative"),
        Index("ix_login_failures_window_ends_at", "window_ends_at"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_address: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    window_ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AdminUser(Audited, Base):
    __tablename__ = "admin_users"
    __table_args__ = (Index("uq_admin_users_email", func.lower(text("email")), unique=True),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    mfa_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    is_superadmin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    sessions: Mapped[list[AdminSession]] = relationship(back_populates="admin_user", lazy="raise")


class AdminSession(Audited, Base):
    __tablename__ = "admin_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    admin_user_id: Mapped[int] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    admin_user: Mapped[AdminUser] = relationship(back_populates="sessions", lazy="raise")


class AdminAuditLog(Created, Base):
    """Append-only: what a staff member did, to what, from where."""

    __tablename__ = "admin_audit_logs"
    __table_args__ = (
        Index("ix_admin_audit_logs_admin_user_id_created_at", "admin_user_id", "created_at"),
        Index("ix_admin_audit_logs_target_type_target_id", "target_type", "target_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    admin_user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(Text)
    target_type: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    ip: Mapped[str | None] = mapped_column(INET)


class OAuthToken(Audited, Base):
    """A user's own login through Google and the like (global: it belongs to the person)."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(Text)
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str | None] = mapped_column(Text)


# --- v2: the tenant and who acts for it -----------------------------------------------------


class Account(Audited, SoftDeleted, Versioned, Base):
    """The tenant. Agencies keep their clients as sub-accounts."""

    __tablename__ = "accounts"
    __table_args__ = (
        one_of("plan_tier", ("free", "starter", "pro", "agency", "enterprise")),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'", name="slug_format"),
        CheckConstraint("parent_account_id <> id", name="not_own_parent"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    plan_tier: Mapped[str] = mapped_column(Text, server_default=text("'free'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    parent_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    # set by staff: the account's tokens and keys stop working at once
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AccountMembership(TenantScoped, Audited, Base):
    __tablename__ = "account_memberships"
    __table_args__ = (
        UniqueConstraint("account_id", "user_id"),
        one_of("role", ("owner", "admin", "editor", "viewer")),
        Index("ix_account_memberships_user_id", "user_id"),
        Index("ix_account_memberships_invited_by", "invited_by"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(Text)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(TenantScoped, Audited, Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("length(prefix) BETWEEN 6 AND 16", name="prefix_length"),
        Index("ix_api_keys_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text, unique=True)
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SocialAccount(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "social_accounts"
    __table_args__ = (
        UniqueConstraint("account_id", "platform", "platform_user_id"),
        one_of("sync_status", ("pending", "syncing", "ok", "error")),
        CheckConstraint(
            "followers_count >= 0 AND following_count >= 0 AND posts_count >= 0",
            name="counts_non_negative",
        ),
        Index("ix_social_accounts_user_id", "user_id"),
        # at most one primary social account per platform in an account
        Index(
            "uq_social_accounts_primary_per_platform",
            "account_id",
            "platform",
            unique=True,
            postgresql_where=text("is_primary AND deleted_at IS NULL"),
        ),
    )

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(Text)
    platform_user_id: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    handle: Mapped[str | None] = mapped_column(Text)
    profile_image_url: Mapped[str | None] = mapped_column(Text)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    token_scope: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    followers_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    following_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    posts_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sync_status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    sync_error: Mapped[str | None] = mapped_column(Text)

    # the database's ON DELETE CASCADE removes the records; the ORM must not blank account_id
    health: Mapped[list[SocialAccountHealth]] = relationship(
        back_populates="social_account",
        lazy="raise",
        overlaps="social_account",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SocialAccountHealth(TenantScoped, Created, Base):
    __tablename__ = "social_account_health"
    __table_args__ = (
        tenant_fk(["social_account_id"], "social_accounts", ondelete="CASCADE"),
        one_of("status", ("healthy", "degraded", "unhealthy", "expired", "revoked")),
        CheckConstraint("consecutive_failures >= 0", name="failures_non_negative"),
        Index(
            "ix_social_account_health_account_id_social_account_id",
            "account_id",
            "social_account_id",
        ),
    )

    social_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text)
    status_message: Mapped[str | None] = mapped_column(Text)
    last_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rate_limit_remaining: Mapped[int | None] = mapped_column(Integer)
    rate_limit_reset_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    social_account: Mapped[SocialAccount] = relationship(
        back_populates="health", lazy="raise", overlaps="health"
    )


class UserPermission(TenantScoped, Created, Base):
    """A grant beyond the member's role, on a resource type or one resource, maybe expiring."""

    __tablename__ = "user_permissions"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "user_id",
            "resource_type",
            "resource_id",
            "permission",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_user_permissions_user_id", "user_id"),
        Index("ix_user_permissions_granted_by", "granted_by"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resource_type: Mapped[str] = mapped_column(Text)
    resource_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    permission: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- v2: sign-in state ----------------------------------------------------------------------


class RefreshToken(Base):
    """One refresh token of a rotation family. A token used twice revokes its whole family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_user_id", "user_id"),
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_session_account_id", "session_account_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # the account the session acts for (a person's token, not tenant data: no RLS)
    session_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(INET)


class UserToken(Created, Base):
    """A one-time link sent by e-mail: verify the address, or reset the password."""

    __tablename__ = "user_tokens"
    __table_args__ = (
        one_of("purpose", ("verify_email", "reset_password")),
        Index("ix_user_tokens_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AccountInvitation(TenantScoped, Created, Base):
    """An invitation to join an account with a role, accepted through a one-time token."""

    __tablename__ = "account_invitations"
    __table_args__ = (
        one_of("role", ("owner", "admin", "editor", "viewer")),
        Index("ix_account_invitations_invited_by", "invited_by"),
        Index("ix_account_invitations_accepted_by", "accepted_by"),
        Index(
            "uq_account_invitations_open_email",
            "account_id",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
