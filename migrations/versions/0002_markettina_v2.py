"""Markettina v2: accounts and the nine bounded contexts, tenant isolation in the database,
and a lossless upgrade of the v1 data.

Every v1 user gets an account of their own (owner membership, slug from the e-mail), and
every v1 row moves to its owner's account; rows with no known owner go to one ``legacy``
account. ``brand_settings`` is copied into ``brand_dna`` and stays, read-only. Nothing is
dropped: ``downgrade`` removes what v2 added and gives the v1 tables back their v1 shape.

Revision ID: 0002_markettina_v2
Revises: 0001_v1_baseline
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from markettina.kernel.db.schema_support import (
    disable_tenant_isolation,
    enable_tenant_isolation,
)

revision: str = "0002_markettina_v2"
down_revision: str | None = "0001_v1_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# v1 tables that become tenant tables; children after their parents
V1_TENANT_TABLES = (
    "leads", "email_campaigns", "scheduled_posts", "editorial_calendars", "brand_settings",
    "customers", "customer_notes", "customer_interactions",
    "token_wallets", "token_transactions", "subscriptions", "payments", "usage_records",
    "analytics_events",
)  # fmt: skip

# how each v1 tenant table finds its owner: a user_id of its own, or its parent's account
OWNER_BY_USER = (
    "leads", "email_campaigns", "scheduled_posts", "editorial_calendars", "brand_settings",
    "customers", "token_wallets", "subscriptions", "payments", "usage_records",
    "analytics_events",
)  # fmt: skip
OWNER_BY_PARENT = {
    "customer_notes": ("customers", "customer_id"),
    "customer_interactions": ("customers", "customer_id"),
    "token_transactions": ("token_wallets", "wallet_id"),
}

# tables created by this revision, in creation order (dropped in reverse)
NEW_TABLES = (
    "promo_codes",
    "service_pricing",
    "stripe_events",
    "accounts",
    "account_memberships",
    "ai_jobs",
    "api_keys",
    "api_rate_limits",
    "approval_workflows",
    "async_jobs",
    "brand_dna",
    "campaigns",
    "competitor_profiles",
    "content_templates",
    "content_variants",
    "content_versions",
    "cross_post_configs",
    "document_categories",
    "domain_events",
    "feature_flags",
    "idempotency_keys",
    "invoices",
    "media_assets",
    "performance_predictions",
    "referral_program",
    "search_history",
    "social_accounts",
    "user_permissions",
    "webhooks",
    "workflows",
    "ai_job_logs",
    "brand_dna_versions",
    "competitor_metrics",
    "content_approvals",
    "invoice_items",
    "knowledge_documents",
    "media_tags",
    "social_account_health",
    "webhook_deliveries",
    "workflow_executions",
    "workflow_schedules",
    "content_generations",
    "cross_posts",
    "document_chunks",
    "image_generations",
    "promo_redemptions",
    "sentiment_analysis",
    "social_comments",
    "social_mentions",
    "social_metrics",
    "video_generations",
    "workflow_logs",
)

# tenant tables whose rows are history: the app may add rows, never change or remove them
APPEND_ONLY = (
    "token_transactions", "content_versions", "brand_dna_versions", "ai_job_logs",
    "workflow_logs", "admin_audit_logs",
)  # fmt: skip
# global tables: readable by the app, changed only through their owning services, never
# deleted (deactivate instead; history matters for prices, codes and payments)
GLOBAL_NO_DELETE = (
    "users", "accounts", "token_packages", "service_pricing", "promo_codes",
    "referral_program", "stripe_events",
)  # fmt: skip

DEFAULT_PRICES = (
    ("text_generation", "social_caption", 5, "Social caption"),
    ("text_generation", "blog_post", 50, "Blog post"),
    ("text_generation", "email_copy", 20, "E-mail copy"),
    ("image_generation", "dalle3", 20, "Image (DALL-E 3)"),
    ("image_generation", "stable_diffusion", 10, "Image (Stable Diffusion)"),
    ("video_generation", "short_video", 100, "Short video"),
    ("social_publish", "single_platform", 2, "Publish to one platform"),
    ("social_publish", "cross_post", 5, "Cross-post"),
    ("analytics", "sentiment_analysis", 5, "Sentiment analysis"),
    ("analytics", "competitor_report", 30, "Competitor report"),
    ("lead_research", "google_places", 3, "Lead research (Google Places)"),
    ("lead_research", "enrichment", 10, "Lead enrichment"),
)


def upgrade() -> None:
    bind = op.get_bind()
    _create_accounts_and_memberships()
    _give_every_v1_row_an_account(bind)
    _make_v1_tables_tenant_tables()
    _create_new_tables()
    op.create_foreign_key(
        op.f("fk_scheduled_posts_account_id_campaign_id_campaigns"),
        "scheduled_posts",
        "campaigns",
        ["account_id", "campaign_id"],
        ["account_id", "id"],
        ondelete="SET NULL (campaign_id)",
    )
    _store_embeddings_as_vectors_when_available(bind)
    op.execute("CREATE TABLE domain_events_default PARTITION OF domain_events DEFAULT")
    _copy_brand_settings_to_brand_dna()
    _seed_service_pricing()
    _isolate_tenants(bind)
    _limit_app_privileges()


def downgrade() -> None:
    bind = op.get_bind()
    _restore_app_privileges()
    for table in V1_TENANT_TABLES:
        disable_tenant_isolation(bind, table)
    # the v2 references on v1 tables, then everything v2 created
    op.drop_constraint(
        op.f("fk_usage_records_account_id_accounts"), "usage_records", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_token_wallets_account_id_accounts"), "token_wallets", type_="foreignkey"
    )
    op.drop_constraint(op.f("uq_token_wallets_account_id"), "token_wallets", type_="unique")
    op.drop_constraint(
        op.f("fk_token_transactions_account_id_accounts"), "token_transactions", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_token_transactions_account_id_wallet_id_token_wallets"),
        "token_transactions",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_subscriptions_account_id_accounts"), "subscriptions", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_scheduled_posts_account_id_campaign_id_campaigns"),
        "scheduled_posts",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_scheduled_posts_deleted_by_users"), "scheduled_posts", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_scheduled_posts_account_id_accounts"), "scheduled_posts", type_="foreignkey"
    )
    op.drop_constraint(op.f("fk_payments_account_id_accounts"), "payments", type_="foreignkey")
    op.drop_constraint(op.f("fk_leads_deleted_by_users"), "leads", type_="foreignkey")
    op.drop_constraint(op.f("fk_leads_account_id_accounts"), "leads", type_="foreignkey")
    op.drop_constraint(
        op.f("fk_email_campaigns_deleted_by_users"), "email_campaigns", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_email_campaigns_account_id_accounts"), "email_campaigns", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_editorial_calendars_deleted_by_users"), "editorial_calendars", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_editorial_calendars_account_id_accounts"),
        "editorial_calendars",
        type_="foreignkey",
    )
    op.drop_constraint(op.f("fk_customers_deleted_by_users"), "customers", type_="foreignkey")
    op.drop_constraint(op.f("fk_customers_account_id_accounts"), "customers", type_="foreignkey")
    op.drop_constraint(
        op.f("fk_customer_notes_account_id_customer_id_customers"),
        "customer_notes",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_customer_notes_account_id_accounts"), "customer_notes", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_customer_interactions_account_id_accounts"),
        "customer_interactions",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_customer_interactions_account_id_customer_id_customers"),
        "customer_interactions",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_brand_settings_account_id_accounts"), "brand_settings", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_analytics_events_account_id_accounts"), "analytics_events", type_="foreignkey"
    )
    for table in reversed(NEW_TABLES):
        if table not in ("accounts", "account_memberships"):
            op.drop_table(table)
    for table in V1_TENANT_TABLES:
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
            f"ADD CONSTRAINT pk_{table} PRIMARY KEY (id)"
        )
    op.drop_index("ix_usage_records_account_id_recorded_at", table_name="usage_records")
    op.drop_index("ix_token_wallets_user_id", table_name="token_wallets")
    op.create_unique_constraint(
        op.f("uq_token_wallets_user_id"),
        "token_wallets",
        ["user_id"],
        postgresql_nulls_not_distinct=False,
    )
    op.alter_column("token_wallets", "user_id", existing_type=sa.INTEGER(), nullable=False)
    op.create_foreign_key(
        op.f("fk_token_transactions_wallet_id_token_wallets"),
        "token_transactions",
        "token_wallets",
        ["wallet_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index(
        "ix_token_transactions_account_id_wallet_id_created_at", table_name="token_transactions"
    )
    op.create_index(
        op.f("ix_token_transactions_wallet_id_created_at"),
        "token_transactions",
        ["wallet_id", "created_at"],
        unique=False,
    )
    op.drop_index("ix_subscriptions_account_id_status_created_at", table_name="subscriptions")
    op.drop_index(op.f("ix_scheduled_posts_deleted_by"), table_name="scheduled_posts")
    op.drop_index("ix_scheduled_posts_account_id_status_created_at", table_name="scheduled_posts")
    op.drop_index("ix_scheduled_posts_account_id_campaign_id", table_name="scheduled_posts")
    op.drop_column("scheduled_posts", "version")
    op.drop_column("scheduled_posts", "deleted_by")
    op.drop_column("scheduled_posts", "deleted_at")
    op.drop_column("scheduled_posts", "campaign_id")
    op.drop_index("ix_payments_account_id_status_created_at", table_name="payments")
    op.drop_index(op.f("ix_leads_deleted_by"), table_name="leads")
    op.drop_index("ix_leads_account_id_status_created_at", table_name="leads")
    op.drop_index("ix_leads_account_id_created_at", table_name="leads")
    op.drop_column("leads", "version")
    op.drop_column("leads", "deleted_by")
    op.drop_column("leads", "deleted_at")
    op.drop_index(op.f("ix_email_campaigns_deleted_by"), table_name="email_campaigns")
    op.drop_index("ix_email_campaigns_account_id_status_created_at", table_name="email_campaigns")
    op.drop_column("email_campaigns", "version")
    op.drop_column("email_campaigns", "deleted_by")
    op.drop_column("email_campaigns", "deleted_at")
    op.drop_index(op.f("ix_editorial_calendars_deleted_by"), table_name="editorial_calendars")
    op.drop_column("editorial_calendars", "version")
    op.drop_column("editorial_calendars", "deleted_by")
    op.drop_column("editorial_calendars", "deleted_at")
    op.drop_index(op.f("ix_customers_deleted_by"), table_name="customers")
    op.drop_column("customers", "version")
    op.drop_column("customers", "deleted_by")
    op.drop_column("customers", "deleted_at")
    op.create_foreign_key(
        op.f("fk_customer_notes_customer_id_customers"),
        "customer_notes",
        "customers",
        ["customer_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("ix_customer_notes_account_id_customer_id", table_name="customer_notes")
    op.create_index(
        op.f("ix_customer_notes_customer_id"), "customer_notes", ["customer_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_customer_interactions_customer_id_customers"),
        "customer_interactions",
        "customers",
        ["customer_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index(
        "ix_customer_interactions_account_id_customer_id_occurred_at",
        table_name="customer_interactions",
    )
    op.create_index(
        op.f("ix_customer_interactions_customer_id_occurred_at"),
        "customer_interactions",
        ["customer_id", "occurred_at"],
        unique=False,
    )
    op.drop_index("ix_analytics_events_account_id_occurred_at", table_name="analytics_events")
    for table in V1_TENANT_TABLES:
        op.drop_column(table, "account_id")
    op.drop_table("account_memberships")
    op.drop_table("accounts")


def _create_accounts_and_memberships() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("plan_tier", sa.Text(), server_default=sa.text("'free'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("parent_account_id", sa.Uuid(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "plan_tier IN ('free', 'starter', 'pro', 'agency', 'enterprise')",
            name=op.f("ck_accounts_plan_tier"),
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'", name=op.f("ck_accounts_slug_format")
        ),
        sa.CheckConstraint("parent_account_id <> id", name=op.f("ck_accounts_not_own_parent")),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_accounts_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_account_id"],
            ["accounts.id"],
            name=op.f("fk_accounts_parent_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("slug", name=op.f("uq_accounts_slug")),
    )
    op.create_index(op.f("ix_accounts_deleted_by"), "accounts", ["deleted_by"], unique=False)
    op.create_index(
        op.f("ix_accounts_parent_account_id"), "accounts", ["parent_account_id"], unique=False
    )
    op.create_table(
        "account_memberships",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'editor', 'viewer')",
            name=op.f("ck_account_memberships_role"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_memberships_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_account_memberships_invited_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_account_memberships")),
        sa.UniqueConstraint(
            "account_id", "user_id", name=op.f("uq_account_memberships_account_id_user_id")
        ),
    )
    op.create_index(
        "ix_account_memberships_invited_by", "account_memberships", ["invited_by"], unique=False
    )
    op.create_index(
        "ix_account_memberships_user_id", "account_memberships", ["user_id"], unique=False
    )


def _give_every_v1_row_an_account(bind: sa.engine.Connection) -> None:
    """One account per v1 user (owner membership), then every v1 row into its owner's account."""
    op.execute(
        """
        CREATE TEMPORARY TABLE v1_account_of_user ON COMMIT DROP AS
        WITH base AS (
            SELECT id AS user_id, email, full_name, created_at,
                   coalesce(nullif(trim(BOTH '-' FROM left(
                       regexp_replace(lower(split_part(email, '@', 1)), '[^a-z0-9]+', '-', 'g'),
                       50)), ''), 'user') AS base
            FROM users
        )
        SELECT user_id, gen_random_uuid() AS account_id, full_name, email, created_at,
               CASE WHEN count(*) OVER (PARTITION BY base) > 1 OR base = 'legacy'
                    THEN base || '-' || user_id ELSE base END AS slug
        FROM base
        """
    )
    op.execute(
        """
        INSERT INTO accounts (id, name, slug, created_at, updated_at)
        SELECT account_id, coalesce(nullif(full_name, ''), email), slug, created_at, created_at
        FROM v1_account_of_user
        """
    )
    op.execute(
        """
        INSERT INTO account_memberships (account_id, user_id, role, accepted_at, created_at)
        SELECT account_id, user_id, 'owner', created_at, created_at FROM v1_account_of_user
        """
    )
    for table in V1_TENANT_TABLES:
        op.add_column(table, sa.Column("account_id", sa.Uuid(), nullable=True))
    for table in OWNER_BY_USER:
        op.execute(
            f"UPDATE {table} AS t SET account_id = m.account_id "
            f"FROM v1_account_of_user AS m WHERE t.user_id = m.user_id"
        )
    for table, (parent, column) in OWNER_BY_PARENT.items():
        op.execute(
            f"UPDATE {table} AS t SET account_id = p.account_id "
            f"FROM {parent} AS p WHERE t.{column} = p.id"
        )
    orphans = sum(
        bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE account_id IS NULL")).scalar_one()
        for table in V1_TENANT_TABLES
    )
    if orphans:
        legacy = bind.execute(
            sa.text(
                "INSERT INTO accounts (name, slug) "
                "VALUES ('Legacy (v1 rows without a known owner)', 'legacy') RETURNING id"
            )
        ).scalar_one()
        for table in V1_TENANT_TABLES:
            bind.execute(
                sa.text(f"UPDATE {table} SET account_id = :legacy WHERE account_id IS NULL"),
                {"legacy": legacy},
            )
    for table in V1_TENANT_TABLES:
        op.alter_column(table, "account_id", nullable=False)


