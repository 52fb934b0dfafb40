"""AI services: generation jobs and their outputs, the brand DNA and the v1 brand settings."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    NOW,
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

HEX_COLOR = "'^#[0-9A-Fa-f]{6}$'"
# Each element of a text[] matches #RRGGBB (NULL elements render as '?' and fail).
HEX_COLOR_LIST = "'^(#[0-9A-Fa-f]{6}(,#[0-9A-Fa-f]{6})*)?$'"

# --- v1 table --------------------------------------------------------------------------------


class BrandSettings(TenantScoped, Audited, Base):
    """The v1 brand profile, kept read-only once 0002 has copied it into brand_dna."""

    __tablename__ = "brand_settings"
    __table_args__ = (
        UniqueConstraint("user_id"),
        CheckConstraint(f"primary_color ~ {HEX_COLOR}", name="primary_color_hex"),
        CheckConstraint(f"secondary_color ~ {HEX_COLOR}", name="secondary_color_hex"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_name: Mapped[str | None] = mapped_column(Text)
    tagline: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tone_of_voice: Mapped[str | None] = mapped_column(Text)
    primary_color: Mapped[str | None] = mapped_column(Text)
    secondary_color: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    font_family: Mapped[str | None] = mapped_column(Text)
    target_audience: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))


# --- v2: jobs and what they generate -----------------------------------------------------------


class AiJob(TenantScoped, Audited, Base):
    __tablename__ = "ai_jobs"
    __table_args__ = (
        # per tenant, never global: one tenant's key must not block another's
        UniqueConstraint("account_id", "idempotency_key"),
        one_of("status", ("pending", "processing", "completed", "failed", "cancelled")),
        CheckConstraint("priority BETWEEN 1 AND 10", name="priority_range"),
        CheckConstraint(
            "retry_count >= 0 AND max_retries >= 0 AND tokens_consumed >= 0",
            name="counters_non_negative",
        ),
        CheckConstraint("completed_at >= started_at", name="completed_after_started"),
        Index("ix_ai_jobs_account_id_status_created_at", "account_id", "status", "created_at"),
        Index("ix_ai_jobs_created_by", "created_by"),
    )

    job_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    input_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_retries: Mapped[int] = mapped_column(Integer, server_default=text("3"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tokens_consumed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(Text)

    logs: Mapped[list[AiJobLog]] = relationship(
        back_populates="job",
        lazy="raise",
        overlaps="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class AiJobLog(TenantScoped, Created, Base):
    __tablename__ = "ai_job_logs"
    __table_args__ = (
        tenant_fk(["job_id"], "ai_jobs", ondelete="CASCADE"),
        one_of("level", ("debug", "info", "warning", "error")),
        Index("ix_ai_job_logs_account_id_job_id", "account_id", "job_id"),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    job: Mapped[AiJob] = relationship(back_populates="logs", lazy="raise", overlaps="logs")


class ContentGeneration(TenantScoped, Audited, Base):
    __tablename__ = "content_generations"
    __table_args__ = (
        tenant_fk(["job_id"], "ai_jobs", ondelete="SET NULL (job_id)"),
        tenant_fk(["used_in_post_id"], "scheduled_posts", ondelete="SET NULL (used_in_post_id)"),
        CheckConstraint("jsonb_typeof(alternatives) = 'array'", name="alternatives_array"),
        CheckConstraint("temperature BETWEEN 0 AND 2", name="temperature_range"),
        CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0 AND total_tokens >= 0",
            name="tokens_non_negative",
        ),
        CheckConstraint("quality_score BETWEEN 0 AND 100", name="quality_score_range"),
        CheckConstraint("user_rating BETWEEN 1 AND 5", name="user_rating_range"),
        Index("ix_content_generations_account_id_job_id", "account_id", "job_id"),
        Index("ix_content_generations_account_id_used_in_post_id", "account_id", "used_in_post_id"),
        Index("ix_content_generations_created_by", "created_by"),
    )

    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    content_type: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    generated_content: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    ai_provider: Mapped[str] = mapped_column(Text)
    ai_model: Mapped[str] = mapped_column(Text)
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    input_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    output_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    user_rating: Mapped[int | None] = mapped_column(Integer)
    user_feedback: Mapped[str | None] = mapped_column(Text)
    was_used: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    used_in_post_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ImageGeneration(TenantScoped, Audited, Base):
    __tablename__ = "image_generations"
    __table_args__ = (
        tenant_fk(["job_id"], "ai_jobs", ondelete="SET NULL (job_id)"),
        tenant_fk(["used_in_post_id"], "scheduled_posts", ondelete="SET NULL (used_in_post_id)"),
        tenant_fk(["media_asset_id"], "media_assets", ondelete="SET NULL (media_asset_id)"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
        CheckConstraint("quality_score BETWEEN 0 AND 100", name="quality_score_range"),
        CheckConstraint("user_rating BETWEEN 1 AND 5", name="user_rating_range"),
        Index("ix_image_generations_account_id_job_id", "account_id", "job_id"),
        Index("ix_image_generations_account_id_used_in_post_id", "account_id", "used_in_post_id"),
        Index("ix_image_generations_account_id_media_asset_id", "account_id", "media_asset_id"),
        Index("ix_image_generations_created_by", "created_by"),
    )

    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    style: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    aspect_ratio: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    ai_provider: Mapped[str] = mapped_column(Text)
    ai_model: Mapped[str] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    user_rating: Mapped[int | None] = mapped_column(Integer)
    was_used: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    used_in_post_id: Mapped[int | None] = mapped_column(Integer)
    media_asset_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class VideoGeneration(TenantScoped, Audited, Base):
    """Rendered asynchronously: the video URL exists only once the render has completed."""

    __tablename__ = "video_generations"
    __table_args__ = (
        tenant_fk(["job_id"], "ai_jobs", ondelete="SET NULL (job_id)"),
        tenant_fk(["used_in_post_id"], "scheduled_posts", ondelete="SET NULL (used_in_post_id)"),
        tenant_fk(["media_asset_id"], "media_assets", ondelete="SET NULL (media_asset_id)"),
        one_of("status", ("pending", "processing", "completed", "failed")),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent_range"),
        CheckConstraint("status <> 'completed' OR video_url IS NOT NULL", name="completed_has_url"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
        CheckConstraint("duration_seconds > 0", name="duration_positive"),
        CheckConstraint("quality_score BETWEEN 0 AND 100", name="quality_score_range"),
        CheckConstraint("user_rating BETWEEN 1 AND 5", name="user_rating_range"),
        Index(
            "ix_video_generations_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
        Index("ix_video_generations_account_id_job_id", "account_id", "job_id"),
        Index("ix_video_generations_account_id_used_in_post_id", "account_id", "used_in_post_id"),
        Index("ix_video_generations_account_id_media_asset_id", "account_id", "media_asset_id"),
        Index("ix_video_generations_created_by", "created_by"),
    )

    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    script: Mapped[str | None] = mapped_column(Text)
    style: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    aspect_ratio: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    video_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    ai_provider: Mapped[str] = mapped_column(Text)
    ai_model: Mapped[str] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    progress_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("0"))
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    user_rating: Mapped[int | None] = mapped_column(Integer)
    was_used: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    used_in_post_id: Mapped[int | None] = mapped_column(Integer)
    media_asset_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# --- v2: the brand DNA ---------------------------------------------------------------------


class BrandDna(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    """The brand profile every generation is conditioned on: exactly one per account."""

    __tablename__ = "brand_dna"
    __table_args__ = (
        UniqueConstraint("account_id"),
        one_of("emoji_usage", ("none", "light", "moderate", "heavy")),
        CheckConstraint(f"primary_color ~ {HEX_COLOR}", name="primary_color_hex"),
        CheckConstraint(f"accent_color ~ {HEX_COLOR}", name="accent_color_hex"),
        CheckConstraint(
            f"array_to_string(secondary_colors, ',', '?') ~ {HEX_COLOR_LIST}",
            name="secondary_colors_hex",
        ),
    )

    company_name: Mapped[str | None] = mapped_column(Text)
    tagline: Mapped[str | None] = mapped_column(Text)
    mission: Mapped[str | None] = mapped_column(Text)
    vision: Mapped[str | None] = mapped_column(Text)
    brand_story: Mapped[str | None] = mapped_column(Text)
    tone_of_voice: Mapped[str | None] = mapped_column(Text)
    writing_style: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    primary_color: Mapped[str | None] = mapped_column(Text)
    secondary_colors: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    accent_color: Mapped[str | None] = mapped_column(Text)
    font_family: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    core_values: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    target_demographics: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    target_psychographics: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    target_industries: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    target_company_sizes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'")
    )
    target_regions: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    # ids of competitor_profiles rows; an array cannot carry a foreign key (checked by the service)
    competitor_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), server_default=text("'{}'")
    )
    usp: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)
    preferred_languages: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    default_hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    cta_templates: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    emoji_usage: Mapped[str] = mapped_column(Text, server_default=text("'light'"))
    ai_persona: Mapped[str | None] = mapped_column(Text)
    forbidden_words: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    typical_customer_journey: Mapped[str | None] = mapped_column(Text)
    pain_points_addressed: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'")
    )

    versions: Mapped[list[BrandDnaVersion]] = relationship(
        back_populates="brand_dna",
        lazy="raise",
        overlaps="brand_dna",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class BrandDnaVersion(TenantScoped, Base):
    """Append-only: one snapshot per change of brand_dna."""

    __tablename__ = "brand_dna_versions"
    __table_args__ = (
        tenant_fk(["brand_dna_id"], "brand_dna", ondelete="CASCADE"),
        UniqueConstraint("account_id", "brand_dna_id", "version_number"),
        CheckConstraint("version_number >= 1", name="version_number_positive"),
        Index("ix_brand_dna_versions_changed_by", "changed_by"),
    )

    brand_dna_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version_number: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    change_summary: Mapped[str | None] = mapped_column(Text)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    changed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=NOW, sort_order=90
    )
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    brand_dna: Mapped[BrandDna] = relationship(
        back_populates="versions", lazy="raise", overlaps="versions"
    )
