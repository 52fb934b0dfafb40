"""Billing: Stripe checkout, payments and invoices. Gap-free invoice numbers (a counter row
per calendar year), credit notes (negative invoices naming the invoice they credit), the
VAT rate on each invoice, the refund bookkeeping of payments, the billing details an
account keeps, and the one cross-tenant look-up a Stripe refund needs (its account).

Revision ID: 0013_billing_checkout
Revises: 0012_billing_ledger
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from markettina.kernel.db.schema_support import disable_tenant_isolation, enable_tenant_isolation

revision: str = "0013_billing_checkout"
down_revision: str | None = "0012_billing_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

# A refund or a dispute names a payment intent, not an account: the webhook asks this
# (as the owner, past row-level security) whose payment it is, and nothing more.
PAYMENT_ACCOUNT = """
CREATE FUNCTION billing_payment_account(p_payment_intent_id text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT account_id FROM payments WHERE stripe_payment_intent_id = p_payment_intent_id
$$;
"""

PAYMENT_COLUMNS = (
    "bonus_tokens", "amount_refunded_cents", "amount_disputed_cents", "tokens_reversed",
    "tokens_shortfall",
)  # fmt: skip


def upgrade() -> None:
    op.alter_column("payments", "user_id", existing_type=sa.Integer(), nullable=True)
    for column in PAYMENT_COLUMNS:
        op.add_column(
            "payments",
            sa.Column(column, sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    op.add_column("payments", sa.Column("promo_code", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_payments_token_counts_non_negative"),
        "payments",
        "bonus_tokens >= 0 AND tokens_reversed >= 0 AND tokens_shortfall >= 0"
        " AND tokens_shortfall <= tokens_reversed",
    )
    op.create_check_constraint(
        op.f("ck_payments_reversals_non_negative"),
        "payments",
        "amount_refunded_cents >= 0 AND amount_disputed_cents >= 0",
    )

    op.add_column(
        "invoices",
        sa.Column("kind", sa.Text(), server_default=sa.text("'invoice'"), nullable=False),
    )
    op.add_column("invoices", sa.Column("credits_invoice_id", sa.Uuid(), nullable=True))
    op.add_column("invoices", sa.Column("tax_rate", sa.Numeric(5, 4), nullable=True))
    op.drop_constraint(op.f("ck_invoices_amounts_non_negative"), "invoices", type_="check")
    op.create_check_constraint(op.f("ck_invoices_kind"), "invoices",
                               "kind IN ('invoice', 'credit_note')")  # fmt: skip
    op.create_check_constraint(
        op.f("ck_invoices_amounts_by_kind"),
        "invoices",
        "(kind = 'invoice' AND subtotal_cents >= 0 AND tax_cents >= 0)"
        " OR (kind = 'credit_note' AND subtotal_cents <= 0 AND tax_cents <= 0"
        " AND credits_invoice_id IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_invoices_tax_rate_fraction"), "invoices", "tax_rate >= 0 AND tax_rate <= 1"
    )
    op.create_foreign_key(
        op.f("fk_invoices_account_id_credits_invoice_id_invoices"),
        "invoices",
        "invoices",
        ["account_id", "credits_invoice_id"],
        ["account_id", "id"],
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_invoices_account_id_credits_invoice_id",
        "invoices",
        ["account_id", "credits_invoice_id"],
    )
    op.create_index(
        "ix_invoices_account_id_payment_intent_id", "invoices", ["account_id", "payment_intent_id"]
    )

    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_invoice_counters_last_number_non_negative")
        ),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_invoice_counters")),
    )
    # numbers are legal identity: taken, never given back or removed
    op.execute(f"REVOKE DELETE, TRUNCATE ON invoice_counters FROM {APP_ROLE}")

    op.create_table(
        "billing_details",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("vat_id", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_billing_details_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_billing_details")),
    )  # fmt: skip
    op.execute(
        "CREATE TRIGGER touch_updated_at BEFORE UPDATE ON billing_details "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )
    enable_tenant_isolation(op.get_bind(), "billing_details")

    op.execute(PAYMENT_ACCOUNT)
    op.execute("REVOKE EXECUTE ON FUNCTION billing_payment_account(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION billing_payment_account(text) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION billing_payment_account(text)")
    disable_tenant_isolation(op.get_bind(), "billing_details")
    op.drop_table("billing_details")
    op.drop_table("invoice_counters")

    op.drop_index("ix_invoices_account_id_payment_intent_id", table_name="invoices")
    op.drop_index("ix_invoices_account_id_credits_invoice_id", table_name="invoices")
    op.drop_constraint(
        op.f("fk_invoices_account_id_credits_invoice_id_invoices"), "invoices", type_="foreignkey"
    )
    # credit notes cannot survive the old rules: they go with the columns that made them
    op.execute("DELETE FROM invoices WHERE kind = 'credit_note'")
    for check in ("tax_rate_fraction", "amounts_by_kind", "kind"):
        op.drop_constraint(op.f(f"ck_invoices_{check}"), "invoices", type_="check")
    op.create_check_constraint(
        op.f("ck_invoices_amounts_non_negative"),
        "invoices",
        "subtotal_cents >= 0 AND tax_cents >= 0",
    )
    for column in ("tax_rate", "credits_invoice_id", "kind"):
        op.drop_column("invoices", column)

    op.drop_constraint(op.f("ck_payments_reversals_non_negative"), "payments", type_="check")
    op.drop_constraint(op.f("ck_payments_token_counts_non_negative"), "payments", type_="check")
    op.drop_column("payments", "promo_code")
    for column in reversed(PAYMENT_COLUMNS):
        op.drop_column("payments", column)
    # payments started by an API key have no person; v1's rule cannot hold for them
    op.execute("DELETE FROM payments WHERE user_id IS NULL")
    op.alter_column("payments", "user_id", existing_type=sa.Integer(), nullable=False)
