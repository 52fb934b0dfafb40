"""Rate limits counted in batches: ``rate_limit_take`` now counts up to N requests of an
account on a route group in one statement and answers how many of them fit.

Counting one request per statement made the counter row the bottleneck of a busy account:
every request locked the row, updated it and waited for its commit to reach the disk
before the next one could start (about a thousand requests per second for one account,
whatever the hardware). An API process now sends one statement for all the requests of an
account and group that arrive while the previous statement runs, and the statement
commits without waiting for the disk (``synchronous_commit`` off, for that transaction
only): a crash can forget the last fraction of a second of counts, never grant more than
the limit to the requests it answered.

Revision ID: 0014_rate_limit_batches
Revises: 0013_billing_checkout
Create Date: 2026-11-26
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0014_rate_limit_batches"
down_revision: str | None = "0013_billing_checkout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# p_requests requests of an account on a route group: the first `granted` of them are
# counted (as many as every window has room for), the rest are refused and not counted.
# The *_used columns are the counts after the batch. Windows follow the UTC clock;
# p_defaults maps a plan tier to [per minute, per hour, per day]; a NULL limit in the row
# means the plan's default.
RATE_LIMIT_TAKE = """
CREATE FUNCTION rate_limit_take(p_account uuid, p_group text, p_defaults jsonb,
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
    IF r.minute_reset_at > now() THEN
        minute_used := r.current_minute_count; minute_reset := r.minute_reset_at;
    ELSE
        minute_used := 0; minute_reset := date_trunc('minute', now(), 'UTC') + interval '1 minute';
    END IF;
    IF r.hour_reset_at > now() THEN
        hour_used := r.current_hour_count; hour_reset := r.hour_reset_at;
    ELSE
        hour_used := 0; hour_reset := date_trunc('hour', now(), 'UTC') + interval '1 hour';
    END IF;
    IF r.day_reset_at > now() THEN
        day_used := r.current_day_count; day_reset := r.day_reset_at;
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
                         r.minute_reset_at, r.hour_reset_at, r.day_reset_at) THEN
        UPDATE api_rate_limits
        SET current_minute_count = minute_used, minute_reset_at = minute_reset,
            current_hour_count = hour_used, hour_reset_at = hour_reset,
            current_day_count = day_used, day_reset_at = day_reset
        WHERE account_id = p_account AND id = r.id;
    END IF;
    minute_reset_in := ceil(extract(epoch FROM minute_reset - now()))::integer;
    hour_reset_in := ceil(extract(epoch FROM hour_reset - now()))::integer;
    day_reset_in := ceil(extract(epoch FROM day_reset - now()))::integer;
    RETURN NEXT;
END $$;
"""

SIGNATURE = "rate_limit_take(uuid, text, jsonb, integer)"
ONE_AT_A_TIME = "rate_limit_take(uuid, text, jsonb)"


def _one_at_a_time_definition() -> str:
    """0010's function, which the downgrade puts back."""
    path = Path(__file__).with_name("0010_idempotency_rate_limits.py")
    spec = importlib.util.spec_from_file_location("markettina_migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.RATE_LIMIT_TAKE)


def _grant(signature: str) -> None:
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {ONE_AT_A_TIME}")
    op.execute(RATE_LIMIT_TAKE)
    _grant(SIGNATURE)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
    op.execute(_one_at_a_time_definition())
    _grant(ONE_AT_A_TIME)
