"""Sign-in state of the identity context: refresh-token families, one-time e-mail links,
account invitations, login throttling on users and suspension of accounts; plus the two
narrow look-ups the request pipeline needs before it knows the tenant.

Revision ID: 0006_identity_sign_in
Revises: 0005_read_models
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

revision: str = "0006_identity_sign_in"
down_revision: str | None = "0005_read_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# Before the tenant is known the pipeline must find a user's memberships and an API key by
# its prefix; both tables are tenant tables. These functions answer exactly that, as the
# owner, and nothing else.
LOOKUPS = """
CREATE FUNCTION identity_memberships(p_user_id integer)
RETURNS TABLE (account_id uuid, role text, parent_account_id uuid, suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.account_id, m.role, a.parent_account_id,
           a.suspended_at IS NOT NULL OR NOT a.is_active
    FROM account_memberships m JOIN accounts a ON a.id = m.account_id
    WHERE m.user_id = p_user_id AND a.deleted_at IS NULL
    ORDER BY m.created_at, m.account_id
$$;

CREATE FUNCTION identity_api_key(p_prefix text)
RETURNS TABLE (account_id uuid, id uuid, key_hash text, scopes text[],
               expires_at timestamptz, revoked_at timestamptz, suspended boolean,
               deleted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT k.account_id, k.id, k.key_hash, k.scopes, k.expires_at, k.revoked_at,
           a.suspended_at IS NOT NULL OR NOT a.is_active, a.deleted_at IS NOT NULL
    FROM api_keys k JOIN accounts a ON a.id = k.account_id
    WHERE k.prefix = p_prefix
$$;
"""


def upgrade() -> None:
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')", name=op.f("ck_user_tokens_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_tokens_token_hash")),
    )
    op.create_index("ix_user_tokens_user_id", "user_tokens", ["user_id"], unique=False)
    op.create_table(
        "account_invitations",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'editor', 'viewer')",
            name=op.f("ck_account_invitations_role"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["users.id"],
            name=op.f("fk_account_invitations_accepted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_invitations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_account_invitations_invited_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_account_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_invitations_token_hash")),
    )
    op.create_index(
        "ix_account_invitations_accepted_by", "account_invitations", ["accepted_by"], unique=False
    )
    op.create_index(
        "ix_account_invitations_invited_by", "account_invitations", ["invited_by"], unique=False
    )
    op.create_index(
        "uq_account_invitations_open_email",
        "account_invitations",
        ["account_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_account_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_account_id"],
            ["accounts.id"],
            name=op.f("fk_refresh_tokens_session_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False)
    op.create_index(
        "ix_refresh_tokens_session_account_id",
        "refresh_tokens",
        ["session_account_id"],
        unique=False,
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], unique=False)
    op.add_column("accounts", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "users",
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))

    enable_tenant_isolation(op.get_bind(), "account_invitations")
    for table in ("refresh_tokens", "user_tokens"):
        op.execute(f"REVOKE DELETE ON {table} FROM {APP_ROLE}")
    op.execute(LOOKUPS)
    for function in ("identity_memberships(integer)", "identity_api_key(text)"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION identity_api_key(text)")
    op.execute("DROP FUNCTION identity_memberships(integer)")
    disable_tenant_isolation(op.get_bind(), "account_invitations")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_login_count")
    op.drop_column("accounts", "suspended_at")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_session_account_id", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "uq_account_invitations_open_email",
        table_name="account_invitations",
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.drop_index("ix_account_invitations_invited_by", table_name="account_invitations")
    op.drop_index("ix_account_invitations_accepted_by", table_name="account_invitations")
    op.drop_table("account_invitations")
    op.drop_index("ix_user_tokens_user_id", table_name="user_tokens")
    op.drop_table("user_tokens")
