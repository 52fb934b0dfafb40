"""Leads: UTM fields, normalised e-mails unique per account, the explained score, engagement
counters, the status history, per-account scoring weights and the staging of CSV imports.

E-mails are stored lower-cased and trimmed (an empty one is no e-mail) and are unique per
account among live leads. The application lower-cases them (Python's lower() and the
database's differ beyond ASCII, so the check holds the trimming only). The upgrade normalises the e-mails already stored; if two live
leads of one account then share an address it stops and names how many, so that nobody's
leads are merged or deleted without a person deciding.

The score, its breakdown and the engagement counters are kept by the scoring (a request,
an event handler or a job), so changing them is not a new version of the lead: a client's
If-Match stays valid while an e-mail open rescores the lead.

Revision ID: 0026_lead_pipeline
Revises: 0025_public_templates
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from markettina.kernel.db.schema_support import (
    disable_tenant_isolation,
    enable_tenant_isolation,
)

revision: str = "0026_lead_pipeline"
down_revision: str | None = "0025_public_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
STATUSES = "'NEW', 'CONTACTED', 'QUALIFIED', 'PROPOSAL_SENT', 'NEGOTIATION', 'WON', 'LOST'"
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# what a person edits: a change of these is a new version (optimistic locking); the score,
# its breakdown and the engagement counters the scoring keeps are not
EDITED = (
    "user_id",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "notes",
    "tags",
    "created_by",
    "deleted_at",
    "deleted_by",
    *UTM,
)


# change capture as 0003 wrote it, but reading the old row as JSON once per change instead
# of once per column: an import that merges 100,000 rows into leads spent half its UPDATE
# there. The events it writes are the same.
CAPTURE_CHANGE = """
CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    aggregate text := TG_ARGV[0];
    action text;
    payload jsonb;
    changed text[];
    row_data jsonb;
    old_data jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        action := 'created';
        row_data := to_jsonb(NEW);
        payload := jsonb_build_object('after', row_data);
    ELSIF TG_OP = 'UPDATE' THEN
        row_data := to_jsonb(NEW);
        old_data := to_jsonb(OLD);
        SELECT coalesce(array_agg(n.key ORDER BY n.key), '{}') INTO changed
        FROM jsonb_each(row_data) AS n
        WHERE n.key NOT IN ('updated_at', 'version')
          AND n.value IS DISTINCT FROM old_data -> n.key;
        IF cardinality(changed) = 0 THEN
            RETURN NULL;
        END IF;
        -- soft delete is an update of deleted_at (read through jsonb: not every table has it)
        action := CASE
            WHEN old_data ->> 'deleted_at' IS NULL AND row_data ->> 'deleted_at' IS NOT NULL
                THEN 'deleted'
            WHEN old_data ->> 'deleted_at' IS NOT NULL AND row_data ->> 'deleted_at' IS NULL
                THEN 'restored'
            ELSE 'updated' END;
        payload := jsonb_build_object('changed', to_jsonb(changed), 'after', row_data);
    ELSE
        action := 'erased';
        row_data := to_jsonb(OLD);
        payload := jsonb_build_object('before', row_data);
    END IF;
    INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version,
                               event_type, event_data, metadata)
    VALUES ((row_data ->> 'account_id')::uuid, aggregate, row_data ->> 'id',
            coalesce((row_data ->> 'version')::int, 0), aggregate || '.' || action, payload,
            jsonb_build_object('source', 'change_capture', 'table', TG_TABLE_NAME,
                               'transaction_id', txid_current()));
    RETURN NULL;
