"""Billing: Stripe checkout, payments and invoices (filled by that work).

Revision ID: 0013_billing_checkout
Revises: 0012_billing_ledger
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0013_billing_checkout"
down_revision: str | None = "0012_billing_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
