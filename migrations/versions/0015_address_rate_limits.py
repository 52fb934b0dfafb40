"""Rate limits per client address on the anonymous routes (sign-in, registration, password
reset, staff sign-in), where there is no account to count against: an address gets a
number of attempts per minute and per hour on each group, whoever it claims to be.

The table has no tenant; the app role has no privilege on it and counts through
``address_rate_limit_take`` (SECURITY DEFINER), which answers in the shape of
``rate_limit_take`` (the day window left empty) so both are read by the same code. Counts
commit without waiting for the disk, as account counts do. A daily job purges the rows of
addresses not seen for a day.

Revision ID: 0015_address_rate_limits
Revises: 0014_rate_limit_batches
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_address_rate_limits"
down_revision: str | None = "0014_rate_limit_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

FUNCTIONS = """
-- p_requests requests from an address on a route group: the first `granted` are counted
-- (as many as the minute and the hour have room for), the rest are refused, not counted.
CREATE FUNCTION address_rate_limit_take(p_address text, p_group text, p_per_minute integer,
                                        p_per_hour integer, p_requests integer)
RETURNS TABLE (granted integer,
               minute_limit integer, minute_used integer, minute_reset_in integer,
               hour_limit integer, hour_used integer, hour_reset_in integer,
               day_limit integer, day_used integer, day_reset_in integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r address_rate_limits%ROWTYPE;
BEGIN
    IF p_requests IS NULL OR p_requests < 1 THEN
        RAISE EXCEPTION 'address_rate_limit_take counts at least one request, not %', p_requests;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    -- one write per call: the row is created (without counts) only the first time
    INSERT INTO address_rate_limits (address, endpoint) VALUES (p_address, p_group)
    ON CONFLICT (address, endpoint) DO NOTHING;
    SELECT * INTO r FROM address_rate_limits l
    WHERE l.address = p_address AND l.endpoint = p_group FOR UPDATE;
    IF r.minute_reset_at <= now() THEN
        r.minute_count := 0;
        r.minute_reset_at := date_trunc('minute', now(), 'UTC') + interval '1 minute';
    END IF;
    IF r.hour_reset_at <= now() THEN
        r.hour_count := 0;
        r.hour_reset_at := date_trunc('hour', now(), 'UTC') + interval '1 hour';
    END IF;
    minute_limit := p_per_minute;
    hour_limit := p_per_hour;
    granted := greatest(0, least(p_requests, minute_limit - r.minute_count,
                                 hour_limit - r.hour_count));
    minute_used := r.minute_count + granted;
    hour_used := r.hour_count + granted;
    UPDATE address_rate_limits
    SET minute_count = minute_used, minute_reset_at = r.minute_reset_at,
        hour_count = hour_used, hour_reset_at = r.hour_reset_at
    WHERE address = p_address AND endpoint = p_group;
    minute_reset_in := ceil(extract(epoch FROM r.minute_reset_at - now()))::integer;
    hour_reset_in := ceil(extract(epoch FROM r.hour_reset_at - now()))::integer;
    RETURN NEXT;
END $$;

-- addresses not seen for a day (daily job)
CREATE FUNCTION purge_idle_address_rate_limits() RETURNS bigint
LANGUAGE sql AS $$
    WITH purged AS (
        DELETE FROM address_rate_limits WHERE hour_reset_at < now() - interval '1 day'
        RETURNING 1
    )
    SELECT count(*) FROM purged
$$;
"""

TAKE = "address_rate_limit_take(text, text, integer, integer, integer)"
PURGE = "purge_idle_address_rate_limits()"


def upgrade() -> None:
    op.create_table(
        "address_rate_limits",
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("minute_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "minute_reset_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("hour_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "hour_reset_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "minute_count >= 0 AND hour_count >= 0",
            name=op.f("ck_address_rate_limits_counts_non_negative"),
        ),
        sa.PrimaryKeyConstraint("address", "endpoint", name=op.f("pk_address_rate_limits")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_address_rate_limits_hour_reset_at"), "address_rate_limits", ["hour_reset_at"]
    )
    op.execute(f"REVOKE ALL ON address_rate_limits FROM PUBLIC, {APP_ROLE}")
    op.execute(FUNCTIONS)
    op.execute(f"REVOKE ALL ON FUNCTION {TAKE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {TAKE} TO {APP_ROLE}")
    op.execute(f"REVOKE EXECUTE ON FUNCTION {PURGE} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {PURGE}")
    op.execute(f"DROP FUNCTION {TAKE}")
    op.drop_index(op.f("ix_address_rate_limits_hour_reset_at"), table_name="address_rate_limits")
    op.drop_table("address_rate_limits")
