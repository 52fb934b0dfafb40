"""Analytics: tracking events, post metrics, sentiment, competitors and performance predictions."""

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
from sqlalchemy.dialects.postgresql import ARRAY, CHAR, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

SENTIMENT_LABELS = ("positive", "neutral", "negative", "mixed")

# --- v1 table in its v2 form --------------------------------------------------------------


class AnalyticsEvent(TenantScoped, Base):
    """High-volume tracking; keeps its v1 occurred_at instead of the audit columns."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        Index("ix_analytics_events_event_name_occurred_at", "event_name", "occurred_at"),
        Index("ix_analytics_events_account_id_occurred_at", "account_id", "occurred_at"),
    )

    event_name: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


# --- v2: post performance -----------------------------------------------------------------


class SocialMetric(TenantScoped, Created, Base):
    """One measurement of one post on one platform (a time series: new rows, no updates)."""

    __tablename__ = "social_metrics"
    __table_args__ = (
        tenant_fk(["post_id"], "scheduled_posts", ondelete="CASCADE"),
        # also serves the composite FK on (account_id, post_id)
        UniqueConstraint("account_id", "post_id", "platform", "measured_at"),
        CheckConstraint(
            "impressions >= 0 AND reach >= 0 AND engagement_count >= 0 AND likes >= 0"
            " AND comments >= 0 AND shares >= 0 AND saves >= 0 AND clicks >= 0"
            " AND video_views >= 0 AND conversions >= 0 AND conversion_value_cents >= 0",
            name="counts_non_negative",
        ),
        CheckConstraint(
            "engagement_rate >= 0 AND click_through_rate >= 0", name="rates_non_negative"
        ),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        Index("ix_social_metrics_account_id_measured_at", "account_id", "measured_at"),
    )

    post_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(Text)
    platform_post_id: Mapped[str | None] = mapped_column(Text)
    impressions: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    reach: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    engagement_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    likes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    comments: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    shares: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    saves: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    clicks: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    video_views: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # rates are fractions (0.0345 = 3.45 %); engagement can exceed reach, so no upper bound
    engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    click_through_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    conversions: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # schema.md's conversion_value, as money per rule 9
    conversion_value_cents: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=text("'EUR'"))
    measured_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SentimentAnalysis(TenantScoped, Created, Base):
    """The sentiment of one comment on a post, as an AI model judged it."""

    __tablename__ = "sentiment_analysis"
    __table_args__ = (
        tenant_fk(["post_id"], "scheduled_posts", ondelete="CASCADE"),
        one_of("sentiment_label", SENTIMENT_LABELS),
        CheckConstraint("sentiment_score BETWEEN -1 AND 1", name="sentiment_score_range"),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
        Index("ix_sentiment_analysis_account_id_post_id", "account_id", "post_id"),
    )

    post_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(Text)
    # the platform's id of the comment (the row keeps the comment's text, author and date)
    comment_id: Mapped[str | None] = mapped_column(Text)
    comment_text: Mapped[str | None] = mapped_column(Text)
    comment_author: Mapped[str | None] = mapped_column(Text)
    comment_date: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sentiment_score: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    sentiment_label: Mapped[str] = mapped_column(Text)
    confidence: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    emotions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    ai_model: Mapped[str | None] = mapped_column(Text)
    analyzed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


# --- v2: competitors ------------------------------------------------------------------------


class CompetitorProfile(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "competitor_profiles"

    name: Mapped[str] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    social_handles: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    industry: Mapped[str | None] = mapped_column(Text)
    company_size: Mapped[str | None] = mapped_column(Text)
    track_social: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    track_content: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    track_seo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    metrics: Mapped[list[CompetitorMetric]] = relationship(
        back_populates="competitor", lazy="raise", overlaps="competitor", passive_deletes=True
    )


class CompetitorMetric(TenantScoped, Created, Base):
    """One measurement of a competitor on one platform, next to our own numbers at that time."""

    __tablename__ = "competitor_metrics"
    __table_args__ = (
        tenant_fk(["competitor_id"], "competitor_profiles", ondelete="CASCADE"),
        CheckConstraint(
            "followers_count >= 0 AND following_count >= 0 AND posts_count >= 0"
            " AND our_followers_count >= 0",
            name="counts_non_negative",
        ),
        CheckConstraint(
            "avg_engagement_rate >= 0 AND our_avg_engagement_rate >= 0"
            " AND posting_frequency >= 0 AND our_posting_frequency >= 0",
            name="rates_non_negative",
        ),
        Index("ix_competitor_metrics_account_id_competitor_id", "account_id", "competitor_id"),
    )

    competitor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    platform: Mapped[str] = mapped_column(Text)
    followers_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    following_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    posts_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    avg_engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    # posts per week
    posting_frequency: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    top_hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    content_themes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    posting_times: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    our_followers_count: Mapped[int | None] = mapped_column(BigInteger)
    our_avg_engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    our_posting_frequency: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    measured_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )

    competitor: Mapped[CompetitorProfile] = relationship(
        back_populates="metrics", lazy="raise", overlaps="metrics"
    )


# --- v2: predictions ------------------------------------------------------------------------


class PerformancePrediction(TenantScoped, Created, Base):
    __tablename__ = "performance_predictions"
    __table_args__ = (
        CheckConstraint(
            "confidence_interval_low <= confidence_interval_high", name="interval_ordered"
        ),
        CheckConstraint(
            "predicted_value >= confidence_interval_low"
            " AND predicted_value <= confidence_interval_high",
            name="value_within_interval",
        ),
        CheckConstraint("confidence_level > 0 AND confidence_level < 1", name="confidence_range"),
        CheckConstraint("valid_from <= valid_to", name="validity_ordered"),
        Index(
            "ix_performance_predictions_account_id_content_type_content_id",
            "account_id",
            "content_type",
            "content_id",
        ),
    )

    prediction_type: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    # text, because predicted content has integer ids (scheduled_posts) or uuids (the rest)
    content_id: Mapped[str | None] = mapped_column(Text)
    predicted_value: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    confidence_interval_low: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    confidence_interval_high: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    # e.g. 0.95 for a 95 % interval
    confidence_level: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    factors: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    recommendations: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    ai_model: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReadModelRefresh(Base):
    """When each read model (materialized view) was last refreshed, how long that took and
    how many rows it holds. Global: the views span every account."""

    __tablename__ = "read_model_refreshes"
    __table_args__ = (CheckConstraint("duration_ms >= 0 AND rows >= 0", name="non_negative"),)

    view_name: Mapped[str] = mapped_column(Text, primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger)
