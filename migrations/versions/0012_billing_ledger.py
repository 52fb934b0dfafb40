"""Billing: the ledger, pricing, promo codes and referrals (filled by that work).

Revision ID: 0012_billing_ledger
Revises: 0011_flags_async_jobs
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0012_billing_ledger"
down_revision: str | None = "0011_flags_async_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
