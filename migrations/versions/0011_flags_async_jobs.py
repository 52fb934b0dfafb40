"""Feature flags: percentage rollout, staff-only writes of the global defaults, and a NOTIFY
on every change (each process's flag cache listens). Async jobs: the job queue's job id (to
cancel it with the row) and the indexes of the job list.

Revision ID: 0011_flags_async_jobs
Revises: 0010_idempotency_rate_limits
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_flags_async_jobs"
down_revision: str | None = "0010_idempotency_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "nullif(current_setting('app.current_account_id', true), '')::uuid"
# set (transaction-local) only by the staff flag service: global defaults are staff's to write
STAFF = "nullif(current_setting('app.staff_admin_user_id', true), '') IS NOT NULL"

NOTIFY_FUNCTION = """
CREATE FUNCTION notify_feature_flags_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- delivered at commit: every listening process drops its flag cache
    PERFORM pg_notify('markettina_feature_flags', TG_OP);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.add_column(
        "feature_flags",
        sa.Column("rollout_percent", sa.Integer(), server_default=sa.text("100"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_feature_flags_rollout_percent_range"),
        "feature_flags",
        "rollout_percent BETWEEN 0 AND 100",
    )
    op.create_check_constraint(
        op.f("ck_feature_flags_overrides_not_rolled_out"),
        "feature_flags",
        "account_id IS NULL OR rollout_percent = 100",
    )
    # the 0002 policy let an account delete the global rows it could see; now globals are
    # read by everyone and written only in a staff transaction
    op.execute("DROP POLICY tenant_isolation ON feature_flags")
    op.execute(
        f"CREATE POLICY tenant_isolation ON feature_flags "
        f"USING (account_id = {TENANT}) WITH CHECK (account_id = {TENANT})"
    )
    op.execute(
        "CREATE POLICY global_defaults_read ON feature_flags FOR SELECT USING (account_id IS NULL)"
    )
    op.execute(
        f"CREATE POLICY global_defaults_staff_write ON feature_flags "
        f"USING (account_id IS NULL AND {STAFF}) WITH CHECK (account_id IS NULL AND {STAFF})"
    )
    op.execute(NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER feature_flags_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON feature_flags FOR EACH STATEMENT EXECUTE FUNCTION notify_feature_flags_changed()"
    )

    op.add_column("async_jobs", sa.Column("queue_job_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_async_jobs_account_id_created_at", "async_jobs", ["account_id", "created_at"]
    )
    op.create_index(
        "ix_async_jobs_account_id_job_type_created_at",
        "async_jobs",
        ["account_id", "job_type", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_async_jobs_account_id_job_type_created_at", table_name="async_jobs")
    op.drop_index("ix_async_jobs_account_id_created_at", table_name="async_jobs")
    op.drop_column("async_jobs", "queue_job_id")

    op.execute("DROP TRIGGER feature_flags_notify ON feature_flags")
    op.execute("DROP FUNCTION notify_feature_flags_changed()")
    op.execute("DROP POLICY global_defaults_staff_write ON feature_flags")
    op.execute("DROP POLICY global_defaults_read ON feature_flags")
    op.execute("DROP POLICY tenant_isolation ON feature_flags")
    op.execute(
        f"CREATE POLICY tenant_isolation ON feature_flags "
        f"USING (account_id IS NULL OR account_id = {TENANT}) WITH CHECK (account_id = {TENANT})"
    )
    # the overrides' and staff's rows stay; only the rollout goes
    op.drop_constraint(op.f("ck_feature_flags_overrides_not_rolled_out"), "feature_flags")
    op.drop_constraint(op.f("ck_feature_flags_rollout_percent_range"), "feature_flags")
    op.drop_column("feature_flags", "rollout_percent")
