"""Idempotency keys and rate limits: the statements the request pipeline runs.

- ``rate_limit_take`` counts one request of an account on a route group, atomically: it
  sets the tenant itself, so it runs as one autocommit statement beside the request's
  transaction (a rolled-back request keeps its count, and the counter row is locked only
  for that statement, not for the whole request).
- ``idempotency_claim`` claims a key inside the request's transaction: a transaction
  advisory lock per (account, key) turns a concurrent duplicate away at once, and the
  claimed row commits or rolls back with the business change.
- ``idempotency_record`` stores the response of a committed request (autocommit).
- api_rate_limits' ``updated_at`` now follows changes of the limits only, not of the
  counters (which change on every request).

Limits NULL in api_rate_limits mean "the plan's default" (passed in by the caller).

Revision ID: 0010_idempotency_rate_limits
Revises: 0009_webhook_deliveries
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_idempotency_rate_limits"
down_revision: str | None = "0009_webhook_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# (0014 replaced it; its downgrade puts this one back)
RATE_LIMIT_TAKE = """
-- One request of an account on a route group: counted when every window has room.
-- Windows follow the UTC clock (minute, hour, day). p_defaults maps a plan tier to
-- [per minute, per hour, per day]; a NULL limit in the row means the plan's default.
CREATE FUNCTION rate_limit_take(p_account uuid, p_group text, p_defaults jsonb)
RETURNS TABLE (allowed boolean,
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
    PERFORM set_config('app.current_account_id', p_account::text, true);
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
    allowed := (minute_limit IS NULL OR minute_used < minute_limit)
           AND (hour_limit IS NULL OR hour_used < hour_limit)
           AND (day_limit IS NULL OR day_used < day_limit);
    IF allowed THEN
        minute_used := minute_used + 1; hour_used := hour_used + 1; day_used := day_used + 1;
    END IF;
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

FUNCTIONS = (
    RATE_LIMIT_TAKE
    + """
-- Claim an idempotency key in the caller's transaction (the tenant is set). state:
-- 'claimed' (go ahead; the row commits with the request), 'in_flight' (another
-- transaction holds the key right now), or 'found' (a live row: compare, then replay).
-- The advisory lock comes first, in its own statement, so the look-up's snapshot sees
-- whatever the lock's previous holder committed.
CREATE FUNCTION idempotency_claim(p_account uuid, p_key text, p_endpoint text,
                                  p_request_hash text)
RETURNS TABLE (state text, request_hash text, status_code integer, response_data jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended(p_account::text || '/' || p_key, 0)) THEN
        RETURN QUERY SELECT 'in_flight', NULL::text, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'found', k.request_hash, k.status_code, k.response_data FROM idempotency_keys k
    WHERE k.account_id = p_account AND k.key = p_key AND k.expires_at > now();
    IF FOUND THEN
        RETURN;
    END IF;
    -- a row past its expiry is as good as gone: the new request takes the key over
    INSERT INTO idempotency_keys AS k (account_id, key, endpoint, request_hash)
    VALUES (p_account, p_key, p_endpoint, p_request_hash)
    ON CONFLICT (account_id, key) DO UPDATE
    SET endpoint = excluded.endpoint, request_hash = excluded.request_hash,
        status_code = NULL, response_data = NULL, created_at = now(),
        expires_at = now() + interval '24 hours';
    RETURN QUERY SELECT 'claimed', p_request_hash, NULL::integer, NULL::jsonb;
END $$;

-- The response of a request whose claim committed (autocommit, beside the request).
CREATE FUNCTION idempotency_record(p_account uuid, p_key text, p_request_hash text,
                                   p_status_code integer, p_response_data jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('app.current_account_id', p_account::text, true);
    UPDATE idempotency_keys
    SET status_code = p_status_code, response_data = p_response_data
    WHERE account_id = p_account AND key = p_key AND request_hash = p_request_hash
      AND status_code IS NULL;
    RETURN FOUND;
END $$;
"""
)

SIGNATURES = (
    "rate_limit_take(uuid, text, jsonb)",
    "idempotency_claim(uuid, text, text, text)",
    "idempotency_record(uuid, text, text, integer, jsonb)",
)


def upgrade() -> None:
    op.execute(FUNCTIONS)
    for signature in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute("DROP TRIGGER touch_updated_at ON api_rate_limits")
    op.execute(
        "CREATE TRIGGER touch_updated_at "
        "BEFORE UPDATE OF limit_per_minute, limit_per_hour, limit_per_day ON api_rate_limits "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER touch_updated_at ON api_rate_limits")
    op.execute(
        "CREATE TRIGGER touch_updated_at BEFORE UPDATE ON api_rate_limits "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )
    for signature in reversed(SIGNATURES):
        op.execute(f"DROP FUNCTION {signature}")
