"""Idempotency keys and rate limits (filled by that work).

Revision ID: 0010_idempotency_rate_limits
Revises: 0009_webhook_deliveries
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0010_idempotency_rate_limits"
down_revision: str | None = "0009_webhook_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
