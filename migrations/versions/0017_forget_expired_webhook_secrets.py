"""The daily upkeep that forgets webhook signing secrets replaced by a rotation once their
grace period is over (0016 keeps them, encrypted, only while they still sign): a named
maintenance function, which only the owner executes, like the other purges.

The version is left alone (``bump_version`` does not watch these columns): nothing a
client holds changes.

Revision ID: 0017_forget_webhook_secrets
Revises: 0016_webhook_secret_grace
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_forget_webhook_secrets"
down_revision: str | None = "0016_webhook_secret_grace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
FORGET = "forget_expired_webhook_secrets()"

FUNCTION = """
CREATE FUNCTION forget_expired_webhook_secrets() RETURNS bigint
LANGUAGE sql AS $$
    WITH forgotten AS (
        UPDATE webhooks
        SET previous_secret_encrypted = NULL, previous_secret_expires_at = NULL
        WHERE previous_secret_expires_at <= now()
        RETURNING 1
    )
    SELECT count(*) FROM forgotten
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FORGET} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {FORGET}")
