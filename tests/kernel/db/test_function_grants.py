"""Which functions the application role can execute: none by default, and of those that
run with the owner's rights (SECURITY DEFINER: past row-level security), exactly the
reviewed ones below. A new one fails here until someone writes down why the app needs it."""

from __future__ import annotations

import psycopg
import pytest

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import APP_ROLE, DatabaseURLs

# each SECURITY DEFINER function the app may execute, and why it must see past the tenant
REVIEWED_DEFINERS = {
    "identity_user_context(integer,uuid,uuid,uuid)":
        "a person's request: user, session, home and acting account before any tenant is set",
    "identity_api_key(text)":
        "an API key's request: the key by its prefix, before its account is known",
    "identity_memberships(integer)":
        "sign-in: the accounts a person belongs to, before one is chosen",
    "identity_invitation_account(text)":
        "accepting an invitation: its account by the token's digest, before the tenant is set",
    "billing_referral_code_owner(text)":
        "registration with a referral code: the code's account is another tenant",
    "billing_payment_account(text)":
        "a Stripe event: the account a payment intent paid for, before the tenant is set",
    "claim_domain_events(integer)":
        "the event relay: claims due events of every account, then handles each as its tenant",
    "domain_event_backlog(integer)":
        "/readyz and /metrics: the relay's backlog, counted across accounts",
    "domain_events_outside_partitions()":
        "/readyz: events that fell into the default partition, across accounts",
    "address_rate_limit_take(text,text,integer,integer,integer)":
        "anonymous routes: counts per client address, a table the app may not touch",
    "content_template_count_use(uuid)":
        "a render of another account's public template counts a use on a row only its "
        "owner may write",
}  # fmt: skip

_EXECUTABLE = """
SELECT p.oid::regprocedure::text, p.prosecdef
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%%'
  AND has_function_privilege(%s, p.oid, 'EXECUTE')
"""


def _executable(urls: DatabaseURLs) -> dict[str, bool]:
    with bootstrap.connect(urls.admin) as conn:
        return {name: definer for name, definer in conn.execute(_EXECUTABLE, (APP_ROLE,))}


def test_the_app_executes_only_the_reviewed_security_definer_functions(
    shared_db: DatabaseURLs,
) -> None:
    definers = {name for name, definer in _executable(shared_db).items() if definer}
    assert definers == set(REVIEWED_DEFINERS)


def test_the_app_executes_no_trigger_or_maintenance_function(shared_db: DatabaseURLs) -> None:
    executable = _executable(shared_db)
    for function in (
        "touch_updated_at()",  # triggers run their function whatever the caller's grants
        "apply_token_transaction()",
        "apply_campaign_charge()",
        "refresh_read_models()",
        "purge_expired_sign_in_tokens()",
        "social_accounts_due(timestamp with time zone,interval,integer)",
        "procrastinate_retry_job_v1(bigint,timestamp with time zone,integer,"
        "character varying,character varying)",  # not a query of the pinned version
    ):
        assert function not in executable, function


def test_a_new_function_is_not_executable_until_granted(shared_db: DatabaseURLs) -> None:
    with bootstrap.connect(shared_db.owner, autocommit=False) as conn:
        try:
            conn.execute(
                "CREATE FUNCTION probe_new_function() RETURNS int LANGUAGE sql AS 'SELECT 1'"
            )
            [(app, public)] = conn.execute(
                "SELECT has_function_privilege(%s, 'probe_new_function()', 'EXECUTE'), "
                "(SELECT count(*) FROM aclexplode("
                "    coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0) "
                "FROM pg_proc p WHERE p.oid = 'probe_new_function()'::regprocedure",
                (APP_ROLE,),
            ).fetchall()
            assert (app, public) == (False, 0)
            conn.execute(f"GRANT EXECUTE ON FUNCTION probe_new_function() TO {APP_ROLE}")
            assert conn.execute(
                "SELECT has_function_privilege(%s, 'probe_new_function()', 'EXECUTE')", (APP_ROLE,)
            ).fetchone() == (True,)
        finally:
            conn.rollback()


def test_the_app_cannot_call_an_owner_function(shared_db: DatabaseURLs) -> None:
    with (
        bootstrap.connect(shared_db.app) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT refresh_read_models()")