END $$;
"""
CAPTURE_CHANGE_0003 = """
CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    aggregate text := TG_ARGV[0];
    action text;
    payload jsonb;
    changed text[];
    row_data jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        action := 'created';
        row_data := to_jsonb(NEW);
        payload := jsonb_build_object('after', row_data);
    ELSIF TG_OP = 'UPDATE' THEN
        row_data := to_jsonb(NEW);
        SELECT coalesce(array_agg(n.key ORDER BY n.key), '{}') INTO changed
        FROM jsonb_each(row_data) AS n
        WHERE n.key NOT IN ('updated_at', 'version')
          AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF cardinality(changed) = 0 THEN
            RETURN NULL;
        END IF;
        -- soft delete is an update of deleted_at (read through jsonb: not every table has it)
        action := CASE
            WHEN to_jsonb(OLD) ->> 'deleted_at' IS NULL AND row_data ->> 'deleted_at' IS NOT NULL
                THEN 'deleted'
            WHEN to_jsonb(OLD) ->> 'deleted_at' IS NOT NULL AND row_data ->> 'deleted_at' IS NULL
                THEN 'restored'
            ELSE 'updated' END;
        payload := jsonb_build_object('changed', to_jsonb(changed), 'after', row_data);
    ELSE
        action := 'erased';
        row_data := to_jsonb(OLD);
        payload := jsonb_build_object('before', row_data);
    END IF;
    INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version,
                               event_type, event_data, metadata)
    VALUES ((row_data ->> 'account_id')::uuid, aggregate, row_data ->> 'id',
            coalesce((row_data ->> 'version')::int, 0), aggregate || '.' || action, payload,
            jsonb_build_object('source', 'change_capture', 'table', TG_TABLE_NAME,
                               'transaction_id', txid_current()));
    RETURN NULL;
