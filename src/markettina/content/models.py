"""Content: marketing and CRM (v1), campaigns, templates, versions, A/B variants, media."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, CHAR, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    Audited,
    Created,
    LegacyTenantScoped,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

_CAMPAIGN_POSTS_JOIN = (
    "and_(Campaign.account_id == ScheduledPost.account_id,"
    " Campaign.id == foreign(ScheduledPost.campaign_id))"
)

# Owned children: removing one from its collection deletes it; deleting the parent is left to
# ON DELETE CASCADE (unloaded collections are not fetched just to be deleted).
_OWNED = "all, delete-orphan"

# --- v1 tables (marketing), now tenant-owned ---------------------------------------------


class Lead(LegacyTenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "leads"
    __table_args__ = (
        # explicit: an implicit key would put the identity column first, giving (id, account_id)
        PrimaryKeyConstraint("account_id", "id"),
        one_of(
            "status",
            ("NEW", "CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "NEGOTIATION", "WON", "LOST"),
        ),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_leads_user_id", "user_id"),
        Index("ix_leads_created_by", "created_by"),
        Index("ix_leads_status", "status"),
        Index("ix_leads_account_id_status_created_at", "account_id", "status", "created_at"),
        # the default list: an account's newest leads, whatever their status
        Index("ix_leads_account_id_created_at", "account_id", "created_at"),
        # --- lead pipeline (0023) ---
        CheckConstraint(
            "email_opens >= 0 AND email_clicks >= 0 AND form_submissions >= 0",
            name="engagement_non_negative",
        ),
        CheckConstraint("jsonb_typeof(score_breakdown) = 'object'", name="score_breakdown_object"),
        CheckConstraint("email = btrim(email) AND email <> ''", name="email_trimmed"),
        Index(
            "uq_leads_account_id_email",
            "account_id",
            "email",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL"),
        ),
        Index("ix_leads_account_id_score", "account_id", "score"),
        Index("ix_leads_tags", "tags", postgresql_using="gin"),
    )

    # Nullable since v1: imported leads may have no known owner.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'NEW'"))
    score: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # --- lead pipeline (0023): where the lead came from, its explained score, engagement ---
    utm_source: Mapped[str | None] = mapped_column(Text)
    utm_medium: Mapped[str | None] = mapped_column(Text)
    utm_campaign: Mapped[str | None] = mapped_column(Text)
    utm_term: Mapped[str | None] = mapped_column(Text)
    utm_content: Mapped[str | None] = mapped_column(Text)
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    scored_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    email_opens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    email_clicks: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    form_submissions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_engaged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EmailCampaign(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "email_campaigns"
    __table_args__ = (
        one_of("status", ("draft", "scheduled", "sending", "sent", "failed", "cancelled")),
        CheckConstraint(
            "sent_count >= 0 AND open_count >= 0 AND click_count >= 0"
            " AND bounce_count >= 0 AND unsubscribe_count >= 0",
            name="counters_non_negative",
        ),
        Index("ix_email_campaigns_user_id", "user_id"),
        Index("ix_email_campaigns_created_by", "created_by"),
        Index("ix_email_campaigns_status_scheduled_at", "status", "scheduled_at"),
        Index(
            "ix_email_campaigns_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'draft'"))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sent_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    open_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    click_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    bounce_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    unsubscribe_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScheduledPost(LegacyTenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "scheduled_posts"
    __table_args__ = (
        # explicit, as on leads: keeps account_id first in the key
        PrimaryKeyConstraint("account_id", "id"),
        tenant_fk(["campaign_id"], "campaigns", ondelete="SET NULL (campaign_id)"),
        one_of(
            "status",
            (
                "draft",
                "pending_approval",
                "scheduled",
                "publishing",
                "published",
                "failed",
                "cancelled",
            ),
        ),
        Index("ix_scheduled_posts_user_id", "user_id"),
        Index("ix_scheduled_posts_created_by", "created_by"),
        Index("ix_scheduled_posts_status_scheduled_at", "status", "scheduled_at"),
        Index(
            "ix_scheduled_posts_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
        Index("ix_scheduled_posts_account_id_campaign_id", "account_id", "campaign_id"),
        # the posts list, newest first (keyset on created_at, id)
        Index("ix_scheduled_posts_account_id_created_at_id", "account_id", "created_at", "id"),
        # the date-range filter
        Index("ix_scheduled_posts_account_id_scheduled_at", "account_id", "scheduled_at"),
        # the publisher's due posts: only the scheduled ones, per account, soonest first
        Index(
            "ix_scheduled_posts_due",
            "account_id",
            "scheduled_at",
            "id",
            postgresql_where=text("status = 'scheduled' AND deleted_at IS NULL"),
        ),
        Index("ix_scheduled_posts_hashtags", "hashtags", postgresql_using="gin"),
        Index("ix_scheduled_posts_search", "search_vector", postgresql_using="gin"),
        # --- recurring posts (h-calendar)
        tenant_fk(["series_id"], "post_series", ondelete="SET NULL (series_id)"),
        CheckConstraint("series_index >= 1", name="series_index_positive"),
        Index(
            "uq_scheduled_posts_account_id_series_id_series_index",
            "account_id",
            "series_id",
            "series_index",
            unique=True,
        ),
    )

    # Nullable since 0023: a post written through an API key has no person behind it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    media_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    platforms: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'draft'"))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ai_generated: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    platform_post_ids: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # the IANA zone the post was scheduled in (scheduled_at itself is an instant)
    timezone: Mapped[str | None] = mapped_column(Text)
    # full-text search in both languages the product speaks (Italian and English)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('italian'::regconfig, content)"
            " || to_tsvector('english'::regconfig, content)",
            persisted=True,
        ),
        deferred=True,
    )
    # --- recurring posts (h-calendar): the series an occurrence belongs to, and its rank
    series_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    series_index: Mapped[int | None] = mapped_column(Integer)

    # Only campaign_id is written through this pair: detaching a post must never null account_id.
    campaign: Mapped[Campaign | None] = relationship(
        back_populates="posts", lazy="raise", primaryjoin=_CAMPAIGN_POSTS_JOIN
    )


class ScheduledPostTarget(Base):
    """A social account a post is published to. ``scheduled_posts.platforms`` is derived
    from these rows (written in the same statement that changes them)."""

    __tablename__ = "scheduled_post_targets"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "post_id", "social_account_id"),
        tenant_fk(["post_id"], "scheduled_posts", ondelete="CASCADE"),
        tenant_fk(["social_account_id"], "social_accounts", ondelete="CASCADE"),
        # the social-account filter, and the cascade from a deleted social account
        Index(
            "ix_scheduled_post_targets_account_id_social_account_id",
            "account_id",
            "social_account_id",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("accounts.id"))
    post_id: Mapped[int] = mapped_column(Integer)
    social_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


class EditorialCalendar(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "editorial_calendars"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="date_range"),
        CheckConstraint("jsonb_typeof(entries) = 'array'", name="entries_array"),
        Index("ix_editorial_calendars_user_id", "user_id"),
        # the calendars list, newest first
        Index("ix_editorial_calendars_account_id_created_at", "account_id", "created_at"),
    )

    # Nullable since 0028_posting_queue: an API key has no person behind it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    entries: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


# --- v1 tables (CRM), now tenant-owned ---------------------------------------------------


class Customer(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("lifetime_value_cents >= 0", name="lifetime_value_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        Index("ix_customers_user_id", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    lifetime_value_cents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=text("'EUR'"))

    # Not "notes": that name is the v1 free-text column above.
    customer_notes: Mapped[list[CustomerNote]] = relationship(
        back_populates="customer",
        lazy="raise",
        overlaps="customer",
        cascade=_OWNED,
        passive_deletes=True,
    )
    interactions: Mapped[list[CustomerInteraction]] = relationship(
        back_populates="customer",
        lazy="raise",
        overlaps="customer",
        cascade=_OWNED,
        passive_deletes=True,
    )


class CustomerNote(TenantScoped, Audited, Base):
    __tablename__ = "customer_notes"
    __table_args__ = (
        tenant_fk(["customer_id"], "customers", ondelete="CASCADE"),
        Index("ix_customer_notes_account_id_customer_id", "account_id", "customer_id"),
        Index("ix_customer_notes_user_id", "user_id"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The author; ownership follows the customer.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(
        back_populates="customer_notes", lazy="raise", overlaps="customer_notes,interactions"
    )


class CustomerInteraction(TenantScoped, Audited, Base):
    __tablename__ = "customer_interactions"
    __table_args__ = (
        tenant_fk(["customer_id"], "customers", ondelete="CASCADE"),
        Index(
            "ix_customer_interactions_account_id_customer_id_occurred_at",
            "account_id",
            "customer_id",
            "occurred_at",
        ),
        Index("ix_customer_interactions_user_id", "user_id"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    interaction_type: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )

    customer: Mapped[Customer] = relationship(
        back_populates="interactions", lazy="raise", overlaps="customer_notes,interactions"
    )


# --- v2: campaigns, templates, versions, A/B variants, media -----------------------------


class Campaign(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        one_of("status", ("planning", "active", "paused", "completed", "archived")),
        CheckConstraint("start_date <= end_date", name="date_range"),
        CheckConstraint(
            "spent_tokens >= 0 AND (budget_tokens IS NULL OR budget_tokens >= 0)",
            name="tokens_non_negative",
        ),
        CheckConstraint(
            "budget_tokens IS NULL OR spent_tokens <= budget_tokens", name="spent_within_budget"
        ),
        CheckConstraint(
            "(target_reach IS NULL OR target_reach >= 0)"
            " AND (target_engagement IS NULL OR target_engagement >= 0)"
            " AND (target_conversions IS NULL OR target_conversions >= 0)"
            " AND (target_leads IS NULL OR target_leads >= 0)",
            name="targets_non_negative",
        ),
        Index("ix_campaigns_account_id_status_created_at", "account_id", "status", "created_at"),
        Index("ix_campaigns_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default=text("'planning'"))
    target_reach: Mapped[int | None] = mapped_column(Integer)
    # A count of interactions, like the analytics "engagement" (the rate is separate there).
    target_engagement: Mapped[int | None] = mapped_column(Integer)
    target_conversions: Mapped[int | None] = mapped_column(Integer)
    target_leads: Mapped[int | None] = mapped_column(Integer)
    budget_tokens: Mapped[int | None] = mapped_column(Integer)
    spent_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    posts: Mapped[list[ScheduledPost]] = relationship(
        back_populates="campaign",
        lazy="raise",
        primaryjoin=_CAMPAIGN_POSTS_JOIN,
        passive_deletes=True,
    )


class ContentTemplate(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "content_templates"
    __table_args__ = (
        CheckConstraint("usage_count >= 0", name="usage_count_non_negative"),
        CheckConstraint("jsonb_typeof(variables) = 'array'", name="variables_array"),
        Index("ix_content_templates_account_id_content_type", "account_id", "content_type"),
        Index("ix_content_templates_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(Text)
    template_content: Mapped[str] = mapped_column(Text)
    variables: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    tone_of_voice: Mapped[str | None] = mapped_column(Text)
    target_audience: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_public: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContentVersion(TenantScoped, Created, Base):
    """Append-only snapshots of any content; content_id is text because posts have int ids."""

    __tablename__ = "content_versions"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "content_type",
            "content_id",
            "version_number",
            name="uq_content_versions_account_id_content_type_content_id_version",
        ),
        CheckConstraint("version_number >= 1", name="version_number_positive"),
        Index("ix_content_versions_created_by", "created_by"),
    )

    content_type: Mapped[str] = mapped_column(Text)
    content_id: Mapped[str] = mapped_column(Text)
    version_number: Mapped[int] = mapped_column(Integer)
    content_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    change_summary: Mapped[str | None] = mapped_column(Text)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContentVariant(TenantScoped, Audited, Base):
    """An A/B variant of any content (polymorphic parent, as in content_versions)."""

    __tablename__ = "content_variants"
    __table_args__ = (
        CheckConstraint("traffic_percent BETWEEN 0 AND 100", name="traffic_percent_range"),
        CheckConstraint(
            "impressions >= 0 AND clicks >= 0 AND conversions >= 0",
            name="counters_non_negative",
        ),
        Index(
            "ix_content_variants_account_id_parent_content",
            "account_id",
            "parent_content_type",
            "parent_content_id",
        ),
        # at most one winner per tested content
        Index(
            "uq_content_variants_winner_per_parent",
            "account_id",
            "parent_content_type",
            "parent_content_id",
            unique=True,
            postgresql_where=text("is_winner"),
        ),
    )

    parent_content_type: Mapped[str] = mapped_column(Text)
    parent_content_id: Mapped[str] = mapped_column(Text)
    variant_name: Mapped[str] = mapped_column(Text)
    variant_content: Mapped[str] = mapped_column(Text)
    traffic_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("0"))
    impressions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    clicks: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    conversions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    engagement_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    is_winner: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class MediaAsset(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "media_assets"
    __table_args__ = (
        CheckConstraint("file_size_bytes >= 0", name="file_size_non_negative"),
        CheckConstraint(
            "(width IS NULL OR width > 0) AND (height IS NULL OR height > 0)",
            name="dimensions_positive",
        ),
        CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0", name="duration_non_negative"
        ),
        CheckConstraint("usage_count >= 0", name="usage_count_non_negative"),
        Index("ix_media_assets_created_by", "created_by"),
        # why a video's duration is or is not known (0023); NULL for other media
        one_of("duration_status", ("measured", "ffprobe_absent", "ffprobe_failed")),
    )

    filename: Mapped[str] = mapped_column(Text)
    original_filename: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(Text)
    file_size_bytes: Mapped[int] = mapped_column(BigInteger)
    storage_provider: Mapped[str] = mapped_column(Text, server_default=text("'local'"))
    storage_path: Mapped[str] = mapped_column(Text)
    public_url: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    is_ai_generated: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    ai_prompt: Mapped[str | None] = mapped_column(Text)
    ai_model: Mapped[str | None] = mapped_column(Text)
    alt_text: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # 0023: the image's thumbnail, stored beside the original (NULL: none)
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    duration_status: Mapped[str | None] = mapped_column(Text)

    tags: Mapped[list[MediaTag]] = relationship(
        back_populates="media_asset",
        lazy="raise",
        overlaps="media_asset",
        cascade=_OWNED,
        passive_deletes=True,
    )


class MediaTag(TenantScoped, Audited, Base):
    __tablename__ = "media_tags"
    __table_args__ = (
        UniqueConstraint("account_id", "media_asset_id", "tag"),
        tenant_fk(["media_asset_id"], "media_assets", ondelete="CASCADE"),
        one_of("tag_type", ("user", "ai", "system")),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
        # "which assets carry this tag" is the library's search
        Index("ix_media_tags_account_id_tag", "account_id", "tag"),
    )

    media_asset_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tag: Mapped[str] = mapped_column(Text)
    tag_type: Mapped[str] = mapped_column(Text, server_default=text("'user'"))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))

    media_asset: Mapped[MediaAsset] = relationship(
        back_populates="tags", lazy="raise", overlaps="tags"
    )


# --- media usage (0023): which posts show which assets, in order -------------------------


class PostMedia(TenantScoped, Created, Base):
    """One asset shown by one post, at ``position`` (0 first). Deleting the post removes
    its links; an asset still linked cannot be deleted (RESTRICT, and 409 in the API)."""

    __tablename__ = "post_media"
    __table_args__ = (
        UniqueConstraint("account_id", "post_id", "media_asset_id"),
        UniqueConstraint("account_id", "post_id", "position"),
        tenant_fk(["post_id"], "scheduled_posts", ondelete="CASCADE"),
        tenant_fk(["media_asset_id"], "media_assets", ondelete="RESTRICT"),
        CheckConstraint("position >= 0", name="position_non_negative"),
        # "which posts use this asset": the delete guard and the usage count
        Index("ix_post_media_account_id_media_asset_id", "account_id", "media_asset_id"),
    )

    post_id: Mapped[int] = mapped_column(Integer)
    media_asset_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)


# --- lead pipeline (0023): status history, scoring weights, CSV imports waiting -----------

LEAD_STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "NEGOTIATION", "WON", "LOST")


class LeadStatusChange(TenantScoped, Created, Base):
    """Append-only: one row per status change of a lead (who, when, from, to)."""

    __tablename__ = "lead_status_changes"
    __table_args__ = (
        tenant_fk(["lead_id"], "leads", ondelete="CASCADE"),
        one_of("from_status", LEAD_STATUSES),
        one_of("to_status", LEAD_STATUSES),
        CheckConstraint("from_status <> to_status", name="changed"),
        one_of("via", ("api", "import")),
        Index(
            "ix_lead_status_changes_account_id_lead_id_created_at",
            "account_id",
            "lead_id",
            "created_at",
        ),
        Index("ix_lead_status_changes_changed_by", "changed_by"),
    )

    lead_id: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(Text, server_default=text("'api'"))


class LeadScoringWeights(TenantScoped, Audited, Versioned, Base):
    """An account's weights of the lead scoring rules (one row per account, once changed)."""

    __tablename__ = "lead_scoring_weights"
    __table_args__ = (
        UniqueConstraint("account_id"),
        CheckConstraint("jsonb_typeof(weights) = 'object'", name="weights_object"),
        Index("ix_lead_scoring_weights_updated_by", "updated_by"),
    )

    weights: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class LeadImport(TenantScoped, Created, Base):
    """An uploaded CSV file waiting for its import job (deleted when the import commits)."""

    __tablename__ = "lead_imports"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(mapping) = 'object'", name="mapping_object"),
        Index("ix_lead_imports_created_by", "created_by"),
    )

    csv_text: Mapped[str] = mapped_column(Text)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# --- posting queue and recurring posts ------------------------------------------------------


