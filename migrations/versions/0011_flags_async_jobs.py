"""Feature flags and async jobs (filled by that work).

Revision ID: 0011_flags_async_jobs
Revises: 0010_idempotency_rate_limits
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0011_flags_async_jobs"
down_revision: str | None = "0010_idempotency_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
