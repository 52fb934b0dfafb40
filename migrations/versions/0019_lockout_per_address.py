"""Sign-in lockout per (person, client address), under a cap across all addresses.

A lock on the person alone let anyone who knew an e-mail address lock its owner out. Now
``login_failures`` counts a person's failed sign-ins per client address, and once more
across all of them (``client_address = '*'``), each in a window of the lockout's length:
so many failures from one address lock that address out; many more from all addresses
together lock everyone out. The person's own columns (``users.failed_login_count``,
``users.locked_until``) go.

No tenant (sign-in comes before any account); the app role counts, reads and forgets.
``purge_ended_login_failures()`` (owner only, daily) deletes the rows whose window and
lock have both ended.

Revision ID: 0019_lockout_per_address
Revises: 0018_purge_sign_in_tokens
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_lockout_per_address"
down_revision: str | None = "0018_purge_sign_in_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
PURGE = "purge_ended_login_failures()"

FUNCTION = """
CREATE FUNCTION purge_ended_login_failures() RETURNS bigint
LANGUAGE sql AS $$
    WITH purged AS (
        DELETE FROM login_failures
        WHERE window_ends_at < now() AND (locked_until IS NULL OR locked_until < now())
        RETURNING 1
    )
    SELECT count(*) FROM purged
$$;
"""


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_address", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "failures >= 0", name=op.f("ck_login_failures_failures_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_failures_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "client_address", name=op.f("pk_login_failures")),
    )  # fmt: skip
    op.create_index(op.f("ix_login_failures_window_ends_at"), "login_failures", ["window_ends_at"])
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO {APP_ROLE}")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_login_count")
    op.execute(FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {PURGE} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {PURGE}")
    op.add_column(
        "users",
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f("ix_login_failures_window_ends_at"), table_name="login_failures")
    op.drop_table("login_failures")