class PostingQueue(TenantScoped, Audited, Versioned, Base):
    """A social account's weekly posting slots, read in the queue's own IANA time zone
    (social accounts carry no zone: the queue does, so each channel can post on its
    audience's clock)."""

    __tablename__ = "posting_queues"
    __table_args__ = (
        UniqueConstraint("account_id", "social_account_id"),
        tenant_fk(["social_account_id"], "social_accounts", ondelete="CASCADE"),
        CheckConstraint("length(timezone) BETWEEN 1 AND 64", name="timezone_length"),
    )

    social_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    timezone: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    slots: Mapped[list[PostingSlot]] = relationship(
        back_populates="queue",
        lazy="raise",
        overlaps="queue",
        cascade=_OWNED,
        passive_deletes=True,
        order_by="(PostingSlot.weekday, PostingSlot.local_time)",
    )


class PostingSlot(TenantScoped, Base):
    """One weekly slot: ISO weekday (1 = Monday) and local time, in the queue's zone."""

    __tablename__ = "posting_slots"
    __table_args__ = (
        UniqueConstraint("account_id", "queue_id", "weekday", "local_time"),
        tenant_fk(["queue_id"], "posting_queues", ondelete="CASCADE"),
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
    )

    queue_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    local_time: Mapped[dt.time] = mapped_column(Time)

    queue: Mapped[PostingQueue] = relationship(
        back_populates="slots", lazy="raise", overlaps="slots"
    )


