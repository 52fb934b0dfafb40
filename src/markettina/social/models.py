"""Social: cross-posting configurations and runs, comments on our posts, mentions of us."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
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
    Audited,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

SENTIMENT_LABELS = ("positive", "neutral", "negative", "mixed")

# The optional references below (SET NULL (col) in the database) name only their own column
# as the foreign key, so un-linking a row in the ORM nulls that column and never account_id,
# which is part of the primary key; the account_id equality still scopes the join.


class CrossPostConfig(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "cross_post_configs"
    __table_args__ = (
        CheckConstraint("cardinality(social_account_ids) > 0", name="social_account_ids_not_empty"),
        CheckConstraint(
            "array_position(social_account_ids, NULL) IS NULL",
            name="social_account_ids_no_nulls",
        ),
        Index(
            "uq_cross_post_configs_account_id_is_default",
            "account_id",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # each must be one of the account's social_accounts: a service rule (no FK on an array)
    social_account_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    auto_adapt_dimensions: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    auto_adapt_caption_length: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    auto_adapt_hashtags: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    auto_adapt_mentions: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    platform_rules: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    cross_posts: Mapped[list[CrossPost]] = relationship(
        primaryjoin="and_(CrossPostConfig.account_id == CrossPost.account_id,"
        " CrossPostConfig.id == CrossPost.config_id)",
        foreign_keys="[CrossPost.config_id]",
        back_populates="config",
        lazy="raise",
        passive_deletes=True,
    )


class CrossPost(TenantScoped, Audited, Base):
    """One publication of a post to several platforms, with each target's outcome."""

    __tablename__ = "cross_posts"
    __table_args__ = (
        tenant_fk(["original_post_id"], "scheduled_posts", ondelete="CASCADE"),
        tenant_fk(["config_id"], "cross_post_configs", ondelete="SET NULL (config_id)"),
        one_of("status", ("pending", "publishing", "completed", "partial", "failed")),
        CheckConstraint("jsonb_typeof(platform_posts) = 'array'", name="platform_posts_array"),
        CheckConstraint(
            "completed_at IS NULL OR status IN ('completed', 'partial', 'failed')",
            name="completed_at_when_finished",
        ),
        Index("ix_cross_posts_account_id_original_post_id", "account_id", "original_post_id"),
        Index("ix_cross_posts_account_id_config_id", "account_id", "config_id"),
        Index("ix_cross_posts_account_id_status_created_at", "account_id", "status", "created_at"),
    )

    original_post_id: Mapped[int] = mapped_column(Integer)
    config_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # one entry per target: platform, social_account_id, adapted content, status,
    # platform_post_id, url, error
    platform_posts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    config: Mapped[CrossPostConfig | None] = relationship(
        primaryjoin="and_(CrossPostConfig.account_id == CrossPost.account_id,"
        " CrossPostConfig.id == CrossPost.config_id)",
        foreign_keys="[CrossPost.config_id]",
        back_populates="cross_posts",
        lazy="raise",
    )


class SocialComment(TenantScoped, Audited, Base):
    """A comment on one of our published posts, and our reply to it."""

    __tablename__ = "social_comments"
    __table_args__ = (
        tenant_fk(["post_id"], "scheduled_posts", ondelete="CASCADE"),
        tenant_fk(
            ["social_account_id"], "social_accounts", ondelete="SET NULL (social_account_id)"
        ),
        tenant_fk(
            ["parent_comment_id"], "social_comments", ondelete="SET NULL (parent_comment_id)"
        ),
        UniqueConstraint("account_id", "platform", "platform_comment_id"),
        one_of("status", ("new", "read", "replied", "hidden", "spam")),
        one_of("sentiment_label", SENTIMENT_LABELS),
        CheckConstraint("parent_comment_id <> id", name="not_own_parent"),
        CheckConstraint("likes_count >= 0 AND replies_count >= 0", name="counts_non_negative"),
        Index("ix_social_comments_account_id_post_id", "account_id", "post_id"),
        Index("ix_social_comments_account_id_social_account_id", "account_id", "social_account_id"),
        Index("ix_social_comments_account_id_parent_comment_id", "account_id", "parent_comment_id"),
        Index(
            "ix_social_comments_account_id_status_created_at", "account_id", "status", "created_at"
        ),
    )

    post_id: Mapped[int] = mapped_column(Integer)
    social_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    platform: Mapped[str] = mapped_column(Text)
    platform_comment_id: Mapped[str] = mapped_column(Text)
    parent_comment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_name: Mapped[str | None] = mapped_column(Text)
    author_handle: Mapped[str | None] = mapped_column(Text)
    author_profile_url: Mapped[str | None] = mapped_column(Text)
    comment_text: Mapped[str] = mapped_column(Text)
    comment_date: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    likes_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    replies_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # the platform's id and text of our reply
    our_reply_id: Mapped[str | None] = mapped_column(Text)
    our_reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    replied_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(Text, server_default=text("'new'"))
    requires_attention: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    sentiment_label: Mapped[str | None] = mapped_column(Text)

    parent: Mapped[SocialComment | None] = relationship(
        primaryjoin="and_(SocialComment.account_id == remote(SocialComment.account_id),"
        " SocialComment.parent_comment_id == remote(SocialComment.id))",
        foreign_keys="[SocialComment.parent_comment_id]",
        back_populates="replies",
        lazy="raise",
    )
    replies: Mapped[list[SocialComment]] = relationship(
        primaryjoin="and_(remote(SocialComment.account_id) == SocialComment.account_id,"
        " remote(SocialComment.parent_comment_id) == SocialComment.id)",
        foreign_keys="[SocialComment.parent_comment_id]",
        back_populates="parent",
        lazy="raise",
        passive_deletes=True,
    )


class SocialMention(TenantScoped, Audited, Base):
    """A post elsewhere that mentions the brand or one of its tracked keywords."""

    __tablename__ = "social_mentions"
    __table_args__ = (
        tenant_fk(["response_post_id"], "scheduled_posts", ondelete="SET NULL (response_post_id)"),
        UniqueConstraint("account_id", "platform", "platform_post_id"),
        one_of("status", ("new", "reviewed", "responded", "ignored")),
        one_of("sentiment_label", SENTIMENT_LABELS),
        CheckConstraint("sentiment_score BETWEEN -1 AND 1", name="sentiment_score_range"),
        CheckConstraint(
            "author_followers >= 0 AND likes_count >= 0 AND comments_count >= 0"
            " AND shares_count >= 0",
            name="counts_non_negative",
        ),
        Index("ix_social_mentions_account_id_response_post_id", "account_id", "response_post_id"),
        Index(
            "ix_social_mentions_account_id_status_created_at", "account_id", "status", "created_at"
        ),
    )

    platform: Mapped[str] = mapped_column(Text)
    platform_post_id: Mapped[str | None] = mapped_column(Text)
    platform_post_url: Mapped[str | None] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(Text)
    author_handle: Mapped[str | None] = mapped_column(Text)
    author_followers: Mapped[int | None] = mapped_column(Integer)
    mention_text: Mapped[str | None] = mapped_column(Text)
    mention_date: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    mention_type: Mapped[str | None] = mapped_column(Text)
    matched_keyword: Mapped[str | None] = mapped_column(Text)
    likes_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    comments_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    shares_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    sentiment_label: Mapped[str | None] = mapped_column(Text)
    sentiment_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    status: Mapped[str] = mapped_column(Text, server_default=text("'new'"))
    response_post_id: Mapped[int | None] = mapped_column(Integer)
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
