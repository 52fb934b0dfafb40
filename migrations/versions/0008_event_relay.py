"""Event relay: the outbox's retry bookkeeping, the event's schema version, the relay's
cross-tenant claim, the account's event list index and the relay's health figures.

The relay runs as markettina_app. It claims due events of every account through
``claim_domain_events`` (SECURITY DEFINER, owner, so past row-level security): the row
locks belong to the caller's transaction, and only keys come back; the relay then reads
each event and runs its handlers with the tenant set to the event's account.

Revision ID: 0008_event_relay
Revises: 0007_identity_user_context
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_event_relay"
down_revision: str | None = "0007_identity_user_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

COLUMNS = """
ALTER TABLE domain_events
    ADD COLUMN event_version integer NOT NULL DEFAULT 1,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error text,
    ADD CONSTRAINT ck_domain_events_event_version_positive CHECK (event_version >= 1),
    ADD CONSTRAINT ck_domain_events_attempts_non_negative CHECK (attempts >= 0)
"""

FUNCTIONS = r"""
-- The relay's claim: up to batch_size due, unprocessed events of any account, oldest
-- first, locked FOR UPDATE SKIP LOCKED in the caller's transaction (so two relays never
-- get the same event and a relay that dies releases its events). Keys only: the event
-- itself is read under its own tenant.
CREATE FUNCTION claim_domain_events(batch_size integer)
RETURNS TABLE (account_id uuid, id uuid, created_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT e.account_id, e.id, e.created_at
    FROM domain_events e
    WHERE NOT e.processed
      AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= clock_timestamp())
    ORDER BY e.created_at
    LIMIT batch_size
    FOR UPDATE SKIP LOCKED
$$;

-- The relay's backlog for /readyz and logs: unprocessed events, how many are due, how
-- many have failed at least failing_after times, and the age of the oldest due one.
CREATE FUNCTION domain_event_backlog(failing_after integer DEFAULT 10)
RETURNS TABLE (unprocessed bigint, due bigint, failing bigint, oldest_due_seconds double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT count(*),
           count(*) FILTER (WHERE next_attempt_at IS NULL OR next_attempt_at <= now()),
           count(*) FILTER (WHERE attempts >= failing_after),
           extract(epoch FROM now() - min(created_at)
                   FILTER (WHERE next_attempt_at IS NULL OR next_attempt_at <= now()))
    FROM domain_events
    WHERE NOT processed
$$;
"""

FUNCTION_SIGNATURES = ("claim_domain_events(integer)", "domain_event_backlog(integer)")


def upgrade() -> None:
    op.execute(COLUMNS)
    # the account's event list, newest first (GET /v1/events)
    op.create_index(
        "ix_domain_events_account_id_created_at_id",
        "domain_events",
        ["account_id", "created_at", "id"],
    )
    op.execute(FUNCTIONS)
    for function in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def downgrade() -> None:
    for function in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_domain_events_account_id_created_at_id", table_name="domain_events")
    op.execute(
        "ALTER TABLE domain_events "
        "DROP CONSTRAINT ck_domain_events_attempts_non_negative, "
        "DROP CONSTRAINT ck_domain_events_event_version_positive, "
        "DROP COLUMN last_error, DROP COLUMN next_attempt_at, "
        "DROP COLUMN attempts, DROP COLUMN event_version"
    )
