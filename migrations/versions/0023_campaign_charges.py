"""Charges against a campaign's token budget: the ledger moves ``campaigns.spent_tokens``.

- ``token_transactions.campaign_id`` names the campaign a charge (and the refund of that
  charge) was for, a tenant reference to ``campaigns`` (no cascade: campaigns are
  soft-deleted, and the ledger keeps its history).
- ``apply_campaign_charge()`` (BEFORE INSERT on ``token_transactions``, for an entry that
  names a campaign) moves the campaign's ``spent_tokens`` by the entry's amount (a charge
  adds its tokens, its refund takes them back), as ``apply_token_transaction`` moves the
  wallet: the entry and the spent tokens are written by one statement, so they can never
  diverge, and ``ck_campaigns_spent_within_budget`` turns an overspend into an error that
  aborts the statement. SECURITY DEFINER: the application may no longer write
  ``spent_tokens`` itself (its INSERT and UPDATE privileges on ``campaigns`` name every
  other column).
- ``bump_version`` on ``campaigns`` no longer fires for a change of ``spent_tokens`` alone:
  a charge is not an edit, and an editor's version must not go stale because work was
  charged meanwhile.

Revision ID: 0023_campaign_charges
Revises: 0022_original_columns
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_campaign_charges"
down_revision: str | None = "0022_original_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# every column of campaigns but spent_tokens (which only the ledger moves)
WRITABLE = (
    "account_id, id, name, description, start_date, end_date, status, target_reach,"
    " target_engagement, target_conversions, target_leads, budget_tokens, tags, created_by,"
    " created_at, updated_at, deleted_at, deleted_by, version"
)

APPLY_CAMPAIGN_CHARGE = """
CREATE FUNCTION apply_campaign_charge() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE campaigns SET spent_tokens = spent_tokens - NEW.amount
    WHERE account_id = NEW.account_id AND id = NEW.campaign_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign % does not exist in this account', NEW.campaign_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'token_transactions',
                  CONSTRAINT = 'fk_token_transactions_account_id_campaign_id_campaigns';
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.add_column("token_transactions", sa.Column("campaign_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_token_transactions_account_id_campaign_id_campaigns"),
        "token_transactions",
        "campaigns",
        ["account_id", "campaign_id"],
        ["account_id", "id"],
    )
    op.create_index(
        "ix_token_transactions_account_id_campaign_id",
        "token_transactions",
        ["account_id", "campaign_id"],
        postgresql_where=sa.text("campaign_id IS NOT NULL"),
    )
    op.execute(APPLY_CAMPAIGN_CHARGE)
    op.execute(
        "CREATE TRIGGER apply_campaign_charge BEFORE INSERT ON token_transactions "
        "FOR EACH ROW WHEN (NEW.campaign_id IS NOT NULL) "
        "EXECUTE FUNCTION apply_campaign_charge()"
    )
    op.execute("DROP TRIGGER bump_version ON campaigns")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON campaigns FOR EACH ROW "
        "WHEN (OLD.spent_tokens IS NOT DISTINCT FROM NEW.spent_tokens) "
        "EXECUTE FUNCTION bump_version()"
    )
    op.execute(f"REVOKE INSERT, UPDATE ON campaigns FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT ({WRITABLE}), UPDATE ({WRITABLE}) ON campaigns TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE INSERT ({WRITABLE}), UPDATE ({WRITABLE}) ON campaigns FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT, UPDATE ON campaigns TO {APP_ROLE}")
    op.execute("DROP TRIGGER bump_version ON campaigns")
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON campaigns "
        "FOR EACH ROW EXECUTE FUNCTION bump_version()"
    )
    op.execute("DROP TRIGGER apply_campaign_charge ON token_transactions")
    op.execute("DROP FUNCTION apply_campaign_charge()")
    op.drop_index("ix_token_transactions_account_id_campaign_id", table_name="token_transactions")
    op.drop_constraint(
        op.f("fk_token_transactions_account_id_campaign_id_campaigns"),
        "token_transactions",
        type_="foreignkey",
    )
    op.drop_column("token_transactions", "campaign_id")