class PostSeries(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    """A recurring post: the rule its occurrences were made from and the content they share.
    Each occurrence is a scheduled_posts row naming the series and its rank."""

    __tablename__ = "post_series"
    __table_args__ = (
        tenant_fk(["campaign_id"], "campaigns", ondelete="SET NULL (campaign_id)"),
        one_of("frequency", ("daily", "weekly")),
        CheckConstraint("every BETWEEN 1 AND 366", name="every_range"),
        CheckConstraint("(until IS NULL) <> (occurrences IS NULL)", name="ends_by_date_or_count"),
        CheckConstraint("occurrences BETWEEN 1 AND 366", name="occurrences_range"),
        CheckConstraint("until IS NULL OR until >= starts_on", name="until_after_start"),
        CheckConstraint("weekdays <@ ARRAY[1,2,3,4,5,6,7]::smallint[]", name="weekdays_iso"),
        CheckConstraint("cardinality(social_account_ids) >= 1", name="targets_present"),
        Index("ix_post_series_created_by", "created_by"),
    )

    content: Mapped[str] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    social_account_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    timezone: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    local_time: Mapped[dt.time] = mapped_column(Time)
    frequency: Mapped[str] = mapped_column(Text)
    every: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), server_default=text("'{}'"))
    until: Mapped[dt.date | None] = mapped_column(Date)
    occurrences: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
