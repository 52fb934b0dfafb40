"""Schema pieces every migration tree needs: the job queue's tables and the app's privileges.

Called from Alembic revisions, which run as markettina_owner.
"""

from __future__ import annotations

from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .urls import APP_ROLE

JOB_QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def install_job_queue(connection: Connection) -> None:
    """Create Procrastinate's tables, types and functions (the pinned version's schema)."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(SchemaManager.get_schema())  # many statements: no bind parameters
    finally:
        cursor.close()


def drop_job_queue(connection: Connection) -> None:
    """Remove every Procrastinate object: tables, then functions, then the types left."""
    for table in JOB_QUEUE_TABLES:
        connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    functions = connection.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\\_%'"
        )
    ).scalars()
    for signature in list(functions):
        connection.execute(text(f"DROP FUNCTION IF EXISTS {signature} CASCADE"))
    types = connection.execute(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate\\_%' "
            "AND t.typtype IN ('c', 'e') AND t.typname NOT LIKE '\\_%'"
        )
    ).scalars()
    for type_name in list(types):
        connection.execute(text(f"DROP TYPE IF EXISTS {type_name} CASCADE"))


def grant_app_privileges(connection: Connection) -> None:
    """markettina_app reads and writes rows; it owns nothing and changes no schema.

    Default privileges make every later table of the owner usable by the app too; revisions
    that need tighter rules (global tables, read models) revoke per table. The EXECUTE
    grants here are the baseline's only: revision 0020 withdraws them (and PUBLIC's), and
    functions are granted to the app one by one since.
    """
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {APP_ROLE}",
        # the app may ask which revision the schema is at, never change it
        f"REVOKE ALL ON alembic_version FROM {APP_ROLE}",
        f"GRANT SELECT ON alembic_version TO {APP_ROLE}",
    ):
        connection.execute(text(statement))


def revoke_app_privileges(connection: Connection) -> None:
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM {APP_ROLE}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {APP_ROLE}",
        f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}",
    ):
        connection.execute(text(statement))


TENANT_PREDICATE = "account_id = nullif(current_setting('app.current_account_id', true), '')::uuid"
TENANT_POLICY = "tenant_isolation"


def enable_tenant_isolation(connection: Connection, table: str) -> None:
    """Row-level security on a tenant table: one policy for reads and writes (rule 3).

    FORCE makes it hold for the table's owner too; only roles with BYPASSRLS (none of ours)
    and superusers are exempt.
    """
    connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
    connection.execute(
        text(
            f"CREATE POLICY {TENANT_POLICY} ON {table} "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
    )


def disable_tenant_isolation(connection: Connection, table: str) -> None:
    connection.execute(text(f"DROP POLICY IF EXISTS {TENANT_POLICY} ON {table}"))
    connection.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