END $$;
"""


# an import's staged file whose job will never run it (cancelled before it started, or
# failed for good): every account's, so only the owner runs it (the hourly maintenance job)
PURGE = "purge_abandoned_lead_imports()"
PURGE_FUNCTION = """
CREATE FUNCTION purge_abandoned_lead_imports() RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM lead_imports i
        WHERE i.created_at < now() - interval '1 hour'
          AND NOT EXISTS (
              SELECT 1 FROM async_jobs j
              WHERE j.account_id = i.account_id AND j.job_type = 'lead_import'
                AND j.input_data ->> 'import_id' = i.id::text
                AND j.status IN ('pending', 'running')
          )
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
"""


def _edited() -> str:
    # one flat OR, as 0009 writes it: PostgreSQL prints it back the same way
    return " OR ".join(f"(OLD.{c} IS DISTINCT FROM NEW.{c})" for c in EDITED)


def upgrade() -> None:
    bind = op.get_bind()
    for column in UTM:
        op.add_column("leads", sa.Column(column, sa.Text()))
    op.add_column(
        "leads",
        sa.Column(
            "score_breakdown",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("leads", sa.Column("scored_at", sa.DateTime(timezone=True)))
    for counter in ("email_opens", "email_clicks", "form_submissions"):
        op.add_column(
            "leads", sa.Column(counter, sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.add_column("leads", sa.Column("last_engaged_at", sa.DateTime(timezone=True)))
    op.create_check_constraint(
        op.f("ck_leads_engagement_non_negative"),
        "leads",
        "email_opens >= 0 AND email_clicks >= 0 AND form_submissions >= 0",
    )
    op.create_check_constraint(
        op.f("ck_leads_score_breakdown_object"),
        "leads",
        "jsonb_typeof(score_breakdown) = 'object'",
    )

    op.execute(
        "UPDATE leads SET email = nullif(lower(btrim(email)), '') "
        "WHERE email IS DISTINCT FROM nullif(lower(btrim(email)), '')"
    )
    duplicates = bind.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM leads WHERE deleted_at IS NULL "
            "AND email IS NOT NULL GROUP BY account_id, email HAVING count(*) > 1) d"
        )
    ).scalar_one()
    if duplicates:
        raise RuntimeError(
            f"{duplicates} e-mail addresses are shared by several live leads of one account; "
            "merge or delete those leads, then run the upgrade again"
        )
    op.create_check_constraint(
        op.f("ck_leads_email_trimmed"),
        "leads",
        "email = btrim(email) AND email <> ''",
    )
    op.create_index(
        "uq_leads_account_id_email",
        "leads",
        ["account_id", "email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND email IS NOT NULL"),
    )
    op.create_index("ix_leads_account_id_score", "leads", ["account_id", "score"])
    op.create_index("ix_leads_tags", "leads", ["tags"], postgresql_using="gin")
    op.execute(CAPTURE_CHANGE)
    op.execute("DROP TRIGGER bump_version ON leads")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON leads FOR EACH ROW "
        f"WHEN ({_edited()}) EXECUTE FUNCTION bump_version()"
    )

    op.create_table(
        "lead_status_changes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=False),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("via", sa.Text(), server_default=sa.text("'api'"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"from_status IN ({STATUSES})", name=op.f("ck_lead_status_changes_from_status")
        ),
        sa.CheckConstraint(
            f"to_status IN ({STATUSES})", name=op.f("ck_lead_status_changes_to_status")
        ),
        sa.CheckConstraint("from_status <> to_status", name=op.f("ck_lead_status_changes_changed")),
        sa.CheckConstraint("via IN ('api', 'import')", name=op.f("ck_lead_status_changes_via")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_status_changes_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "lead_id"],
            ["leads.account_id", "leads.id"],
            name=op.f("fk_lead_status_changes_account_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["users.id"],
            name=op.f("fk_lead_status_changes_changed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lead_status_changes")),
    )
    op.create_index(
        "ix_lead_status_changes_account_id_lead_id_created_at",
        "lead_status_changes",
        ["account_id", "lead_id", "created_at"],
    )
    op.create_index("ix_lead_status_changes_changed_by", "lead_status_changes", ["changed_by"])
    enable_tenant_isolation(bind, "lead_status_changes")
    # the history is appended to, never rewritten
    op.execute(f"REVOKE UPDATE, DELETE ON lead_status_changes FROM {APP_ROLE}")

    op.create_table(
        "lead_scoring_weights",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "jsonb_typeof(weights) = 'object'", name=op.f("ck_lead_scoring_weights_weights_object")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_scoring_weights_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_lead_scoring_weights_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lead_scoring_weights")),
        sa.UniqueConstraint("account_id", name=op.f("uq_lead_scoring_weights_account_id")),
    )
    op.create_index("ix_lead_scoring_weights_updated_by", "lead_scoring_weights", ["updated_by"])
    enable_tenant_isolation(bind, "lead_scoring_weights")
    op.execute(
        "CREATE TRIGGER touch_updated_at BEFORE UPDATE ON lead_scoring_weights "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON lead_scoring_weights "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )

    op.create_table(
        "lead_imports",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("csv_text", sa.Text(), nullable=False),
        sa.Column(
            "mapping",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(mapping) = 'object'", name=op.f("ck_lead_imports_mapping_object")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_lead_imports_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_lead_imports_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_lead_imports")),
    )
    op.create_index("ix_lead_imports_created_by", "lead_imports", ["created_by"])
    enable_tenant_isolation(bind, "lead_imports")
    op.execute(PURGE_FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {PURGE} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(f"DROP FUNCTION {PURGE}")
    disable_tenant_isolation(bind, "lead_imports")
    op.drop_table("lead_imports")
    disable_tenant_isolation(bind, "lead_scoring_weights")
    op.drop_table("lead_scoring_weights")
    disable_tenant_isolation(bind, "lead_status_changes")
    op.drop_table("lead_status_changes")
    op.execute(CAPTURE_CHANGE_0003)
    op.execute("DROP TRIGGER bump_version ON leads")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON leads "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )
    op.drop_index("ix_leads_tags", table_name="leads")
    op.drop_index("ix_leads_account_id_score", table_name="leads")
    op.drop_index("uq_leads_account_id_email", table_name="leads")
    for check in (
        "ck_leads_email_trimmed",
        "ck_leads_score_breakdown_object",
        "ck_leads_engagement_non_negative",
    ):
        op.drop_constraint(op.f(check), "leads", type_="check")
    for column in (
        "last_engaged_at",
        "form_submissions",
        "email_clicks",
        "email_opens",
        "scored_at",
        "score_breakdown",
        *reversed(UTM),
    ):
        op.drop_column("leads", column)
