"""The columns of the original v2 DDL that 0002 left out or renamed without a reason, back
under their original names (docs/database/differences.md lists every difference that
remains, each with its reason):

- ``user_permissions.created_at`` (rule 5's audit column; existing grants take their
  ``granted_at``, the moment the row was written);
- ``created_by`` (a user, rule 5) on ``promo_codes``, ``image_generations`` and
  ``video_generations``, indexed like every other ``created_by``;
- ``api_rate_limits.reset_minute_at``, ``reset_hour_at`` and ``reset_day_at``, which 0002
  named ``minute_reset_at``, ... PL/pgSQL resolves column names when it runs, so
  ``rate_limit_take`` is replaced with a body that uses the new names (the downgrade puts
  0014's back).

Revision ID: 0022_original_columns
Revises: 0021_price_periods_exclusive
Create Date: 2026-12-02
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0022_original_columns"
down_revision: str | None = "0021_price_periods_exclusive"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED_BY = ("promo_codes", "image_generations", "video_generations")
# (0002's name, the original name)
RESET_COLUMNS = (
    ("minute_reset_at", "reset_minute_at"),
    ("hour_reset_at", "reset_hour_at"),
    ("day_reset_at", "reset_day_at"),
)

# 0014's function, word for word but for the column names
RATE_LIMIT_TAKE = """
CREATE OR REPLACE FUNCTION rate_limit_take(p_account uuid, p_group text, p_defaults jsonb,
                                           p_requests integer)
RETURNS TABLE (granted integer,
               minute_limit integer, minute_used integer, minute_reset_in integer,
               hour_limit integer, hour_used integer, hour_reset_in integer,
               day_limit integer, day_used integer, day_reset_in integer)
LANGUAGE plpgsql AS $$
DECLARE
    r api_rate_limits%ROWTYPE;
    plan jsonb;
    minute_reset timestamptz;
    hour_reset timestamptz;
    day_reset timestamptz;
BEGIN
    IF p_requests IS NULL OR p_requests < 1 THEN
        RAISE EXCEPTION 'rate_limit_take counts at least one request, not %', p_requests;
    END IF;
    PERFORM set_config('app.current_account_id', p_account::text, true);
    -- a count need not wait for the disk: the row's lock is released at once
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO r FROM api_rate_limits l
    WHERE l.account_id = p_account AND l.endpoint = p_group FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO api_rate_limits (account_id, endpoint) VALUES (p_account, p_group)
        ON CONFLICT (account_id, endpoint) DO NOTHING;
        SELECT * INTO r FROM api_rate_limits l
        WHERE l.account_id = p_account AND l.endpoint = p_group FOR UPDATE;
    END IF;
    SELECT p_defaults -> a.plan_tier INTO plan FROM accounts a WHERE a.id = p_account;
    minute_limit := coalesce(r.limit_per_minute, (plan ->> 0)::integer);
    hour_limit := coalesce(r.limit_per_hour, (plan ->> 1)::integer);
    day_limit := coalesce(r.limit_per_day, (plan ->> 2)::integer);
    IF r.reset_minute_at > now() THEN
        minute_used := r.current_minute_count; minute_reset := r.reset_minute_at;
    ELSE
        minute_used := 0; minute_reset := date_trunc('minute', now(), 'UTC') + interval '1 minute';
    END IF;
    IF r.reset_hour_at > now() THEN
        hour_used := r.current_hour_count; hour_reset := r.reset_hour_at;
    ELSE
        hour_used := 0; hour_reset := date_trunc('hour', now(), 'UTC') + interval '1 hour';
    END IF;
    IF r.reset_day_at > now() THEN
        day_used := r.current_day_count; day_reset := r.reset_day_at;
    ELSE
        day_used := 0; day_reset := date_trunc('day', now(), 'UTC') + interval '1 day';
    END IF;
    -- least() ignores NULLs: a window without a limit leaves room for the whole batch
    granted := greatest(0, least(p_requests, minute_limit - minute_used,
                                 hour_limit - hour_used, day_limit - day_used));
    minute_used := minute_used + granted;
    hour_used := hour_used + granted;
    day_used := day_used + granted;
    IF (minute_used, hour_used, day_used, minute_reset, hour_reset, day_reset)
       IS DISTINCT FROM (r.current_minute_count, r.current_hour_count, r.current_day_count,
                         r.reset_minute_at, r.reset_hour_at, r.reset_day_at) THEN
        UPDATE api_rate_limits
        SET current_minute_count = minute_used, reset_minute_at = minute_reset,
            current_hour_count = hour_used, reset_hour_at = hour_reset,
            current_day_count = day_used, reset_day_at = day_reset
        WHERE account_id = p_account AND id = r.id;
    END IF;
    minute_reset_in := ceil(extract(epoch FROM minute_reset - now()))::integer;
    hour_reset_in := ceil(extract(epoch FROM hour_reset - now()))::integer;
    day_reset_in := ceil(extract(epoch FROM day_reset - now()))::integer;
    RETURN NEXT;
END $$;
"""


def _batches_definition() -> str:
    """0014's function (the old column names), which the downgrade puts back."""
    path = Path(__file__).with_name("0014_rate_limit_batches.py")
    spec = importlib.util.spec_from_file_location("markettina_migration_0014", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.RATE_LIMIT_TAKE).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


def upgrade() -> None:
    op.add_column(
        "user_permissions",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.execute("UPDATE user_permissions SET created_at = granted_at")
    for table in CREATED_BY:
        op.add_column(table, sa.Column("created_by", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_created_by_users"),
            table,
            "users",
            ["created_by"],
            ["id"],
            ondelete="SET NULL",
        )
        op.create_index(op.f(f"ix_{table}_created_by"), table, ["created_by"])
    for old, original in RESET_COLUMNS:
        op.alter_column("api_rate_limits", old, new_column_name=original)
    op.execute(RATE_LIMIT_TAKE)


def downgrade() -> None:
    for old, original in RESET_COLUMNS:
        op.alter_column("api_rate_limits", original, new_column_name=old)
    op.execute(_batches_definition())
    for table in CREATED_BY:
        op.drop_index(op.f(f"ix_{table}_created_by"), table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_created_by_users"), table, type_="foreignkey")
        op.drop_column(table, "created_by")
    op.drop_column("user_permissions", "created_at")
