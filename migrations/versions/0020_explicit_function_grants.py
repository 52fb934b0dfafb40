"""Functions are executable by the application role only when granted one by one.

The baseline granted ``markettina_app`` EXECUTE on every function and, through default
privileges, on every function created later, and PostgreSQL grants EXECUTE to PUBLIC on
each new function too; so every owner-only function (a maintenance function, a SECURITY
DEFINER look-up past row-level security) had to be revoked by hand, and forgetting once
opened it to the app. From this revision on:

- neither the app nor PUBLIC gets EXECUTE on a new function by default (the owner's
  default privileges, in the database);
- EXECUTE is withdrawn from both on every existing function, then granted to the app on
  the functions it calls, listed below (trigger functions need no grant: a trigger runs its
  function whatever the privileges of the role that fired it);
- a revision that adds a function the app calls grants it, as the earlier ones did.

``tests/kernel/db/test_function_grants.py`` compares the SECURITY DEFINER functions the app
can execute with a reviewed list.

Two functions come with it, so that no tenant is set before it is known to be right and
tenant work in jobs runs as the app:

- ``identity_invitation_account(token_hash)``: the account of the pending invitation whose
  token has this digest (SECURITY DEFINER, granted to the app): accepting an invitation
  sets the inviting account as the tenant only once its token has been found;
- ``social_accounts_due(now, ahead, limit)``: the social accounts whose tokens expire within
  ``ahead``, across accounts (owner only): the social health job's sweep; each account's
  refresh is then written as the app with that account as the tenant.

The downgrade gives back the grants as they were: the app on every function but the
owner-only ones, PUBLIC on the job queue's and the trigger functions, and both defaults.

Revision ID: 0020_explicit_function_grants
Revises: 0019_lockout_per_address
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0020_explicit_function_grants"
down_revision: str | None = "0019_lockout_per_address"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

INVITATION_ACCOUNT = "identity_invitation_account(text)"
SOCIAL_ACCOUNTS_DUE = "social_accounts_due(timestamp with time zone, interval, integer)"

# what the app calls, each granted on its own
APP_FUNCTIONS = (
    # the job queue's API (the pinned Procrastinate's queries): requests defer, workers run
    "procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])",
    "procrastinate_defer_periodic_job_v2(character varying, character varying, "
    "character varying, character varying, integer, character varying, bigint, jsonb)",
    "procrastinate_fetch_job_v2(character varying[], bigint)",
    "procrastinate_finish_job_v1(bigint, procrastinate_job_status, boolean)",
    "procrastinate_cancel_job_v1(bigint, boolean, boolean)",
    "procrastinate_retry_job_v2(bigint, timestamp with time zone, integer, "
    "character varying, character varying)",
    "procrastinate_register_worker_v1()",
    "procrastinate_unregister_worker_v1(bigint)",
    "procrastinate_update_heartbeat_v1(bigint)",
    "procrastinate_prune_stalled_workers_v1(double precision)",
    # the request pipeline
    "identity_user_context(integer, uuid, uuid, uuid)",
    "identity_api_key(text)",
    "identity_memberships(integer)",
    INVITATION_ACCOUNT,
    "idempotency_claim(uuid, text, text, text)",
    "idempotency_record(uuid, text, text, integer, jsonb)",
    "rate_limit_take(uuid, text, jsonb, integer)",
    "address_rate_limit_take(text, text, integer, integer, integer)",
    # the event relay and /readyz
    "claim_domain_events(integer)",
    "domain_event_backlog(integer)",
    "domain_events_outside_partitions()",
    # billing
    "billing_referral_code_owner(text)",
    "billing_payment_account(text)",
)

# the functions earlier revisions had revoked from the app (for the downgrade)
OWNER_ONLY_BEFORE = (
    "install_change_capture(regclass, text)",
    "create_domain_event_partition(date)",
    "ensure_domain_event_partitions(integer)",
    "drop_expired_domain_event_partitions(integer)",
    "refresh_read_model(text)",
    "refresh_read_models()",
    "webhook_deliveries_overdue(interval, integer)",
    "purge_expired_idempotency_keys()",
    "purge_idle_address_rate_limits()",
    "forget_expired_webhook_secrets()",
    "purge_expired_sign_in_tokens()",
    "purge_ended_login_failures()",
)

FUNCTIONS = """
CREATE FUNCTION identity_invitation_account(p_token_hash text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT i.account_id FROM account_invitations i
    JOIN accounts a ON a.id = i.account_id AND a.deleted_at IS NULL
    WHERE i.token_hash = p_token_hash
      AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
$$;

CREATE FUNCTION social_accounts_due(p_now timestamptz, p_ahead interval, p_limit integer)
RETURNS TABLE (
    account_id uuid, id uuid, platform text, refresh_token_encrypted text,
    token_expires_at timestamptz
)
LANGUAGE sql STABLE AS $$
    SELECT s.account_id, s.id, s.platform, s.refresh_token_encrypted, s.token_expires_at
    FROM social_accounts s
    WHERE s.deleted_at IS NULL AND s.is_active AND s.token_expires_at <= p_now + p_ahead
      -- given up on: only connecting the account again helps
      AND NOT EXISTS (
          SELECT 1 FROM social_account_health h
          WHERE h.account_id = s.account_id AND h.social_account_id = s.id
            AND h.status IN ('expired', 'revoked')
      )
    ORDER BY s.token_expires_at, s.account_id, s.id
    LIMIT p_limit
$$;
"""

# a trigger function, or one of the job queue's: PUBLIC could execute these before
_PUBLIC_BEFORE = """
SELECT p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
  AND (p.prorettype = 'trigger'::regtype OR starts_with(p.proname, 'procrastinate_'))
"""


def upgrade() -> None:
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM {APP_ROLE}"
    )
    op.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")
    op.execute(FUNCTIONS)
    op.execute(f"REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, {APP_ROLE}")
    for function in APP_FUNCTIONS:
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SOCIAL_ACCOUNTS_DUE}")
    op.execute(f"DROP FUNCTION {INVITATION_ACCOUNT}")
    public = list(op.get_bind().execute(text(_PUBLIC_BEFORE)).scalars())
    for function in public:
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO PUBLIC")
    op.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {APP_ROLE}")
    for function in OWNER_ONLY_BEFORE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM {APP_ROLE}")
    op.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {APP_ROLE}"
    )
