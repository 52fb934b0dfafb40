"""Billing: the ledger, pricing, promo codes and referrals.

Each account gets a referral code of its own (``referral_codes``, a tenant table) and
``referral_program`` keeps one row per referral: the code stops being unique there (an
account's code refers many accounts) and the referred account becomes unique (an account
is referred once). Sign-up must find a code's owner before any tenant is set, so
``billing_referral_code_owner`` answers exactly that, as the owner.

Revision ID: 0012_billing_ledger
Revises: 0011_flags_async_jobs
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from markettina.kernel.db.schema_support import (
    disable_tenant_isolation,
    enable_tenant_isolation,
)

revision: str = "0012_billing_ledger"
down_revision: str | None = "0011_flags_async_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

CODE_OWNER = """
CREATE FUNCTION billing_referral_code_owner(p_code text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.account_id FROM referral_codes c JOIN accounts a ON a.id = c.account_id
    WHERE c.code = upper(btrim(p_code)) AND a.deleted_at IS NULL
$$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    # SELECT ... FOR UPDATE needs an UPDATE privilege on some column: the ledger locks the
    # wallet before it checks and appends. updated_at is the trigger's anyway; balances stay
    # out of the app's reach.
    op.execute(f"GRANT UPDATE (updated_at) ON token_wallets TO {APP_ROLE}")
    op.create_table(
        "referral_codes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_referral_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("account_id", name=op.f("uq_referral_codes_account_id")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )
    enable_tenant_isolation(bind, "referral_codes")
    # a code, once given out, stays the account's
    op.execute(f"REVOKE UPDATE, DELETE ON referral_codes FROM {APP_ROLE}")
    op.execute(CODE_OWNER)
    op.execute("REVOKE EXECUTE ON FUNCTION billing_referral_code_owner(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION billing_referral_code_owner(text) TO {APP_ROLE}")

    op.drop_constraint("uq_referral_program_referral_code", "referral_program", type_="unique")
    op.create_index("ix_referral_program_referral_code", "referral_program", ["referral_code"])
    op.drop_index("ix_referral_program_referred_account_id", table_name="referral_program")
    op.create_index(
        "uq_referral_program_referred_account_id",
        "referral_program",
        ["referred_account_id"],
        unique=True,
    )
    op.create_index(
        "ix_referral_program_pending_expires_at",
        "referral_program",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_referral_program_pending_expires_at", table_name="referral_program")
    op.drop_index("uq_referral_program_referred_account_id", table_name="referral_program")
    op.create_index(
        "ix_referral_program_referred_account_id", "referral_program", ["referred_account_id"]
    )
    op.drop_index("ix_referral_program_referral_code", table_name="referral_program")
    # several referrals made with one code: only the first keeps it, as the unique code needs
    op.execute(
        "UPDATE referral_program r SET referral_code = r.referral_code || '-' || r.id"
        " WHERE EXISTS (SELECT 1 FROM referral_program o WHERE o.referral_code = r.referral_code"
        " AND (o.created_at, o.id) < (r.created_at, r.id))"
    )
    op.create_unique_constraint(
        "uq_referral_program_referral_code", "referral_program", ["referral_code"]
    )
    op.execute("DROP FUNCTION billing_referral_code_owner(text)")
    disable_tenant_isolation(bind, "referral_codes")
    op.drop_table("referral_codes")
    op.execute(f"REVOKE UPDATE (updated_at) ON token_wallets FROM {APP_ROLE}")