def _make_v1_tables_tenant_tables() -> None:
    # references to the v1 primary keys go first: those keys become (account_id, id)
    op.drop_constraint(
        op.f("fk_customer_interactions_customer_id_customers"),
        "customer_interactions",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_customer_notes_customer_id_customers"), "customer_notes", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_token_transactions_wallet_id_token_wallets"),
        "token_transactions",
        type_="foreignkey",
    )
    for table in V1_TENANT_TABLES:
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
            f"ADD CONSTRAINT pk_{table} PRIMARY KEY (account_id, id)"
        )
    op.create_index(
        "ix_analytics_events_account_id_occurred_at",
        "analytics_events",
        ["account_id", "occurred_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_analytics_events_account_id_accounts"),
        "analytics_events",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_brand_settings_account_id_accounts"),
        "brand_settings",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.drop_index(
        op.f("ix_customer_interactions_customer_id_occurred_at"), table_name="customer_interactions"
    )
    op.create_index(
        "ix_customer_interactions_account_id_customer_id_occurred_at",
        "customer_interactions",
        ["account_id", "customer_id", "occurred_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_customer_interactions_account_id_customer_id_customers"),
        "customer_interactions",
        "customers",
        ["account_id", "customer_id"],
        ["account_id", "id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        op.f("fk_customer_interactions_account_id_accounts"),
        "customer_interactions",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.drop_index(op.f("ix_customer_notes_customer_id"), table_name="customer_notes")
    op.create_index(
        "ix_customer_notes_account_id_customer_id",
        "customer_notes",
        ["account_id", "customer_id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_customer_notes_account_id_accounts"),
        "customer_notes",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_customer_notes_account_id_customer_id_customers"),
        "customer_notes",
        "customers",
        ["account_id", "customer_id"],
        ["account_id", "id"],
        ondelete="CASCADE",
    )
    op.add_column("customers", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("deleted_by", sa.Integer(), nullable=True))
    op.add_column(
        "customers", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.create_index(op.f("ix_customers_deleted_by"), "customers", ["deleted_by"], unique=False)
    op.create_foreign_key(
        op.f("fk_customers_account_id_accounts"), "customers", "accounts", ["account_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_customers_deleted_by_users"),
        "customers",
        "users",
        ["deleted_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column(
        "editorial_calendars", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("editorial_calendars", sa.Column("deleted_by", sa.Integer(), nullable=True))
    op.add_column(
        "editorial_calendars",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.create_index(
        op.f("ix_editorial_calendars_deleted_by"),
        "editorial_calendars",
        ["deleted_by"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_editorial_calendars_account_id_accounts"),
        "editorial_calendars",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_editorial_calendars_deleted_by_users"),
        "editorial_calendars",
        "users",
        ["deleted_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column(
        "email_campaigns", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("email_campaigns", sa.Column("deleted_by", sa.Integer(), nullable=True))
    op.add_column(
        "email_campaigns",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.create_index(
        "ix_email_campaigns_account_id_status_created_at",
        "email_campaigns",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_email_campaigns_deleted_by"), "email_campaigns", ["deleted_by"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_email_campaigns_account_id_accounts"),
        "email_campaigns",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_email_campaigns_deleted_by_users"),
        "email_campaigns",
        "users",
        ["deleted_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("leads", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("leads", sa.Column("deleted_by", sa.Integer(), nullable=True))
    op.add_column(
        "leads", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.create_index(
        "ix_leads_account_id_created_at", "leads", ["account_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_leads_account_id_status_created_at",
        "leads",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_leads_deleted_by"), "leads", ["deleted_by"], unique=False)
    op.create_foreign_key(
        op.f("fk_leads_account_id_accounts"), "leads", "accounts", ["account_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_leads_deleted_by_users"),
        "leads",
        "users",
        ["deleted_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_payments_account_id_status_created_at",
        "payments",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_payments_account_id_accounts"), "payments", "accounts", ["account_id"], ["id"]
    )
    op.add_column("scheduled_posts", sa.Column("campaign_id", sa.Uuid(), nullable=True))
    op.add_column(
        "scheduled_posts", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("scheduled_posts", sa.Column("deleted_by", sa.Integer(), nullable=True))
    op.add_column(
        "scheduled_posts",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.create_index(
        "ix_scheduled_posts_account_id_campaign_id",
        "scheduled_posts",
        ["account_id", "campaign_id"],
        unique=False,
    )
    op.create_index(
        "ix_scheduled_posts_account_id_status_created_at",
        "scheduled_posts",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_scheduled_posts_deleted_by"), "scheduled_posts", ["deleted_by"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_scheduled_posts_account_id_accounts"),
        "scheduled_posts",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_scheduled_posts_deleted_by_users"),
        "scheduled_posts",
        "users",
        ["deleted_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_subscriptions_account_id_status_created_at",
        "subscriptions",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_subscriptions_account_id_accounts"),
        "subscriptions",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.drop_index(
        op.f("ix_token_transactions_wallet_id_created_at"), table_name="token_transactions"
    )
    op.create_index(
        "ix_token_transactions_account_id_wallet_id_created_at",
        "token_transactions",
        ["account_id", "wallet_id", "created_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_token_transactions_account_id_wallet_id_token_wallets"),
        "token_transactions",
        "token_wallets",
        ["account_id", "wallet_id"],
        ["account_id", "id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        op.f("fk_token_transactions_account_id_accounts"),
        "token_transactions",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.alter_column("token_wallets", "user_id", existing_type=sa.INTEGER(), nullable=True)
    op.drop_constraint(op.f("uq_token_wallets_user_id"), "token_wallets", type_="unique")
    op.create_index("ix_token_wallets_user_id", "token_wallets", ["user_id"], unique=False)
    op.create_unique_constraint(
        op.f("uq_token_wallets_account_id"), "token_wallets", ["account_id"]
    )
    op.create_foreign_key(
        op.f("fk_token_wallets_account_id_accounts"),
        "token_wallets",
        "accounts",
        ["account_id"],
        ["id"],
    )
    op.create_index(
        "ix_usage_records_account_id_recorded_at",
        "usage_records",
        ["account_id", "recorded_at"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_usage_records_account_id_accounts"),
        "usage_records",
        "accounts",
        ["account_id"],
        ["id"],
    )


def _create_new_tables() -> None:
    op.create_table(
        "promo_codes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("discount_type", sa.Text(), nullable=False),
        sa.Column("discount_value", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("current_uses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_uses_per_user", sa.Integer(), server_default=sa.text("1"), nullable=True),
        sa.Column("min_purchase_cents", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "applicable_packages",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "applicable_plans",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("internal_notes", sa.Text(), nullable=True),
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
        sa.CheckConstraint(
            "discount_type <> 'percent' OR discount_value <= 100",
            name=op.f("ck_promo_codes_percent_at_most_100"),
        ),
        sa.CheckConstraint(
            "discount_type IN ('percent', 'fixed_amount', 'bonus_tokens')",
            name=op.f("ck_promo_codes_discount_type"),
        ),
        sa.CheckConstraint(
            "current_uses <= max_uses", name=op.f("ck_promo_codes_current_uses_within_max")
        ),
        sa.CheckConstraint(
            "current_uses >= 0", name=op.f("ck_promo_codes_current_uses_non_negative")
        ),
        sa.CheckConstraint(
            "discount_value > 0", name=op.f("ck_promo_codes_discount_value_positive")
        ),
        sa.CheckConstraint("max_uses > 0", name=op.f("ck_promo_codes_max_uses_positive")),
        sa.CheckConstraint(
            "max_uses_per_user > 0", name=op.f("ck_promo_codes_max_uses_per_user_positive")
        ),
        sa.CheckConstraint(
            "min_purchase_cents >= 0", name=op.f("ck_promo_codes_min_purchase_non_negative")
        ),
        sa.CheckConstraint("valid_from <= valid_to", name=op.f("ck_promo_codes_valid_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
    )
    op.create_index(
        "uq_promo_codes_code", "promo_codes", [sa.literal_column("lower(code)")], unique=True
    )
    op.create_table(
        "service_pricing",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("service_subtype", sa.Text(), nullable=True),
        sa.Column("token_cost", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "effective_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False
        ),
        sa.Column("effective_to", sa.Date(), nullable=True),
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
        sa.CheckConstraint(
            "effective_from <= effective_to", name=op.f("ck_service_pricing_effective_period")
        ),
        sa.CheckConstraint("token_cost > 0", name=op.f("ck_service_pricing_token_cost_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_pricing")),
        sa.UniqueConstraint(
            "service_type",
            "service_subtype",
            "effective_from",
            name=op.f("uq_service_pricing_service_type_service_subtype_effective_from"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_table(
        "ai_jobs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("input_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tokens_consumed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
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
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_ai_jobs_status"),
        ),
        sa.CheckConstraint(
            "completed_at >= started_at", name=op.f("ck_ai_jobs_completed_after_started")
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 10", name=op.f("ck_ai_jobs_priority_range")),
        sa.CheckConstraint(
            "retry_count >= 0 AND max_retries >= 0 AND tokens_consumed >= 0",
            name=op.f("ck_ai_jobs_counters_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ai_jobs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ai_jobs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_ai_jobs")),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name=op.f("uq_ai_jobs_account_id_idempotency_key")
        ),
    )
    op.create_index(
        "ix_ai_jobs_account_id_status_created_at",
        "ai_jobs",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index("ix_ai_jobs_created_by", "ai_jobs", ["created_by"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column(
            "scopes", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "length(prefix) BETWEEN 6 AND 16", name=op.f("ck_api_keys_prefix_length")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index("ix_api_keys_created_by", "api_keys", ["created_by"], unique=False)
    op.create_table(
        "api_rate_limits",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("limit_per_hour", sa.Integer(), nullable=True),
        sa.Column("limit_per_day", sa.Integer(), nullable=True),
        sa.Column(
            "current_minute_count", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("current_hour_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("current_day_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("minute_reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hour_reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("day_reset_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "current_minute_count >= 0 AND current_hour_count >= 0 AND current_day_count >= 0",
            name=op.f("ck_api_rate_limits_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "limit_per_minute > 0 AND limit_per_hour > 0 AND limit_per_day > 0",
            name=op.f("ck_api_rate_limits_limits_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_rate_limits_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_api_rate_limits")),
        sa.UniqueConstraint(
            "account_id", "endpoint", name=op.f("uq_api_rate_limits_account_id_endpoint")
        ),
    )
    op.create_table(
        "approval_workflows",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "content_types",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "jsonb_typeof(steps) = 'array' AND steps <> '[]'::jsonb",
            name=op.f("ck_approval_workflows_steps_non_empty_array"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_approval_workflows_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_approval_workflows_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_approval_workflows")),
    )
    op.create_index(
        op.f("ix_approval_workflows_deleted_by"), "approval_workflows", ["deleted_by"], unique=False
    )
    op.create_index(
        "uq_approval_workflows_default_per_account",
        "approval_workflows",
        ["account_id"],
        unique=True,
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )
    op.create_table(
        "async_jobs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("progress_percent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("input_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_async_jobs_status"),
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 10", name=op.f("ck_async_jobs_priority_range")),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100", name=op.f("ck_async_jobs_progress_percent_range")
        ),
        sa.CheckConstraint(
            "retry_count >= 0 AND max_retries >= 0", name=op.f("ck_async_jobs_retries_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_async_jobs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_async_jobs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_async_jobs")),
    )
    op.create_index(
        "ix_async_jobs_account_id_status_created_at",
        "async_jobs",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index("ix_async_jobs_created_by", "async_jobs", ["created_by"], unique=False)
    op.create_table(
        "brand_dna",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("company_name", sa.Text(), nullable=True),
        sa.Column("tagline", sa.Text(), nullable=True),
        sa.Column("mission", sa.Text(), nullable=True),
        sa.Column("vision", sa.Text(), nullable=True),
        sa.Column("brand_story", sa.Text(), nullable=True),
        sa.Column("tone_of_voice", sa.Text(), nullable=True),
        sa.Column(
            "writing_style",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("primary_color", sa.Text(), nullable=True),
        sa.Column(
            "secondary_colors",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("accent_color", sa.Text(), nullable=True),
        sa.Column("font_family", sa.Text(), nullable=True),
        sa.Column("logo_url", sa.Text(), nullable=True),
        sa.Column(
            "core_values",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "target_demographics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "target_psychographics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "target_industries",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "target_company_sizes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "target_regions",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "keywords", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "competitor_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("usp", sa.Text(), nullable=True),
        sa.Column("sector", sa.Text(), nullable=True),
        sa.Column(
            "preferred_languages",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "default_hashtags",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "cta_templates",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("emoji_usage", sa.Text(), server_default=sa.text("'light'"), nullable=False),
        sa.Column("ai_persona", sa.Text(), nullable=True),
        sa.Column(
            "forbidden_words",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("typical_customer_journey", sa.Text(), nullable=True),
        sa.Column(
            "pain_points_addressed",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "accent_color ~ '^#[0-9A-Fa-f]{6}$'", name=op.f("ck_brand_dna_accent_color_hex")
        ),
        sa.CheckConstraint(
            "array_to_string(secondary_colors, ',', '?') ~ '^(#[0-9A-Fa-f]{6}(,#[0-9A-Fa-f]{6})*)?$'",
            name=op.f("ck_brand_dna_secondary_colors_hex"),
        ),
        sa.CheckConstraint(
            "emoji_usage IN ('none', 'light', 'moderate', 'heavy')",
            name=op.f("ck_brand_dna_emoji_usage"),
        ),
        sa.CheckConstraint(
            "primary_color ~ '^#[0-9A-Fa-f]{6}$'", name=op.f("ck_brand_dna_primary_color_hex")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_brand_dna_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_brand_dna_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_brand_dna")),
        sa.UniqueConstraint("account_id", name=op.f("uq_brand_dna_account_id")),
    )
    op.create_index(op.f("ix_brand_dna_deleted_by"), "brand_dna", ["deleted_by"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'planning'"), nullable=False),
        sa.Column("target_reach", sa.Integer(), nullable=True),
        sa.Column("target_engagement", sa.Integer(), nullable=True),
        sa.Column("target_conversions", sa.Integer(), nullable=True),
        sa.Column("target_leads", sa.Integer(), nullable=True),
        sa.Column("budget_tokens", sa.Integer(), nullable=True),
        sa.Column("spent_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('planning', 'active', 'paused', 'completed', 'archived')",
            name=op.f("ck_campaigns_status"),
        ),
        sa.CheckConstraint(
            "(target_reach IS NULL OR target_reach >= 0) AND (target_engagement IS NULL OR target_engagement >= 0) AND (target_conversions IS NULL OR target_conversions >= 0) AND (target_leads IS NULL OR target_leads >= 0)",
            name=op.f("ck_campaigns_targets_non_negative"),
        ),
        sa.CheckConstraint(
            "budget_tokens IS NULL OR spent_tokens <= budget_tokens",
            name=op.f("ck_campaigns_spent_within_budget"),
        ),
        sa.CheckConstraint(
            "spent_tokens >= 0 AND (budget_tokens IS NULL OR budget_tokens >= 0)",
            name=op.f("ck_campaigns_tokens_non_negative"),
        ),
        sa.CheckConstraint("start_date <= end_date", name=op.f("ck_campaigns_date_range")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_campaigns_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_campaigns_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_campaigns_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        "ix_campaigns_account_id_status_created_at",
        "campaigns",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index("ix_campaigns_created_by", "campaigns", ["created_by"], unique=False)
    op.create_index(op.f("ix_campaigns_deleted_by"), "campaigns", ["deleted_by"], unique=False)
    op.create_table(
        "competitor_profiles",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "social_handles",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("company_size", sa.Text(), nullable=True),
        sa.Column("track_social", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("track_content", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("track_seo", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_competitor_profiles_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_competitor_profiles_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_competitor_profiles")),
    )
    op.create_index(
        op.f("ix_competitor_profiles_deleted_by"),
        "competitor_profiles",
        ["deleted_by"],
        unique=False,
    )
    op.create_table(
        "content_templates",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=True),
        sa.Column("template_content", sa.Text(), nullable=False),
        sa.Column(
            "variables",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("tone_of_voice", sa.Text(), nullable=True),
        sa.Column("target_audience", sa.Text(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "jsonb_typeof(variables) = 'array'", name=op.f("ck_content_templates_variables_array")
        ),
        sa.CheckConstraint(
            "usage_count >= 0", name=op.f("ck_content_templates_usage_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_content_templates_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_content_templates_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_content_templates_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_content_templates")),
    )
    op.create_index(
        "ix_content_templates_account_id_content_type",
        "content_templates",
        ["account_id", "content_type"],
        unique=False,
    )
    op.create_index(
        "ix_content_templates_created_by", "content_templates", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_content_templates_deleted_by"), "content_templates", ["deleted_by"], unique=False
    )
    op.create_table(
        "content_variants",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("parent_content_type", sa.Text(), nullable=False),
        sa.Column("parent_content_id", sa.Text(), nullable=False),
        sa.Column("variant_name", sa.Text(), nullable=False),
        sa.Column("variant_content", sa.Text(), nullable=False),
        sa.Column(
            "traffic_percent",
            sa.Numeric(precision=5, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("impressions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("conversions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("engagement_score", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("is_winner", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.CheckConstraint(
            "impressions >= 0 AND clicks >= 0 AND conversions >= 0",
            name=op.f("ck_content_variants_counters_non_negative"),
        ),
        sa.CheckConstraint(
            "traffic_percent BETWEEN 0 AND 100",
            name=op.f("ck_content_variants_traffic_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_content_variants_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_content_variants")),
    )
    op.create_index(
        "ix_content_variants_account_id_parent_content",
        "content_variants",
        ["account_id", "parent_content_type", "parent_content_id"],
        unique=False,
    )
    op.create_index(
        "uq_content_variants_winner_per_parent",
        "content_variants",
        ["account_id", "parent_content_type", "parent_content_id"],
        unique=True,
        postgresql_where=sa.text("is_winner"),
    )
    op.create_table(
        "content_versions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("content_id", sa.Text(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("content_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=True),
        sa.Column(
            "changed_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
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
            "version_number >= 1", name=op.f("ck_content_versions_version_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_content_versions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_content_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_content_versions")),
        sa.UniqueConstraint(
            "account_id",
            "content_type",
            "content_id",
            "version_number",
            name="uq_content_versions_account_id_content_type_content_id_version",
        ),
    )
    op.create_index(
        "ix_content_versions_created_by", "content_versions", ["created_by"], unique=False
    )
    op.create_table(
        "cross_post_configs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("social_account_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "auto_adapt_dimensions", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "auto_adapt_caption_length",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
        ),
        sa.Column(
            "auto_adapt_hashtags", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "auto_adapt_mentions", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "platform_rules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "array_position(social_account_ids, NULL) IS NULL",
            name=op.f("ck_cross_post_configs_social_account_ids_no_nulls"),
        ),
        sa.CheckConstraint(
            "cardinality(social_account_ids) > 0",
            name=op.f("ck_cross_post_configs_social_account_ids_not_empty"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cross_post_configs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_cross_post_configs_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_cross_post_configs")),
    )
    op.create_index(
        op.f("ix_cross_post_configs_deleted_by"), "cross_post_configs", ["deleted_by"], unique=False
    )
    op.create_index(
        "uq_cross_post_configs_account_id_is_default",
        "cross_post_configs",
        ["account_id"],
        unique=True,
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )
    op.create_table(
        "document_categories",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("color", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("parent_id <> id", name=op.f("ck_document_categories_not_own_parent")),
        sa.ForeignKeyConstraint(
            ["account_id", "parent_id"],
            ["document_categories.account_id", "document_categories.id"],
            name=op.f("fk_document_categories_account_id_parent_id_document_categories"),
            ondelete="SET NULL (parent_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_document_categories_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_document_categories_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_document_categories_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_document_categories")),
    )
    op.create_index(
        "ix_document_categories_account_id_parent_id",
        "document_categories",
        ["account_id", "parent_id"],
        unique=False,
    )
    op.create_index(
        "ix_document_categories_created_by", "document_categories", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_document_categories_deleted_by"),
        "document_categories",
        ["deleted_by"],
        unique=False,
    )
    op.create_table(
        "domain_events",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("aggregate_type", sa.Text(), nullable=False),
        sa.Column("aggregate_id", sa.Text(), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("event_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("processed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "aggregate_version >= 0", name=op.f("ck_domain_events_aggregate_version_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_domain_events_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", "created_at", name=op.f("pk_domain_events")),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index(
        "ix_domain_events_account_id_aggregate_type_aggregate_id",
        "domain_events",
        ["account_id", "aggregate_type", "aggregate_id"],
        unique=False,
    )
    op.create_index(
        "ix_domain_events_processed_created_at",
        "domain_events",
        ["processed", "created_at"],
        unique=False,
        postgresql_where=sa.text("NOT processed"),
    )
    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("feature_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "config",
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
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_feature_flags_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_feature_flags_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flags")),
        sa.UniqueConstraint(
            "account_id",
            "feature_name",
            name=op.f("uq_feature_flags_account_id_feature_name"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_feature_flags_created_by", "feature_flags", ["created_by"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=True),
        sa.Column("response_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now() + interval '24 hours'"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_idempotency_keys_expires_after_created")
        ),
        sa.CheckConstraint(
            "status_code BETWEEN 100 AND 599", name=op.f("ck_idempotency_keys_status_code_http")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_idempotency_keys_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        "ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"], unique=False
    )
    op.create_table(
        "invoices",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("invoice_number", sa.Text(), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), server_default=sa.text("'EUR'"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_method", sa.Text(), nullable=True),
        sa.Column("payment_intent_id", sa.Text(), nullable=True),
        sa.Column("billing_name", sa.Text(), nullable=True),
        sa.Column("billing_email", sa.Text(), nullable=True),
        sa.Column("billing_address", sa.Text(), nullable=True),
        sa.Column("billing_vat_id", sa.Text(), nullable=True),
        sa.Column("pdf_url", sa.Text(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_invoices_currency_iso")),
        sa.CheckConstraint(
            "status IN ('draft', 'issued', 'paid', 'void', 'refunded')",
            name=op.f("ck_invoices_status"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('paid', 'refunded') OR paid_at IS NOT NULL",
            name=op.f("ck_invoices_paid_at_when_paid"),
        ),
        sa.CheckConstraint("issue_date <= due_date", name=op.f("ck_invoices_due_after_issue")),
        sa.CheckConstraint(
            "subtotal_cents >= 0 AND tax_cents >= 0", name=op.f("ck_invoices_amounts_non_negative")
        ),
        sa.CheckConstraint(
            "total_cents = subtotal_cents + tax_cents", name=op.f("ck_invoices_total")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_invoices_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_invoices_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("invoice_number", name=op.f("uq_invoices_invoice_number")),
    )
    op.create_index(
        "ix_invoices_account_id_status_created_at",
        "invoices",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_invoices_deleted_by"), "invoices", ["deleted_by"], unique=False)
    op.create_table(
        "media_assets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("original_filename", sa.Text(), nullable=True),
        sa.Column("mime_type", sa.Text(), nullable=False),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("storage_provider", sa.Text(), server_default=sa.text("'local'"), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=False),
        sa.Column("public_url", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("is_ai_generated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ai_prompt", sa.Text(), nullable=True),
        sa.Column("ai_model", sa.Text(), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "(width IS NULL OR width > 0) AND (height IS NULL OR height > 0)",
            name=op.f("ck_media_assets_dimensions_positive"),
        ),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0",
            name=op.f("ck_media_assets_duration_non_negative"),
        ),
        sa.CheckConstraint(
            "file_size_bytes >= 0", name=op.f("ck_media_assets_file_size_non_negative")
        ),
        sa.CheckConstraint(
            "usage_count >= 0", name=op.f("ck_media_assets_usage_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_media_assets_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_media_assets_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_media_assets_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_media_assets")),
    )
    op.create_index("ix_media_assets_created_by", "media_assets", ["created_by"], unique=False)
    op.create_index(
        op.f("ix_media_assets_deleted_by"), "media_assets", ["deleted_by"], unique=False
    )
    op.create_table(
        "performance_predictions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("prediction_type", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("content_id", sa.Text(), nullable=True),
        sa.Column("predicted_value", sa.Numeric(precision=16, scale=4), nullable=True),
        sa.Column("confidence_interval_low", sa.Numeric(precision=16, scale=4), nullable=True),
        sa.Column("confidence_interval_high", sa.Numeric(precision=16, scale=4), nullable=True),
        sa.Column("confidence_level", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column(
            "factors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "recommendations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("ai_model", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "confidence_interval_low <= confidence_interval_high",
            name=op.f("ck_performance_predictions_interval_ordered"),
        ),
        sa.CheckConstraint(
            "confidence_level > 0 AND confidence_level < 1",
            name=op.f("ck_performance_predictions_confidence_range"),
        ),
        sa.CheckConstraint(
            "predicted_value >= confidence_interval_low AND predicted_value <= confidence_interval_high",
            name=op.f("ck_performance_predictions_value_within_interval"),
        ),
        sa.CheckConstraint(
            "valid_from <= valid_to", name=op.f("ck_performance_predictions_validity_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_performance_predictions_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_performance_predictions")),
    )
    op.create_index(
        "ix_performance_predictions_account_id_content_type_content_id",
        "performance_predictions",
        ["account_id", "content_type", "content_id"],
        unique=False,
    )
    op.create_table(
        "referral_program",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("referrer_account_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_user_id", sa.Integer(), nullable=True),
        sa.Column("referral_code", sa.Text(), nullable=False),
        sa.Column("referred_account_id", sa.Uuid(), nullable=True),
        sa.Column("referred_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "referrer_bonus_tokens", sa.Integer(), server_default=sa.text("100"), nullable=False
        ),
        sa.Column(
            "referred_bonus_tokens", sa.Integer(), server_default=sa.text("50"), nullable=False
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now() + interval '30 days'"),
            nullable=False,
        ),
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
        sa.CheckConstraint(
            "status <> 'completed' OR (completed_at IS NOT NULL AND referred_account_id IS NOT NULL)",
            name=op.f("ck_referral_program_completed_has_referred"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'completed', 'expired', 'cancelled')",
            name=op.f("ck_referral_program_status"),
        ),
        sa.CheckConstraint(
            "referred_account_id <> referrer_account_id",
            name=op.f("ck_referral_program_not_self_referral"),
        ),
        sa.CheckConstraint(
            "referrer_bonus_tokens >= 0 AND referred_bonus_tokens >= 0",
            name=op.f("ck_referral_program_bonus_tokens_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["referred_account_id"],
            ["accounts.id"],
            name=op.f("fk_referral_program_referred_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referred_user_id"],
            ["users.id"],
            name=op.f("fk_referral_program_referred_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_account_id"],
            ["accounts.id"],
            name=op.f("fk_referral_program_referrer_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_user_id"],
            ["users.id"],
            name=op.f("fk_referral_program_referrer_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_program")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_referral_program_referral_code")),
    )
    op.create_index(
        "ix_referral_program_referred_account_id",
        "referral_program",
        ["referred_account_id"],
        unique=False,
    )
    op.create_index(
        "ix_referral_program_referred_user_id",
        "referral_program",
        ["referred_user_id"],
        unique=False,
    )
    op.create_index(
        "ix_referral_program_referrer_account_id",
        "referral_program",
        ["referrer_account_id"],
        unique=False,
    )
    op.create_index(
        "ix_referral_program_referrer_user_id",
        "referral_program",
        ["referrer_user_id"],
        unique=False,
    )
    op.create_table(
        "search_history",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("query_type", sa.Text(), server_default=sa.text("'keyword'"), nullable=False),
        sa.Column("results_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "top_results",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("was_helpful", sa.Boolean(), nullable=True),
        sa.Column("selected_result_id", sa.Uuid(), nullable=True),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "query_type IN ('keyword', 'semantic', 'hybrid', 'rag')",
            name=op.f("ck_search_history_query_type"),
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0", name=op.f("ck_search_history_response_time_non_negative")
        ),
        sa.CheckConstraint(
            "results_count >= 0", name=op.f("ck_search_history_results_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_search_history_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_search_history_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_search_history")),
    )
    op.create_index(
        "ix_search_history_account_id_created_at",
        "search_history",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_search_history_user_id", "search_history", ["user_id"], unique=False)
    op.create_table(
        "social_accounts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("platform_user_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("handle", sa.Text(), nullable=True),
        sa.Column("profile_image_url", sa.Text(), nullable=True),
        sa.Column("access_token_encrypted", sa.Text(), nullable=True),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "token_scope",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("followers_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("following_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("posts_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("sync_error", sa.Text(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "sync_status IN ('pending', 'syncing', 'ok', 'error')",
            name=op.f("ck_social_accounts_sync_status"),
        ),
        sa.CheckConstraint(
            "followers_count >= 0 AND following_count >= 0 AND posts_count >= 0",
            name=op.f("ck_social_accounts_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_social_accounts_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_social_accounts_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_accounts_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_social_accounts")),
        sa.UniqueConstraint(
            "account_id",
            "platform",
            "platform_user_id",
            name=op.f("uq_social_accounts_account_id_platform_platform_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_social_accounts_deleted_by"), "social_accounts", ["deleted_by"], unique=False
    )
    op.create_index("ix_social_accounts_user_id", "social_accounts", ["user_id"], unique=False)
    op.create_index(
        "uq_social_accounts_primary_per_platform",
        "social_accounts",
        ["account_id", "platform"],
        unique=True,
        postgresql_where=sa.text("is_primary AND deleted_at IS NULL"),
    )
    op.create_table(
        "user_permissions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("permission", sa.Text(), nullable=False),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_user_permissions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
            name=op.f("fk_user_permissions_granted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_permissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_user_permissions")),
        sa.UniqueConstraint(
            "account_id",
            "user_id",
            "resource_type",
            "resource_id",
            "permission",
            name=op.f(
                "uq_user_permissions_account_id_user_id_resource_type_resource_id_permission"
            ),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_user_permissions_granted_by", "user_permissions", ["granted_by"], unique=False
    )
    op.create_index("ix_user_permissions_user_id", "user_permissions", ["user_id"], unique=False)
    op.create_table(
        "webhooks",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("events", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column(
            "retry_delay_seconds", sa.Integer(), server_default=sa.text("60"), nullable=False
        ),
        sa.Column("total_deliveries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "successful_deliveries", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("failed_deliveries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("url ~* '^https?://'", name=op.f("ck_webhooks_url_http")),
        sa.CheckConstraint("cardinality(events) > 0", name=op.f("ck_webhooks_events_not_empty")),
        sa.CheckConstraint("retry_count >= 0", name=op.f("ck_webhooks_retry_count_non_negative")),
        sa.CheckConstraint(
            "retry_delay_seconds > 0", name=op.f("ck_webhooks_retry_delay_positive")
        ),
        sa.CheckConstraint(
            "total_deliveries >= 0 AND successful_deliveries >= 0 AND failed_deliveries >= 0",
            name=op.f("ck_webhooks_deliveries_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_webhooks_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_webhooks_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_webhooks_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_created_by", "webhooks", ["created_by"], unique=False)
    op.create_index(op.f("ix_webhooks_deleted_by"), "webhooks", ["deleted_by"], unique=False)
    op.create_table(
        "workflows",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("trigger_type", sa.Text(), nullable=False),
        sa.Column(
            "trigger_config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("execution_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("success_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_template", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("template_category", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "jsonb_typeof(actions) = 'array'", name=op.f("ck_workflows_actions_array")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(trigger_config) = 'object'",
            name=op.f("ck_workflows_trigger_config_object"),
        ),
        sa.CheckConstraint(
            "status <> 'active' OR jsonb_array_length(actions) > 0",
            name=op.f("ck_workflows_active_has_actions"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'paused', 'archived')", name=op.f("ck_workflows_status")
        ),
        sa.CheckConstraint(
            "trigger_type IN ('event', 'schedule', 'manual', 'webhook')",
            name=op.f("ck_workflows_trigger_type"),
        ),
        sa.CheckConstraint(
            "execution_count >= 0 AND success_count >= 0 AND failure_count >= 0",
            name=op.f("ck_workflows_counters_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_workflows_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_workflows_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_workflows_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_workflows")),
    )
    op.create_index(
        "ix_workflows_account_id_status_created_at",
        "workflows",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index("ix_workflows_created_by", "workflows", ["created_by"], unique=False)
    op.create_index(op.f("ix_workflows_deleted_by"), "workflows", ["deleted_by"], unique=False)
    op.create_table(
        "ai_job_logs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('debug', 'info', 'warning', 'error')", name=op.f("ck_ai_job_logs_level")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "job_id"],
            ["ai_jobs.account_id", "ai_jobs.id"],
            name=op.f("fk_ai_job_logs_account_id_job_id_ai_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ai_job_logs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_ai_job_logs")),
    )
    op.create_index(
        "ix_ai_job_logs_account_id_job_id", "ai_job_logs", ["account_id", "job_id"], unique=False
    )
    op.create_table(
        "brand_dna_versions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("brand_dna_id", sa.Uuid(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=True),
        sa.Column(
            "changed_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "version_number >= 1", name=op.f("ck_brand_dna_versions_version_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "brand_dna_id"],
            ["brand_dna.account_id", "brand_dna.id"],
            name=op.f("fk_brand_dna_versions_account_id_brand_dna_id_brand_dna"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_brand_dna_versions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["users.id"],
            name=op.f("fk_brand_dna_versions_changed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_brand_dna_versions")),
        sa.UniqueConstraint(
            "account_id",
            "brand_dna_id",
            "version_number",
            name=op.f("uq_brand_dna_versions_account_id_brand_dna_id_version_number"),
        ),
    )
    op.create_index(
        "ix_brand_dna_versions_changed_by", "brand_dna_versions", ["changed_by"], unique=False
    )
    op.create_table(
        "competitor_metrics",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("competitor_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("followers_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("following_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("posts_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("avg_engagement_rate", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("posting_frequency", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column(
            "top_hashtags",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "content_themes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "posting_times",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("our_followers_count", sa.BigInteger(), nullable=True),
        sa.Column("our_avg_engagement_rate", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("our_posting_frequency", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column(
            "measured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "avg_engagement_rate >= 0 AND our_avg_engagement_rate >= 0 AND posting_frequency >= 0 AND our_posting_frequency >= 0",
            name=op.f("ck_competitor_metrics_rates_non_negative"),
        ),
        sa.CheckConstraint(
            "followers_count >= 0 AND following_count >= 0 AND posts_count >= 0 AND our_followers_count >= 0",
            name=op.f("ck_competitor_metrics_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "competitor_id"],
            ["competitor_profiles.account_id", "competitor_profiles.id"],
            name=op.f("fk_competitor_metrics_account_id_competitor_id_competitor_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_competitor_metrics_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_competitor_metrics")),
    )
    op.create_index(
        "ix_competitor_metrics_account_id_competitor_id",
        "competitor_metrics",
        ["account_id", "competitor_id"],
        unique=False,
    )
    op.create_table(
        "content_approvals",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("content_id", sa.Text(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("current_step", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column(
            "approvals",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("delegated_to", sa.Integer(), nullable=True),
        sa.Column("delegation_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "jsonb_typeof(approvals) = 'array'", name=op.f("ck_content_approvals_approvals_array")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_review', 'approved', 'rejected', 'cancelled')",
            name=op.f("ck_content_approvals_status"),
        ),
        sa.CheckConstraint(
            "current_step >= 1", name=op.f("ck_content_approvals_current_step_positive")
        ),
        sa.CheckConstraint(
            "delegation_expires_at IS NULL OR delegated_to IS NOT NULL",
            name=op.f("ck_content_approvals_delegation_expiry_needs_delegate"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "workflow_id"],
            ["approval_workflows.account_id", "approval_workflows.id"],
            name=op.f("fk_content_approvals_account_id_workflow_id_approval_workflows"),
            ondelete="SET NULL (workflow_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_content_approvals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["delegated_to"],
            ["users.id"],
            name=op.f("fk_content_approvals_delegated_to_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_content_approvals")),
        sa.UniqueConstraint(
            "account_id",
            "content_type",
            "content_id",
            name=op.f("uq_content_approvals_account_id_content_type_content_id"),
        ),
    )
    op.create_index(
        "ix_content_approvals_account_id_status_created_at",
        "content_approvals",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_content_approvals_account_id_workflow_id",
        "content_approvals",
        ["account_id", "workflow_id"],
        unique=False,
    )
    op.create_index(
        "ix_content_approvals_delegated_to", "content_approvals", ["delegated_to"], unique=False
    )
    op.create_table(
        "invoice_items",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("service_type", sa.Text(), nullable=True),
        sa.Column("resource_id", sa.Text(), nullable=True),
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
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_invoice_items_quantity_positive")),
        sa.CheckConstraint(
            "total_cents = quantity * unit_price_cents", name=op.f("ck_invoice_items_total")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "invoice_id"],
            ["invoices.account_id", "invoices.id"],
            name=op.f("fk_invoice_items_account_id_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_invoice_items_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_invoice_items")),
    )
    op.create_index(
        "ix_invoice_items_account_id_invoice_id",
        "invoice_items",
        ["account_id", "invoice_id"],
        unique=False,
    )
    op.create_table(
        "knowledge_documents",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_type", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("original_filename", sa.Text(), nullable=True),
        sa.Column("content_text", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.Text(), nullable=True),
        sa.Column(
            "processing_status", sa.Text(), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("chunks_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("vector_store", sa.Text(), nullable=True),
        sa.Column("namespace", sa.Text(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "content_hash ~ '^[0-9a-f]{64}$'",
            name=op.f("ck_knowledge_documents_content_hash_sha256"),
        ),
        sa.CheckConstraint(
            "processing_status IN ('pending', 'processing', 'ready', 'failed')",
            name=op.f("ck_knowledge_documents_processing_status"),
        ),
        sa.CheckConstraint(
            "source_type IN ('upload', 'text', 'url', 'generated')",
            name=op.f("ck_knowledge_documents_source_type"),
        ),
        sa.CheckConstraint(
            "chunks_count >= 0", name=op.f("ck_knowledge_documents_chunks_count_non_negative")
        ),
        sa.CheckConstraint(
            "file_size_bytes >= 0", name=op.f("ck_knowledge_documents_file_size_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "category_id"],
            ["document_categories.account_id", "document_categories.id"],
            name="fk_knowledge_documents_account_id_category_id_categories",
            ondelete="SET NULL (category_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_knowledge_documents_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_knowledge_documents_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_knowledge_documents_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_knowledge_documents")),
    )
    op.create_index(
        "ix_knowledge_documents_account_id_category_id",
        "knowledge_documents",
        ["account_id", "category_id"],
        unique=False,
    )
    op.create_index(
        "ix_knowledge_documents_account_id_processing_status_created_at",
        "knowledge_documents",
        ["account_id", "processing_status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_knowledge_documents_created_by", "knowledge_documents", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_knowledge_documents_deleted_by"),
        "knowledge_documents",
        ["deleted_by"],
        unique=False,
    )
    op.create_index(
        "uq_knowledge_documents_account_id_content_hash",
        "knowledge_documents",
        ["account_id", "content_hash"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND content_hash IS NOT NULL"),
    )
    op.create_table(
        "media_tags",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("media_asset_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("tag_type", sa.Text(), server_default=sa.text("'user'"), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=5, scale=4), nullable=True),
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
        sa.CheckConstraint(
            "tag_type IN ('user', 'ai', 'system')", name=op.f("ck_media_tags_tag_type")
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_media_tags_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "media_asset_id"],
            ["media_assets.account_id", "media_assets.id"],
            name=op.f("fk_media_tags_account_id_media_asset_id_media_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_media_tags_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_media_tags")),
        sa.UniqueConstraint(
            "account_id",
            "media_asset_id",
            "tag",
            name=op.f("uq_media_tags_account_id_media_asset_id_tag"),
        ),
    )
    op.create_index(
        "ix_media_tags_account_id_tag", "media_tags", ["account_id", "tag"], unique=False
    )
    op.create_table(
        "social_account_health",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("social_account_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("last_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("rate_limit_remaining", sa.Integer(), nullable=True),
        sa.Column("rate_limit_reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('healthy', 'degraded', 'unhealthy', 'expired', 'revoked')",
            name=op.f("ck_social_account_health_status"),
        ),
        sa.CheckConstraint(
            "consecutive_failures >= 0", name=op.f("ck_social_account_health_failures_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "social_account_id"],
            ["social_accounts.account_id", "social_accounts.id"],
            name=op.f("fk_social_account_health_account_id_social_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_social_account_health_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_social_account_health")),
    )
    op.create_index(
        "ix_social_account_health_account_id_social_account_id",
        "social_account_health",
        ["account_id", "social_account_id"],
        unique=False,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivering', 'succeeded', 'failed', 'abandoned')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_webhook_deliveries_attempts_non_negative")
        ),
        sa.CheckConstraint(
            "octet_length(response_body) <= 4096",
            name=op.f("ck_webhook_deliveries_response_body_max_4kb"),
        ),
        sa.CheckConstraint(
            "response_code BETWEEN 100 AND 599",
            name=op.f("ck_webhook_deliveries_response_code_http"),
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0", name=op.f("ck_webhook_deliveries_response_time_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "webhook_id"],
            ["webhooks.account_id", "webhooks.id"],
            name=op.f("fk_webhook_deliveries_account_id_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_webhook_deliveries_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_account_id_status_created_at",
        "webhook_deliveries",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_deliveries_account_id_webhook_id_created_at",
        "webhook_deliveries",
        ["account_id", "webhook_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_retry_at",
        "webhook_deliveries",
        ["status", "next_retry_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_table(
        "workflow_executions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column(
            "current_action_index", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("current_action_id", sa.Text(), nullable=True),
        sa.Column(
            "trigger_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "execution_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_action_id", sa.Text(), nullable=True),
        sa.Column("triggered_by", sa.Text(), nullable=False),
        sa.Column("triggered_by_user", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "status <> 'waiting' OR next_action_at IS NOT NULL",
            name=op.f("ck_workflow_executions_waiting_has_next_action_at"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_workflow_executions_status"),
        ),
        sa.CheckConstraint(
            "triggered_by IN ('event', 'schedule', 'manual', 'webhook')",
            name=op.f("ck_workflow_executions_triggered_by"),
        ),
        sa.CheckConstraint(
            "completed_at >= started_at",
            name=op.f("ck_workflow_executions_completed_after_started"),
        ),
        sa.CheckConstraint(
            "current_action_index >= 0",
            name=op.f("ck_workflow_executions_current_action_index_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "workflow_id"],
            ["workflows.account_id", "workflows.id"],
            name=op.f("fk_workflow_executions_account_id_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_workflow_executions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["triggered_by_user"],
            ["users.id"],
            name=op.f("fk_workflow_executions_triggered_by_user_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_workflow_executions")),
    )
    op.create_index(
        "ix_workflow_executions_account_id_status_created_at",
        "workflow_executions",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_workflow_executions_account_id_workflow_id",
        "workflow_executions",
        ["account_id", "workflow_id"],
        unique=False,
    )
    op.create_index(
        "ix_workflow_executions_next_action_at",
        "workflow_executions",
        ["next_action_at"],
        unique=False,
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.create_index(
        "ix_workflow_executions_triggered_by_user",
        "workflow_executions",
        ["triggered_by_user"],
        unique=False,
    )
    op.create_table(
        "workflow_schedules",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("cron_expression", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default=sa.text("'Europe/Rome'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
        sa.CheckConstraint("timezone <> ''", name=op.f("ck_workflow_schedules_timezone_not_empty")),
        sa.CheckConstraint(
            "run_count >= 0", name=op.f("ck_workflow_schedules_run_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "workflow_id"],
            ["workflows.account_id", "workflows.id"],
            name=op.f("fk_workflow_schedules_account_id_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_workflow_schedules_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_workflow_schedules")),
    )
    op.create_index(
        "ix_workflow_schedules_account_id_workflow_id",
        "workflow_schedules",
        ["account_id", "workflow_id"],
        unique=False,
    )
    op.create_index(
        "ix_workflow_schedules_next_run_at",
        "workflow_schedules",
        ["next_run_at"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "content_generations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("generated_content", sa.Text(), nullable=False),
        sa.Column(
            "alternatives",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("ai_provider", sa.Text(), nullable=False),
        sa.Column("ai_model", sa.Text(), nullable=False),
        sa.Column("temperature", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("input_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("quality_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("user_rating", sa.Integer(), nullable=True),
        sa.Column("user_feedback", sa.Text(), nullable=True),
        sa.Column("was_used", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("used_in_post_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "jsonb_typeof(alternatives) = 'array'",
            name=op.f("ck_content_generations_alternatives_array"),
        ),
        sa.CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0 AND total_tokens >= 0",
            name=op.f("ck_content_generations_tokens_non_negative"),
        ),
        sa.CheckConstraint(
            "quality_score BETWEEN 0 AND 100",
            name=op.f("ck_content_generations_quality_score_range"),
        ),
        sa.CheckConstraint(
            "temperature BETWEEN 0 AND 2", name=op.f("ck_content_generations_temperature_range")
        ),
        sa.CheckConstraint(
            "user_rating BETWEEN 1 AND 5", name=op.f("ck_content_generations_user_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "job_id"],
            ["ai_jobs.account_id", "ai_jobs.id"],
            name=op.f("fk_content_generations_account_id_job_id_ai_jobs"),
            ondelete="SET NULL (job_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "used_in_post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_content_generations_account_id_used_in_post_id_scheduled_posts"),
            ondelete="SET NULL (used_in_post_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_content_generations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_content_generations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_content_generations")),
    )
    op.create_index(
        "ix_content_generations_account_id_job_id",
        "content_generations",
        ["account_id", "job_id"],
        unique=False,
    )
    op.create_index(
        "ix_content_generations_account_id_used_in_post_id",
        "content_generations",
        ["account_id", "used_in_post_id"],
        unique=False,
    )
    op.create_index(
        "ix_content_generations_created_by", "content_generations", ["created_by"], unique=False
    )
    op.create_table(
        "cross_posts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("original_post_id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Uuid(), nullable=True),
        sa.Column(
            "platform_posts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "completed_at IS NULL OR status IN ('completed', 'partial', 'failed')",
            name=op.f("ck_cross_posts_completed_at_when_finished"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(platform_posts) = 'array'",
            name=op.f("ck_cross_posts_platform_posts_array"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'publishing', 'completed', 'partial', 'failed')",
            name=op.f("ck_cross_posts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "config_id"],
            ["cross_post_configs.account_id", "cross_post_configs.id"],
            name=op.f("fk_cross_posts_account_id_config_id_cross_post_configs"),
            ondelete="SET NULL (config_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "original_post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_cross_posts_account_id_original_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cross_posts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_cross_posts")),
    )
    op.create_index(
        "ix_cross_posts_account_id_config_id",
        "cross_posts",
        ["account_id", "config_id"],
        unique=False,
    )
    op.create_index(
        "ix_cross_posts_account_id_original_post_id",
        "cross_posts",
        ["account_id", "original_post_id"],
        unique=False,
    )
    op.create_index(
        "ix_cross_posts_account_id_status_created_at",
        "cross_posts",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "document_chunks",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("chunk_text", sa.Text(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("embedding_id", sa.Text(), nullable=True),
        sa.Column("embedding_model", sa.Text(), nullable=True),
        sa.Column("embedding", postgresql.ARRAY(sa.REAL()), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, chunk_text)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "chunk_index >= 0", name=op.f("ck_document_chunks_chunk_index_non_negative")
        ),
        sa.CheckConstraint(
            "chunk_size >= 0", name=op.f("ck_document_chunks_chunk_size_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "document_id"],
            ["knowledge_documents.account_id", "knowledge_documents.id"],
            name=op.f("fk_document_chunks_account_id_document_id_knowledge_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_document_chunks_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_document_chunks")),
        sa.UniqueConstraint(
            "account_id",
            "document_id",
            "chunk_index",
            name=op.f("uq_document_chunks_account_id_document_id_chunk_index"),
        ),
    )
    op.create_index(
        "ix_document_chunks_search_vector",
        "document_chunks",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "image_generations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("negative_prompt", sa.Text(), nullable=True),
        sa.Column("style", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("aspect_ratio", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("ai_provider", sa.Text(), nullable=False),
        sa.Column("ai_model", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("quality_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("user_rating", sa.Integer(), nullable=True),
        sa.Column("was_used", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("used_in_post_id", sa.Integer(), nullable=True),
        sa.Column("media_asset_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "quality_score BETWEEN 0 AND 100", name=op.f("ck_image_generations_quality_score_range")
        ),
        sa.CheckConstraint(
            "user_rating BETWEEN 1 AND 5", name=op.f("ck_image_generations_user_rating_range")
        ),
        sa.CheckConstraint(
            "width > 0 AND height > 0", name=op.f("ck_image_generations_dimensions_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "job_id"],
            ["ai_jobs.account_id", "ai_jobs.id"],
            name=op.f("fk_image_generations_account_id_job_id_ai_jobs"),
            ondelete="SET NULL (job_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "media_asset_id"],
            ["media_assets.account_id", "media_assets.id"],
            name=op.f("fk_image_generations_account_id_media_asset_id_media_assets"),
            ondelete="SET NULL (media_asset_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "used_in_post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_image_generations_account_id_used_in_post_id_scheduled_posts"),
            ondelete="SET NULL (used_in_post_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_image_generations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_image_generations")),
    )
    op.create_index(
        "ix_image_generations_account_id_job_id",
        "image_generations",
        ["account_id", "job_id"],
        unique=False,
    )
    op.create_index(
        "ix_image_generations_account_id_media_asset_id",
        "image_generations",
        ["account_id", "media_asset_id"],
        unique=False,
    )
    op.create_index(
        "ix_image_generations_account_id_used_in_post_id",
        "image_generations",
        ["account_id", "used_in_post_id"],
        unique=False,
    )
    op.create_table(
        "promo_redemptions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("promo_code_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("discount_amount", sa.Integer(), nullable=False),
        sa.Column(
            "redeemed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "discount_amount >= 0", name=op.f("ck_promo_redemptions_discount_amount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "transaction_id"],
            ["token_transactions.account_id", "token_transactions.id"],
            name=op.f("fk_promo_redemptions_account_id_transaction_id_token_transactions"),
            ondelete="SET NULL (transaction_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_promo_redemptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["promo_code_id"],
            ["promo_codes.id"],
            name=op.f("fk_promo_redemptions_promo_code_id_promo_codes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_promo_redemptions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_promo_redemptions")),
        sa.UniqueConstraint(
            "promo_code_id",
            "account_id",
            "transaction_id",
            name=op.f("uq_promo_redemptions_promo_code_id_account_id_transaction_id"),
        ),
    )
    op.create_index(
        "ix_promo_redemptions_account_id_transaction_id",
        "promo_redemptions",
        ["account_id", "transaction_id"],
        unique=False,
    )
    op.create_index("ix_promo_redemptions_user_id", "promo_redemptions", ["user_id"], unique=False)
    op.create_table(
        "sentiment_analysis",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("comment_id", sa.Text(), nullable=True),
        sa.Column("comment_text", sa.Text(), nullable=True),
        sa.Column("comment_author", sa.Text(), nullable=True),
        sa.Column("comment_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sentiment_score", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("sentiment_label", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column(
            "emotions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "keywords", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("ai_model", sa.Text(), nullable=True),
        sa.Column(
            "analyzed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "sentiment_label IN ('positive', 'neutral', 'negative', 'mixed')",
            name=op.f("ck_sentiment_analysis_sentiment_label"),
        ),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_sentiment_analysis_confidence_range")
        ),
        sa.CheckConstraint(
            "sentiment_score BETWEEN -1 AND 1",
            name=op.f("ck_sentiment_analysis_sentiment_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_sentiment_analysis_account_id_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sentiment_analysis_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_sentiment_analysis")),
    )
    op.create_index(
        "ix_sentiment_analysis_account_id_post_id",
        "sentiment_analysis",
        ["account_id", "post_id"],
        unique=False,
    )
    op.create_table(
        "social_comments",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("social_account_id", sa.Uuid(), nullable=True),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("platform_comment_id", sa.Text(), nullable=False),
        sa.Column("parent_comment_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=True),
        sa.Column("author_handle", sa.Text(), nullable=True),
        sa.Column("author_profile_url", sa.Text(), nullable=True),
        sa.Column("comment_text", sa.Text(), nullable=False),
        sa.Column("comment_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("likes_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("replies_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("our_reply_id", sa.Text(), nullable=True),
        sa.Column("our_reply_text", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'new'"), nullable=False),
        sa.Column(
            "requires_attention", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("sentiment_label", sa.Text(), nullable=True),
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
        sa.CheckConstraint(
            "sentiment_label IN ('positive', 'neutral', 'negative', 'mixed')",
            name=op.f("ck_social_comments_sentiment_label"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'read', 'replied', 'hidden', 'spam')",
            name=op.f("ck_social_comments_status"),
        ),
        sa.CheckConstraint(
            "likes_count >= 0 AND replies_count >= 0",
            name=op.f("ck_social_comments_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "parent_comment_id <> id", name=op.f("ck_social_comments_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "parent_comment_id"],
            ["social_comments.account_id", "social_comments.id"],
            name=op.f("fk_social_comments_account_id_parent_comment_id_social_comments"),
            ondelete="SET NULL (parent_comment_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_social_comments_account_id_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "social_account_id"],
            ["social_accounts.account_id", "social_accounts.id"],
            name=op.f("fk_social_comments_account_id_social_account_id_social_accounts"),
            ondelete="SET NULL (social_account_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_social_comments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["replied_by"],
            ["users.id"],
            name=op.f("fk_social_comments_replied_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_social_comments")),
        sa.UniqueConstraint(
            "account_id",
            "platform",
            "platform_comment_id",
            name=op.f("uq_social_comments_account_id_platform_platform_comment_id"),
        ),
    )
    op.create_index(
        "ix_social_comments_account_id_parent_comment_id",
        "social_comments",
        ["account_id", "parent_comment_id"],
        unique=False,
    )
    op.create_index(
        "ix_social_comments_account_id_post_id",
        "social_comments",
        ["account_id", "post_id"],
        unique=False,
    )
    op.create_index(
        "ix_social_comments_account_id_social_account_id",
        "social_comments",
        ["account_id", "social_account_id"],
        unique=False,
    )
    op.create_index(
        "ix_social_comments_account_id_status_created_at",
        "social_comments",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_social_comments_replied_by"), "social_comments", ["replied_by"], unique=False
    )
    op.create_table(
        "social_mentions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("platform_post_id", sa.Text(), nullable=True),
        sa.Column("platform_post_url", sa.Text(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=True),
        sa.Column("author_handle", sa.Text(), nullable=True),
        sa.Column("author_followers", sa.Integer(), nullable=True),
        sa.Column("mention_text", sa.Text(), nullable=True),
        sa.Column("mention_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mention_type", sa.Text(), nullable=True),
        sa.Column("matched_keyword", sa.Text(), nullable=True),
        sa.Column("likes_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("comments_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("shares_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sentiment_label", sa.Text(), nullable=True),
        sa.Column("sentiment_score", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'new'"), nullable=False),
        sa.Column("response_post_id", sa.Integer(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "sentiment_label IN ('positive', 'neutral', 'negative', 'mixed')",
            name=op.f("ck_social_mentions_sentiment_label"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'reviewed', 'responded', 'ignored')",
            name=op.f("ck_social_mentions_status"),
        ),
        sa.CheckConstraint(
            "author_followers >= 0 AND likes_count >= 0 AND comments_count >= 0 AND shares_count >= 0",
            name=op.f("ck_social_mentions_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "sentiment_score BETWEEN -1 AND 1",
            name=op.f("ck_social_mentions_sentiment_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "response_post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_social_mentions_account_id_response_post_id_scheduled_posts"),
            ondelete="SET NULL (response_post_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_social_mentions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_social_mentions")),
        sa.UniqueConstraint(
            "account_id",
            "platform",
            "platform_post_id",
            name=op.f("uq_social_mentions_account_id_platform_platform_post_id"),
        ),
    )
    op.create_index(
        "ix_social_mentions_account_id_response_post_id",
        "social_mentions",
        ["account_id", "response_post_id"],
        unique=False,
    )
    op.create_index(
        "ix_social_mentions_account_id_status_created_at",
        "social_mentions",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "social_metrics",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("platform_post_id", sa.Text(), nullable=True),
        sa.Column("impressions", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reach", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("engagement_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("likes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("comments", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("shares", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("saves", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("video_views", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("engagement_rate", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("click_through_rate", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("conversions", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "conversion_value_cents", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("currency", sa.CHAR(length=3), server_default=sa.text("'EUR'"), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_social_metrics_currency_iso")),
        sa.CheckConstraint(
            "engagement_rate >= 0 AND click_through_rate >= 0",
            name=op.f("ck_social_metrics_rates_non_negative"),
        ),
        sa.CheckConstraint(
            "impressions >= 0 AND reach >= 0 AND engagement_count >= 0 AND likes >= 0 AND comments >= 0 AND shares >= 0 AND saves >= 0 AND clicks >= 0 AND video_views >= 0 AND conversions >= 0 AND conversion_value_cents >= 0",
            name=op.f("ck_social_metrics_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_social_metrics_account_id_post_id_scheduled_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_social_metrics_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_social_metrics")),
        sa.UniqueConstraint(
            "account_id",
            "post_id",
            "platform",
            "measured_at",
            name=op.f("uq_social_metrics_account_id_post_id_platform_measured_at"),
        ),
    )
    op.create_index(
        "ix_social_metrics_account_id_measured_at",
        "social_metrics",
        ["account_id", "measured_at"],
        unique=False,
    )
    op.create_table(
        "video_generations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("negative_prompt", sa.Text(), nullable=True),
        sa.Column("script", sa.Text(), nullable=True),
        sa.Column("style", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("aspect_ratio", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Numeric(precision=10, scale=3), nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("ai_provider", sa.Text(), nullable=False),
        sa.Column("ai_model", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column(
            "progress_percent",
            sa.Numeric(precision=5, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("quality_score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("user_rating", sa.Integer(), nullable=True),
        sa.Column("was_used", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("used_in_post_id", sa.Integer(), nullable=True),
        sa.Column("media_asset_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "status <> 'completed' OR video_url IS NOT NULL",
            name=op.f("ck_video_generations_completed_has_url"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')",
            name=op.f("ck_video_generations_status"),
        ),
        sa.CheckConstraint(
            "duration_seconds > 0", name=op.f("ck_video_generations_duration_positive")
        ),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100",
            name=op.f("ck_video_generations_progress_percent_range"),
        ),
        sa.CheckConstraint(
            "quality_score BETWEEN 0 AND 100", name=op.f("ck_video_generations_quality_score_range")
        ),
        sa.CheckConstraint(
            "user_rating BETWEEN 1 AND 5", name=op.f("ck_video_generations_user_rating_range")
        ),
        sa.CheckConstraint(
            "width > 0 AND height > 0", name=op.f("ck_video_generations_dimensions_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "job_id"],
            ["ai_jobs.account_id", "ai_jobs.id"],
            name=op.f("fk_video_generations_account_id_job_id_ai_jobs"),
            ondelete="SET NULL (job_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "media_asset_id"],
            ["media_assets.account_id", "media_assets.id"],
            name=op.f("fk_video_generations_account_id_media_asset_id_media_assets"),
            ondelete="SET NULL (media_asset_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "used_in_post_id"],
            ["scheduled_posts.account_id", "scheduled_posts.id"],
            name=op.f("fk_video_generations_account_id_used_in_post_id_scheduled_posts"),
            ondelete="SET NULL (used_in_post_id)",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_video_generations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_video_generations")),
    )
    op.create_index(
        "ix_video_generations_account_id_job_id",
        "video_generations",
        ["account_id", "job_id"],
        unique=False,
    )
    op.create_index(
        "ix_video_generations_account_id_media_asset_id",
        "video_generations",
        ["account_id", "media_asset_id"],
        unique=False,
    )
    op.create_index(
        "ix_video_generations_account_id_status_created_at",
        "video_generations",
        ["account_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_video_generations_account_id_used_in_post_id",
        "video_generations",
        ["account_id", "used_in_post_id"],
        unique=False,
    )
    op.create_table(
        "workflow_logs",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("action_id", sa.Text(), nullable=True),
        sa.Column("action_type", sa.Text(), nullable=True),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('debug', 'info', 'warning', 'error')", name=op.f("ck_workflow_logs_level")
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "execution_id"],
            ["workflow_executions.account_id", "workflow_executions.id"],
            name=op.f("fk_workflow_logs_account_id_execution_id_workflow_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_workflow_logs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_workflow_logs")),
    )
    op.create_index(
        "ix_workflow_logs_account_id_execution_id",
        "workflow_logs",
        ["account_id", "execution_id"],
        unique=False,
    )


def _store_embeddings_as_vectors_when_available(bind: sa.engine.Connection) -> None:
    """pgvector's type where the server has the extension (the embedded one does), else the
    model's real[]: everything works on both, similarity search is faster with vector."""
    has_vector = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    ).scalar_one_or_none()
    if has_vector:
        op.execute(
            "ALTER TABLE document_chunks ALTER COLUMN embedding TYPE vector USING embedding::vector"
        )


def _copy_brand_settings_to_brand_dna() -> None:
    op.execute(
        """
        INSERT INTO brand_dna (account_id, company_name, tagline, brand_story, tone_of_voice,
                               primary_color, secondary_colors, logo_url, font_family,
                               target_demographics, keywords, created_at, updated_at)
        SELECT account_id, company_name, tagline, description, tone_of_voice,
               primary_color,
               CASE WHEN secondary_color IS NULL THEN '{}'::text[]
                    ELSE ARRAY[secondary_color] END,
               logo_url, font_family,
               CASE WHEN target_audience IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('description', target_audience) END,
               keywords, created_at, updated_at
        FROM brand_settings
        """
    )


def _seed_service_pricing() -> None:
    """The default price list, effective from the day of the upgrade."""
    table = sa.table(
        "service_pricing",
        sa.column("service_type", sa.Text()),
        sa.column("service_subtype", sa.Text()),
        sa.column("token_cost", sa.Integer()),
        sa.column("name", sa.Text()),
    )
    op.bulk_insert(
        table,
        [
            {"service_type": kind, "service_subtype": subtype, "token_cost": cost, "name": name}
            for kind, subtype, cost, name in DEFAULT_PRICES
        ],
    )


def _isolate_tenants(bind: sa.engine.Connection) -> None:
    """Row-level security on every table with an account_id, partitions included."""
    tables = bind.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'account_id' "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND c.relname <> 'feature_flags' ORDER BY c.relname"
        )
    ).scalars()
    for table in list(tables):
        enable_tenant_isolation(bind, table)
    # global defaults (account_id NULL) are visible to every account; writes only its own
    op.execute("ALTER TABLE feature_flags ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE feature_flags FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON feature_flags "
        "USING (account_id IS NULL OR account_id = "
        "nullif(current_setting('app.current_account_id', true), '')::uuid) "
        "WITH CHECK (account_id = "
        "nullif(current_setting('app.current_account_id', true), '')::uuid)"
    )


def _limit_app_privileges() -> None:
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE, DELETE ON {table} FROM {APP_ROLE}")
    for table in GLOBAL_NO_DELETE:
        op.execute(f"REVOKE DELETE ON {table} FROM {APP_ROLE}")
    # v1 brand profiles are superseded by brand_dna: kept for reference, read-only
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON brand_settings FROM {APP_ROLE}")
    # domain events: appended by services, marked processed by the relay, never deleted
    op.execute(f"REVOKE DELETE ON domain_events FROM {APP_ROLE}")


def _restore_app_privileges() -> None:
    for table in (*APPEND_ONLY, *GLOBAL_NO_DELETE, "brand_settings"):
        if table in NEW_TABLES:
            continue
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
