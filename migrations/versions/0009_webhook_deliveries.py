"""Webhook deliveries: one per (endpoint, event), a log of every attempt, the bookkeeping
that disables an endpoint failing for a long run, and the sweep that re-queues deliveries
whose worker died mid-attempt.

Revision ID: 0009_webhook_deliveries
Revises: 0008_event_relay
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from markettina.kernel.db.schema_support import (
    disable_tenant_isolation,
    enable_tenant_isolation,
)

revision: str = "0009_webhook_deliveries"
down_revision: str | None = "0008_event_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# the endpoint's configuration: a change of these is a new version (optimistic locking);
# the delivery counters and failure bookkeeping the worker keeps are not
CONFIGURATION = (
    "name", "description", "url", "secret_encrypted", "events", "is_active", "retry_count",
    "retry_delay_seconds", "deleted_at", "disabled_at", "disabled_reason",
)  # fmt: skip


def _configuration_changed() -> str:
    # one flat OR (not a row comparison): PostgreSQL prints it back the way it was written,
    # so the schema dump in docs/database rebuilds the same trigger
    return " OR ".join(f"(OLD.{c} IS DISTINCT FROM NEW.{c})" for c in CONFIGURATION)


# Deliveries no worker is on: an attempt whose lease ran out (its worker died), or one
# due for longer than p_grace (its job was lost). Every account's, so it runs as the
# owner, from the worker's periodic sweep.
DUE_DELIVERIES = """
CREATE FUNCTION webhook_deliveries_overdue(p_grace interval, p_limit integer)
RETURNS TABLE (account_id uuid, id uuid)
LANGUAGE sql STABLE AS $$
    SELECT d.account_id, d.id FROM webhook_deliveries d
    WHERE (d.status = 'delivering' AND d.next_retry_at < now())
       OR (d.status IN ('pending', 'failed') AND d.next_retry_at < now() - p_grace)
    ORDER BY d.next_retry_at
    LIMIT p_limit
$$;
"""


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
    )
    op.add_column("webhooks", sa.Column("failing_since", sa.DateTime(timezone=True)))
    op.add_column("webhooks", sa.Column("disabled_at", sa.DateTime(timezone=True)))
    op.add_column("webhooks", sa.Column("disabled_reason", sa.Text()))
    op.create_check_constraint(
        op.f("ck_webhooks_consecutive_failures_non_negative"),
        "webhooks",
        "consecutive_failures >= 0",
    )
    op.execute("DROP TRIGGER bump_version ON webhooks")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON webhooks FOR EACH ROW "
        f"WHEN ({_configuration_changed()}) EXECUTE FUNCTION bump_version()"
    )

    op.create_unique_constraint(
        op.f("uq_webhook_deliveries_account_id_webhook_id_event_id"),
        "webhook_deliveries",
        ["account_id", "webhook_id", "event_id"],
    )
    # the sweep also looks for attempts whose lease ran out ('delivering')
    op.drop_index("ix_webhook_deliveries_status_next_retry_at", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_status_next_retry_at",
        "webhook_deliveries",
        ["status", "next_retry_at"],
        postgresql_where=sa.text("status IN ('pending', 'failed', 'delivering')"),
    )

    op.create_table(
        "webhook_attempts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), server_default=sa.text("'delivering'"), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('delivering', 'succeeded', 'failed', 'interrupted')",
            name=op.f("ck_webhook_attempts_outcome"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_webhook_attempts_number_positive")),
        sa.CheckConstraint(
            "response_code BETWEEN 100 AND 599",
            name=op.f("ck_webhook_attempts_response_code_http"),
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0",
            name=op.f("ck_webhook_attempts_response_time_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "delivery_id"],
            ["webhook_deliveries.account_id", "webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_account_id_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_webhook_attempts_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_webhook_attempts")),
        sa.UniqueConstraint(
            "account_id",
            "delivery_id",
            "number",
            name=op.f("uq_webhook_attempts_account_id_delivery_id_number"),
        ),
    )
    enable_tenant_isolation(op.get_bind(), "webhook_attempts")

    op.execute(DUE_DELIVERIES)
    op.execute(
        f"REVOKE EXECUTE ON FUNCTION webhook_deliveries_overdue(interval, integer) "
        f"FROM PUBLIC, {APP_ROLE}"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION webhook_deliveries_overdue(interval, integer)")
    disable_tenant_isolation(op.get_bind(), "webhook_attempts")
    op.drop_table("webhook_attempts")

    op.drop_index("ix_webhook_deliveries_status_next_retry_at", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_status_next_retry_at",
        "webhook_deliveries",
        ["status", "next_retry_at"],
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.drop_constraint(
        op.f("uq_webhook_deliveries_account_id_webhook_id_event_id"),
        "webhook_deliveries",
        type_="unique",
    )

    op.execute("DROP TRIGGER bump_version ON webhooks")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON webhooks "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )
    op.drop_constraint(
        op.f("ck_webhooks_consecutive_failures_non_negative"), "webhooks", type_="check"
    )
    for column in ("disabled_reason", "disabled_at", "failing_since", "consecutive_failures"):
        op.drop_column("webhooks", column)
