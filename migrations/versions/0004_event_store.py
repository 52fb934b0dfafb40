"""The event store's upkeep: monthly partitions of domain_events that never run out,
retention of old processed partitions, and the purge of expired idempotency keys.

Maintenance functions run as the owner (the worker's maintenance jobs connect as it);
the application may only ask how many events missed their partition.

Revision ID: 0004_event_store
Revises: 0003_triggers
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_event_store"
down_revision: str | None = "0003_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
MONTHS_AHEAD = 3

FUNCTIONS = r"""
-- One month's partition, created with the tenant policy and closed to direct access by the
-- app (it goes through domain_events). Rows of that month already in the DEFAULT
-- partition are moved into it first, so creation never fails on them.
CREATE FUNCTION create_domain_event_partition(month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    next_first_day date := (date_trunc('month', month) + interval '1 month')::date;
    partition text := format('domain_events_%s', to_char(first_day, 'YYYY_MM'));
BEGIN
    IF to_regclass(partition) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE domain_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   partition);
    EXECUTE format(
        'WITH moved AS (DELETE FROM domain_events_default '
        'WHERE created_at >= %L AND created_at < %L RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved', first_day, next_first_day, partition);
    EXECUTE format('ALTER TABLE domain_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   partition, first_day, next_first_day);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', partition);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', partition);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %I '
        'USING (account_id = nullif(current_setting(''app.current_account_id'', true), '''')::uuid) '
        'WITH CHECK (account_id = nullif(current_setting(''app.current_account_id'', true), '''')::uuid)',
        partition);
    EXECUTE format('REVOKE ALL ON %I FROM markettina_app', partition);
    RETURN partition;
END $$;

-- The current month and at least months_ahead more always have a partition (daily job).
CREATE FUNCTION ensure_domain_event_partitions(months_ahead integer DEFAULT 3)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    month date;
    created text;
BEGIN
    FOR month IN
        SELECT generate_series(date_trunc('month', now()),
                               date_trunc('month', now()) + make_interval(months => months_ahead),
                               interval '1 month')::date
    LOOP
        created := create_domain_event_partition(month);
        IF created IS NOT NULL THEN
            RETURN NEXT created;
        END IF;
    END LOOP;
END $$;

-- Partitions wholly older than the retention period are detached and dropped, unless they
-- still hold an unprocessed event: an event is never lost to retention.
CREATE FUNCTION drop_expired_domain_event_partitions(retention_months integer DEFAULT 6)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    part record;
    pending boolean;
    cutoff timestamptz := date_trunc('month', now()) - make_interval(months => retention_months);
BEGIN
    FOR part IN
        SELECT c.relname AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]
                   ::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'domain_events'::regclass AND c.relname <> 'domain_events_default'
        ORDER BY c.relname
    LOOP
        CONTINUE WHEN part.upper_bound IS NULL OR part.upper_bound > cutoff;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE NOT processed)', part.name)
            INTO pending;
        IF pending THEN
            RAISE NOTICE 'keeping % past retention: it holds unprocessed events', part.name;
            CONTINUE;
        END IF;
        EXECUTE format('ALTER TABLE domain_events DETACH PARTITION %I', part.name);
        EXECUTE format('DROP TABLE %I', part.name);
        RETURN NEXT part.name;
    END LOOP;
END $$;

-- How many events fell outside every monthly partition (the health check reports them).
CREATE FUNCTION domain_events_outside_partitions() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT count(*) FROM domain_events_default
$$;

-- Idempotency keys live 24 hours (daily job).
CREATE FUNCTION purge_expired_idempotency_keys() RETURNS bigint
LANGUAGE sql AS $$
    WITH purged AS (DELETE FROM idempotency_keys WHERE expires_at < now() RETURNING 1)
    SELECT count(*) FROM purged
$$;
"""

MAINTENANCE = (
    "create_domain_event_partition(date)",
    "ensure_domain_event_partitions(integer)",
    "drop_expired_domain_event_partitions(integer)",
    "purge_expired_idempotency_keys()",
)


def upgrade() -> None:
    op.execute(FUNCTIONS)
    for function in MAINTENANCE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, {APP_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION domain_events_outside_partitions() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION domain_events_outside_partitions() TO {APP_ROLE}")
    # the app reaches events through domain_events only
    op.execute(f"REVOKE ALL ON domain_events_default FROM {APP_ROLE}")
    op.execute(f"SELECT ensure_domain_event_partitions({MONTHS_AHEAD})")


def downgrade() -> None:
    # monthly partitions go back into the DEFAULT one, which 0002 created
    op.execute(
        """
        DO $$
        DECLARE part text;
        BEGIN
            FOR part IN
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'domain_events'::regclass
                  AND c.relname <> 'domain_events_default'
            LOOP
                EXECUTE format('ALTER TABLE domain_events DETACH PARTITION %I', part);
                EXECUTE format('INSERT INTO domain_events SELECT * FROM %I', part);
                EXECUTE format('DROP TABLE %I', part);
            END LOOP;
        END $$
        """
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON domain_events_default TO {APP_ROLE}")
    for function in (*MAINTENANCE, "domain_events_outside_partitions()"):
        op.execute(f"DROP FUNCTION {function}")
