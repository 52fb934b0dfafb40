"""Shared kernel tables: domain events, feature flags, webhooks, rate limits, idempotency, jobs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    NEW_UUID,
    NOW,
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)


class DomainEvent(Base):
    """Append-only event log, partitioned by month on created_at.

    The partition key must be part of the primary key, hence (account_id, id, created_at)
    instead of TenantScoped's (account_id, id).
    """

    __tablename__ = "domain_events"
    __table_args__ = (
        CheckConstraint("aggregate_version >= 0", name="aggregate_version_non_negative"),
        CheckConstraint("event_version >= 1", name="event_version_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # the relay's queue: only unprocessed events are indexed
        Index(
            "ix_domain_events_processed_created_at",
            "processed",
            "created_at",
            postgresql_where=text("NOT processed"),
        ),
        Index(
            "ix_domain_events_account_id_aggregate_type_aggregate_id",
            "account_id",
            "aggregate_type",
            "aggregate_id",
        ),
        # the account's event list, newest first
        Index("ix_domain_events_account_id_created_at_id", "account_id", "created_at", "id"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("accounts.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, server_default=NOW
    )
    aggregate_type: Mapped[str] = mapped_column(Text)
    # text: aggregates have uuid ids, but the v1 ones (leads, scheduled_posts) integer ids
    aggregate_id: Mapped[str] = mapped_column(Text)
    aggregate_version: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(Text)
    # the payload's schema version (the event class's ``version``)
    event_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    event_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    event_metadata: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    processed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the relay's retry bookkeeping: failed runs, when the next may start, the last failure
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class FeatureFlag(Audited, Base):
    """A global default (account_id NULL) or one account's override of it."""

    __tablename__ = "feature_flags"
    __table_args__ = (
        UniqueConstraint("account_id", "feature_name", postgresql_nulls_not_distinct=True),
        CheckConstraint("rollout_percent BETWEEN 0 AND 100", name="rollout_percent_range"),
        # an override is a plain yes or no for its account
        CheckConstraint(
            "account_id IS NULL OR rollout_percent = 100", name="overrides_not_rolled_out"
        ),
        Index("ix_feature_flags_created_by", "created_by"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=NEW_UUID)
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("accounts.id"))
    feature_name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # a global flag that is enabled reaches this share of accounts (a stable bucket each)
    rollout_percent: Mapped[int] = mapped_column(Integer, server_default=text("100"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Webhook(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint("cardinality(events) > 0", name="events_not_empty"),
        CheckConstraint("url ~* '^https?://'", name="url_http"),
        CheckConstraint("retry_count >= 0", name="retry_count_non_negative"),
        CheckConstraint("retry_delay_seconds > 0", name="retry_delay_positive"),
        CheckConstraint(
            "total_deliveries >= 0 AND successful_deliveries >= 0 AND failed_deliveries >= 0",
            name="deliveries_non_negative",
        ),
        CheckConstraint("consecutive_failures >= 0", name="consecutive_failures_non_negative"),
        CheckConstraint(
            "(previous_secret_encrypted IS NULL) = (previous_secret_expires_at IS NULL)",
            name="previous_secret_paired",
        ),
        Index("ix_webhooks_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # the secret before the last rotation: it signs too (a second v1) until it expires
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("3"))
    retry_delay_seconds: Mapped[int] = mapped_column(Integer, server_default=text("60"))
    total_deliveries: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    successful_deliveries: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failed_deliveries: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # failed attempts since the last success, and when that run began: a long run disables
    # the endpoint (is_active false, disabled_at and disabled_reason set)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failing_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", lazy="raise", overlaps="webhook"
    )


class WebhookDelivery(TenantScoped, Created, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        tenant_fk(["webhook_id"], "webhooks", ondelete="CASCADE"),
        # one delivery per endpoint and event: the fan-out may run twice for an event
        UniqueConstraint("account_id", "webhook_id", "event_id"),
        one_of("status", ("pending", "delivering", "succeeded", "failed", "abandoned")),
        CheckConstraint("response_code BETWEEN 100 AND 599", name="response_code_http"),
        CheckConstraint("octet_length(response_body) <= 4096", name="response_body_max_4kb"),
        CheckConstraint("response_time_ms >= 0", name="response_time_non_negative"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index(
            "ix_webhook_deliveries_account_id_webhook_id_created_at",
            "account_id",
            "webhook_id",
            "created_at",
        ),
        Index(
            "ix_webhook_deliveries_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
        # the sweep's queue of overdue (re)tries and expired leases, across accounts
        Index(
            "ix_webhook_deliveries_status_next_retry_at",
            "status",
            "next_retry_at",
            postgresql_where=text("status IN ('pending', 'failed', 'delivering')"),
        ),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(Text)
    # domain_events is partitioned (its key includes created_at), so no foreign key
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # when the next attempt is due; while 'delivering', when the attempt's lease runs out
    next_retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    webhook: Mapped[Webhook] = relationship(
        back_populates="deliveries", lazy="raise", overlaps="deliveries"
    )


class WebhookAttempt(TenantScoped, Base):
    """One POST of a delivery: its outcome, response code, duration and error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        tenant_fk(["delivery_id"], "webhook_deliveries", ondelete="CASCADE"),
        UniqueConstraint("account_id", "delivery_id", "number"),
        one_of("outcome", ("delivering", "succeeded", "failed", "interrupted")),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("response_code BETWEEN 100 AND 599", name="response_code_http"),
        CheckConstraint("response_time_ms >= 0", name="response_time_non_negative"),
    )

    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(Integer)
    # 'interrupted': the worker stopped during the attempt (the next one says how it ended)
    outcome: Mapped[str] = mapped_column(Text, server_default=text("'delivering'"))
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiRateLimit(TenantScoped, Audited, Base):
    """An account's limits on one route group (NULL: the plan's default) and its current
    windows (see kernel/rate_limits)."""

    __tablename__ = "api_rate_limits"
    __table_args__ = (
        UniqueConstraint("account_id", "endpoint"),
        CheckConstraint(
            "limit_per_minute > 0 AND limit_per_hour > 0 AND limit_per_day > 0",
            name="limits_positive",
        ),
        CheckConstraint(
            "current_minute_count >= 0 AND current_hour_count >= 0 AND current_day_count >= 0",
            name="counts_non_negative",
        ),
    )

    endpoint: Mapped[str] = mapped_column(Text)
    limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    limit_per_hour: Mapped[int | None] = mapped_column(Integer)
    limit_per_day: Mapped[int | None] = mapped_column(Integer)
    current_minute_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    current_hour_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    current_day_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    reset_minute_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reset_hour_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reset_day_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AddressRateLimit(Base):
    """Requests from one client address on one group of anonymous routes (sign-in, password
    reset): the current minute and hour windows. No account, so no tenant: the app role
    reaches it only through ``address_rate_limit_take`` (see kernel/rate_limits)."""

    __tablename__ = "address_rate_limits"
    __table_args__ = (
        CheckConstraint("minute_count >= 0 AND hour_count >= 0", name="counts_non_negative"),
        Index("ix_address_rate_limits_hour_reset_at", "hour_reset_at"),
    )

    address: Mapped[str] = mapped_column(Text, primary_key=True)
    endpoint: Mapped[str] = mapped_column(Text, primary_key=True)
    minute_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    minute_reset_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=NOW
    )
    hour_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    hour_reset_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class IdempotencyKey(Base):
    """A request key seen from one account, with the stored response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("status_code BETWEEN 100 AND 599", name="status_code_http"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    endpoint: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str | None] = mapped_column(Text)
    response_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now() + interval '24 hours'")
    )


class AsyncJob(TenantScoped, Created, Base):
    """What a client may poll about background work; the job engine runs it."""

    __tablename__ = "async_jobs"
    __table_args__ = (
        one_of("status", ("pending", "running", "succeeded", "failed", "cancelled")),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent_range"),
        CheckConstraint("priority BETWEEN 1 AND 10", name="priority_range"),
        CheckConstraint("retry_count >= 0 AND max_retries >= 0", name="retries_non_negative"),
        Index("ix_async_jobs_account_id_status_created_at", "account_id", "status", "created_at"),
        Index("ix_async_jobs_account_id_created_at", "account_id", "created_at"),
        Index(
            "ix_async_jobs_account_id_job_type_created_at", "account_id", "job_type", "created_at"
        ),
        Index("ix_async_jobs_created_by", "created_by"),
    )

    job_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    progress_percent: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    input_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_retries: Mapped[int] = mapped_column(Integer, server_default=text("3"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the job queue's job that runs it (procrastinate_jobs.id), cancelled with the row
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
