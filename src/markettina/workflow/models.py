"""Workflow: automations with their executions, logs and schedules, and content approvals."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
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
    Audited,
    Created,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)

TRIGGER_TYPES = ("event", "schedule", "manual", "webhook")
LOG_LEVELS = ("debug", "info", "warning", "error")

# --- automations ---------------------------------------------------------------------------


class Workflow(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "workflows"
    __table_args__ = (
        one_of("trigger_type", TRIGGER_TYPES),
        one_of("status", ("draft", "active", "paused", "archived")),
        CheckConstraint("jsonb_typeof(trigger_config) = 'object'", name="trigger_config_object"),
        CheckConstraint("jsonb_typeof(actions) = 'array'", name="actions_array"),
        CheckConstraint(
            "status <> 'active' OR jsonb_array_length(actions) > 0", name="active_has_actions"
        ),
        CheckConstraint(
            "execution_count >= 0 AND success_count >= 0 AND failure_count >= 0",
            name="counters_non_negative",
        ),
        Index("ix_workflows_account_id_status_created_at", "account_id", "status", "created_at"),
        Index("ix_workflows_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    trigger_type: Mapped[str] = mapped_column(Text)
    trigger_config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    actions: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'draft'"))
    execution_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    success_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failure_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_executed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_template: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    template_category: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    executions: Mapped[list[WorkflowExecution]] = relationship(
        back_populates="workflow",
        lazy="raise",
        overlaps="workflow",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    schedules: Mapped[list[WorkflowSchedule]] = relationship(
        back_populates="workflow",
        lazy="raise",
        overlaps="workflow",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class WorkflowExecution(TenantScoped, Audited, Base):
    __tablename__ = "workflow_executions"
    __table_args__ = (
        tenant_fk(["workflow_id"], "workflows", ondelete="CASCADE"),
        one_of("status", ("pending", "running", "waiting", "completed", "failed", "cancelled")),
        one_of("triggered_by", TRIGGER_TYPES),
        CheckConstraint("current_action_index >= 0", name="current_action_index_non_negative"),
        CheckConstraint(
            "status <> 'waiting' OR next_action_at IS NOT NULL", name="waiting_has_next_action_at"
        ),
        CheckConstraint("completed_at >= started_at", name="completed_after_started"),
        Index(
            "ix_workflow_executions_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
        Index("ix_workflow_executions_account_id_workflow_id", "account_id", "workflow_id"),
        Index("ix_workflow_executions_triggered_by_user", "triggered_by_user"),
        # the engine's scan for waiting executions that are due
        Index(
            "ix_workflow_executions_next_action_at",
            "next_action_at",
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    workflow_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    current_action_index: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    current_action_id: Mapped[str | None] = mapped_column(Text)
    trigger_context: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    execution_context: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_action_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_action_id: Mapped[str | None] = mapped_column(Text)
    triggered_by: Mapped[str] = mapped_column(Text)
    triggered_by_user: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    workflow: Mapped[Workflow] = relationship(
        back_populates="executions", lazy="raise", overlaps="executions"
    )
    logs: Mapped[list[WorkflowLog]] = relationship(
        back_populates="execution",
        lazy="raise",
        overlaps="execution",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class WorkflowLog(TenantScoped, Created, Base):
    __tablename__ = "workflow_logs"
    __table_args__ = (
        tenant_fk(["execution_id"], "workflow_executions", ondelete="CASCADE"),
        one_of("level", LOG_LEVELS),
        Index("ix_workflow_logs_account_id_execution_id", "account_id", "execution_id"),
    )

    execution_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action_id: Mapped[str | None] = mapped_column(Text)
    action_type: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    execution: Mapped[WorkflowExecution] = relationship(
        back_populates="logs", lazy="raise", overlaps="logs"
    )


class WorkflowSchedule(TenantScoped, Audited, Base):
    """cron_expression and timezone (an IANA name) are validated by the service."""

    __tablename__ = "workflow_schedules"
    __table_args__ = (
        tenant_fk(["workflow_id"], "workflows", ondelete="CASCADE"),
        CheckConstraint("timezone <> ''", name="timezone_not_empty"),
        CheckConstraint("run_count >= 0", name="run_count_non_negative"),
        Index("ix_workflow_schedules_account_id_workflow_id", "account_id", "workflow_id"),
        # the scheduler's scan for active schedules that are due
        Index(
            "ix_workflow_schedules_next_run_at",
            "next_run_at",
            postgresql_where=text("is_active"),
        ),
    )

    workflow_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    cron_expression: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text, server_default=text("'Europe/Rome'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    run_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    workflow: Mapped[Workflow] = relationship(
        back_populates="schedules", lazy="raise", overlaps="schedules"
    )


# --- content approvals ---------------------------------------------------------------------


class ApprovalWorkflow(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "approval_workflows"
    __table_args__ = (
        # not jsonb_array_length: it raises on a non-array instead of failing the check
        CheckConstraint(
            "jsonb_typeof(steps) = 'array' AND steps <> '[]'::jsonb",
            name="steps_non_empty_array",
        ),
        Index(
            "uq_approval_workflows_default_per_account",
            "account_id",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[Any]] = mapped_column(JSONB)
    content_types: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class ContentApproval(TenantScoped, Audited, Base):
    """One approval process per piece of content (content_id is text: posts have integer ids)."""

    __tablename__ = "content_approvals"
    __table_args__ = (
        tenant_fk(["workflow_id"], "approval_workflows", ondelete="SET NULL (workflow_id)"),
        UniqueConstraint("account_id", "content_type", "content_id"),
        one_of("status", ("pending", "in_review", "approved", "rejected", "cancelled")),
        CheckConstraint("current_step >= 1", name="current_step_positive"),
        CheckConstraint("jsonb_typeof(approvals) = 'array'", name="approvals_array"),
        CheckConstraint(
            "delegation_expires_at IS NULL OR delegated_to IS NOT NULL",
            name="delegation_expiry_needs_delegate",
        ),
        Index(
            "ix_content_approvals_account_id_status_created_at",
            "account_id",
            "status",
            "created_at",
        ),
        Index("ix_content_approvals_account_id_workflow_id", "account_id", "workflow_id"),
        Index("ix_content_approvals_delegated_to", "delegated_to"),
    )

    content_type: Mapped[str] = mapped_column(Text)
    content_id: Mapped[str] = mapped_column(Text)
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    current_step: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    approvals: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    delegated_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delegation_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
