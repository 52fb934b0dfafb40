"""The daily upkeep of sign-in tokens, which would otherwise pile up for ever: every
refresh of a session adds a token, and every link sent a row.

``purge_expired_sign_in_tokens()`` deletes, once they have been expired for a week:

- the sessions that ended (every token of the family expired);
- within a live session, the used tokens, except the session's first one (the person's
  sessions list shows when it signed in);
- the e-mail links (verification, password reset).

A token presented after it expired is refused whether or not its row is still there. The
app role may not delete these rows (0006); this is a maintenance function, which only the
owner executes, like the other purges.

Revision ID: 0018_purge_sign_in_tokens
Revises: 0017_forget_webhook_secrets
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_purge_sign_in_tokens"
down_revision: str | None = "0017_forget_webhook_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
PURGE = "purge_expired_sign_in_tokens()"

FUNCTION = """
CREATE FUNCTION purge_expired_sign_in_tokens() RETURNS bigint
LANGUAGE sql AS $$
    WITH ended AS (
        DELETE FROM refresh_tokens r
        WHERE r.expires_at < now() - interval '7 days'
          AND NOT EXISTS (
              SELECT 1 FROM refresh_tokens l
              WHERE l.family_id = r.family_id AND l.expires_at >= now() - interval '7 days'
          )
        RETURNING 1
    ), rotated AS (
        DELETE FROM refresh_tokens r
        WHERE r.used_at IS NOT NULL
          AND r.expires_at < now() - interval '7 days'
          AND EXISTS (
              SELECT 1 FROM refresh_tokens l
              WHERE l.family_id = r.family_id AND l.expires_at >= now() - interval '7 days'
          )
          AND r.issued_at > (
              SELECT min(f.issued_at) FROM refresh_tokens f WHERE f.family_id = r.family_id
          )
        RETURNING 1
    ), links AS (
        DELETE FROM user_tokens WHERE expires_at < now() - interval '7 days'
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ended) + (SELECT count(*) FROM rotated)
         + (SELECT count(*) FROM links)
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {PURGE} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {PURGE}")
